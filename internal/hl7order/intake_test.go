package hl7order

import (
	"context"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/hl7"
	"lightbox/internal/order"
)

func TestHL7ORMLifecycle(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := &order.Service{DB: d}
		c := startMLLP(t, NewHL7Handler(svc, lookup))

		base := ormOpts{accession: "ACC1001", procedure: "70450", reason: "CODE STROKE left weakness", priority: "S"}
		ack, err := c.SendMessage(ctx, buildORM(base))
		if err != nil {
			t.Fatal(err)
		}
		if got := ack.Type(); got.Code != "ORR" || got.Trigger != "O02" {
			t.Fatalf("response type %v, want ORR^O02", got)
		}
		r, _ := hl7.ReadAck(ack)
		if r.Code != hl7.AckAA {
			t.Fatalf("ack %s %v", r.Code, r.Errors)
		}
		if ack.Get("ORC-1") != "OK" || !strings.HasPrefix(ack.Get("ORC-3"), "ord_") {
			t.Fatalf("ORR ORC: %q %q", ack.Get("ORC-1"), ack.Get("ORC-3"))
		}
		o, err := svc.ByAccession(ctx, "fac-a", "ACC1001")
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != order.StatusProtocolPending || o.Priority != order.PrioritySTAT || !o.Stroke || o.Trauma || !o.Medicare ||
			o.Patient.ID != "MRN123" || o.Patient.Issuer != "HOSPA" || o.Patient.Name != "DOE^JANE" || o.Patient.BirthDate != "19700101" ||
			o.ProcedureCode != "70450" || o.ProcedureSystem != "CPT" || o.Ordering.ID != "1234567890" || o.Ordering.IDType != "NPI" ||
			o.Ordering.Phone != "(555)555-0100" || o.LocationState != "IL" || o.PlacerOrder != "PLACC1001" || o.PatientPK == 0 || o.Modality != "CT" {
			t.Fatalf("stored order: %+v", o)
		}
		// ORC-9 202611220825 without offset is read in the facility's zone (America/Chicago, UTC-6).
		if want := time.Date(2026, 11, 22, 14, 25, 0, 0, time.UTC); !o.OrderedAt.Equal(want) {
			t.Fatalf("T0 = %v, want %v", o.OrderedAt, want)
		}
		if want := time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC); !o.RequestedAt.Equal(want) {
			t.Fatalf("requested = %v, want %v", o.RequestedAt, want)
		}
		// A re-sent NW is idempotent.
		if r := send(t, c, buildORM(base)); r.Code != hl7.AckAA {
			t.Fatalf("resend: %s", r.Code)
		}
		if n := dbtest.Count(t, d, "SELECT COUNT(*) FROM orders"); n != 1 {
			t.Fatalf("%d orders", n)
		}

		step := func(orc1, wantCtl string, want order.Status) {
			t.Helper()
			opts := base
			opts.orc1 = orc1
			if orc1 == hl7.OrderChange {
				opts.procedure = "70460"
			}
			ack, err := c.SendMessage(ctx, buildORM(opts))
			if err != nil {
				t.Fatal(err)
			}
			r, _ := hl7.ReadAck(ack)
			if r.Code != hl7.AckAA || ack.Get("ORC-1") != wantCtl {
				t.Fatalf("%s: ack %s ORC-1 %q %v", orc1, r.Code, ack.Get("ORC-1"), r.Errors)
			}
			o, err := svc.ByAccession(ctx, "fac-a", "ACC1001")
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != want {
				t.Fatalf("%s: status %s, want %s", orc1, o.Status, want)
			}
		}
		step(hl7.OrderChange, hl7.OrderChanged, order.StatusProtocolPending)
		step(hl7.OrderHold, hl7.OrderHeld, order.StatusOnHold)
		step(hl7.OrderRelease, hl7.OrderReleased, order.StatusProtocolPending)
		step(hl7.OrderCancel, hl7.OrderCanceled, order.StatusCancelled)
		o, _ = svc.ByAccession(ctx, "fac-a", "ACC1001")
		if o.ProcedureCode != "70460" {
			t.Fatalf("XO not applied: %s", o.ProcedureCode)
		}
		evs, err := svc.Events(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		var tos []string
		for _, e := range evs {
			tos = append(tos, string(e.To))
		}
		if got := strings.Join(tos, ","); got != "requested,protocol_pending,protocol_pending,on_hold,protocol_pending,cancelled" {
			t.Fatalf("events %s", got)
		}
		// Hold on a cancelled order: UA with AE, dead-lettered.
		opts := base
		opts.orc1 = hl7.OrderHold
		ack, err = c.SendMessage(ctx, buildORM(opts))
		if err != nil {
			t.Fatal(err)
		}
		r, _ = hl7.ReadAck(ack)
		if r.Code != hl7.AckAE || ack.Get("ORC-1") != hl7.OrderUnableToAccept {
			t.Fatalf("hold cancelled: %s %q", r.Code, ack.Get("ORC-1"))
		}
		if n := dbtest.Count(t, d, "SELECT COUNT(*) FROM hl7_dead_letter"); n != 1 {
			t.Fatalf("dead letters %d", n)
		}
	})
}

func TestHL7OMI(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := &order.Service{DB: d}
		c := startMLLP(t, NewHL7Handler(svc, lookup))
		m := buildORM(ormOpts{msgType: hl7.MSG{Code: "OMI", Trigger: "O23", Structure: "OMI_O23"}, accession: "ACC2001", procedure: "71250",
			withIPC: true, priority: "A", reason: "TRAUMA ACTIVATION"})
		ack, err := c.SendMessage(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := hl7.ReadAck(ack)
		if r.Code != hl7.AckAA || ack.Type().Code != "ORI" || ack.Get("IPC-1") != "ACC2001" {
			t.Fatalf("ack %s type %v ipc %q errs %v", r.Code, ack.Type(), ack.Get("IPC-1"), r.Errors)
		}
		o, err := svc.ByAccession(ctx, "fac-a", "ACC2001")
		if err != nil {
			t.Fatal(err)
		}
		if o.StudyUID != "1.2.3.4.ACC2001" || o.StationAE != "CT1" || o.Modality != "CT" || o.Priority != order.PriorityASAP || !o.Trauma ||
			o.RequestedProcID != "RP1" || o.SPSID != "SPS1" {
			t.Fatalf("OMI order %+v", o)
		}
		if want := time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC); !o.RequestedAt.Equal(want) {
			t.Fatalf("TQ1-7 requested %v", o.RequestedAt)
		}
	})
}

func TestHL7ADT(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := &order.Service{DB: d}
		c := startMLLP(t, NewHL7Handler(svc, lookup))
		if r := send(t, c, buildORM(ormOpts{accession: "ACC3001", procedure: "70450"})); r.Code != hl7.AckAA {
			t.Fatal(r.Code)
		}
		m := hl7.NewMessage(hl7.MSH{SendingFacility: hl7.HD{NamespaceID: "HOSPA"}, MessageType: hl7.MSG{Code: "ADT", Trigger: "A08", Structure: "ADT_A01"}, Version: "2.5.1"})
		m.Add(hl7.EVN{RecordedDateTime: hl7.MustParseTime("20261122")})
		m.Add(hl7.PID{SetID: "1", Identifiers: []hl7.CX{{ID: "MRN123", AssigningAuthority: hl7.HD{NamespaceID: "HOSPA"}}},
			Names: []hl7.XPN{{Family: "DOE", Given: "JANET"}}, DateOfBirth: hl7.MustParseTime("19700101"), Sex: "F"})
		m.Add(hl7.PV1{SetID: "1", PatientClass: "O"})
		if r := send(t, c, m); r.Code != hl7.AckAA {
			t.Fatalf("A08: %s %v", r.Code, r.Errors)
		}
		var name string
		if err := d.QueryRow(ctx, "SELECT name FROM patient WHERE issuer = 'HOSPA' AND patient_id = 'MRN123'").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if name != "DOE^JANET" {
			t.Fatalf("name %q", name)
		}
		if n := dbtest.Count(t, d, "SELECT COUNT(*) FROM patient_conflict WHERE field = 'name'"); n != 1 {
			t.Fatalf("conflicts %d", n)
		}
	})
}

func TestHL7Rejections(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		svc := &order.Service{DB: d}
		c := startMLLP(t, NewHL7Handler(svc, lookup))
		oru := buildORM(ormOpts{accession: "X1", procedure: "70450"})
		_ = oru.Set("MSH-9-1", "ORU")
		_ = oru.Set("MSH-9-2", "R01")
		cases := []struct {
			name    string
			m       *hl7.Message
			code    hl7.AckCode
			errCode hl7.ErrorCode
			seg     string
			field   int
		}{
			{"missing accession", buildORM(ormOpts{procedure: "70450", placer: "P9"}), hl7.AckAE, hl7.CodeRequiredFieldMissing, "OBR", 18},
			{"missing procedure", buildORM(ormOpts{accession: "A9"}), hl7.AckAE, hl7.CodeRequiredFieldMissing, "OBR", 4},
			{"missing PID-3", buildORM(ormOpts{accession: "A8", procedure: "70450", noPID3: true}), hl7.AckAE, hl7.CodeRequiredFieldMissing, "PID", 3},
			{"unknown facility", buildORM(ormOpts{accession: "A7", procedure: "70450", sender: "NOWHERE"}), hl7.AckAR, hl7.CodeUnknownKey, "MSH", 4},
			{"unknown type", oru, hl7.AckAR, hl7.CodeUnsupportedMessageType, "MSH", 9},
			{"cancel unknown", buildORM(ormOpts{accession: "NOPE", procedure: "70450", orc1: hl7.OrderCancel}), hl7.AckAE, hl7.CodeUnknownKey, "OBR", 18},
		}
		for i, tc := range cases {
			r := send(t, c, tc.m)
			if r.Code != tc.code || len(r.Errors) == 0 {
				t.Fatalf("%s: ack %s errors %v", tc.name, r.Code, r.Errors)
			}
			e := r.Errors[0]
			if e.Code != tc.errCode || e.Segment != tc.seg || e.Field != tc.field {
				t.Fatalf("%s: ERR %d %s-%d, want %d %s-%d", tc.name, e.Code, e.Segment, e.Field, tc.errCode, tc.seg, tc.field)
			}
			if n := dbtest.Count(t, d, "SELECT COUNT(*) FROM hl7_dead_letter"); n != i+1 {
				t.Fatalf("%s: %d dead letters", tc.name, n)
			}
		}
		dl, err := svc.DeadLetters(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(dl) != len(cases) || len(dl[0].Raw) == 0 || dl[0].Location == "" {
			t.Fatalf("dead letters %+v", dl[0])
		}
		if n := dbtest.Count(t, d, "SELECT COUNT(*) FROM orders"); n != 0 {
			t.Fatalf("%d orders stored", n)
		}
	})
}
