package hl7order

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/hl7"
	"lightbox/internal/order"
	"lightbox/internal/outbox"
)

// The order flow from intake to MPPS, with the ORM status messages the
// outbox notifier queues for a facility that has an HL7 endpoint.
func TestProtocolAndWorklist(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
		svc := &order.Service{DB: d, Now: func() time.Time { return clock }, Notify: OutboxNotifier("LIGHTBOX")}
		if err := outbox.SetEndpoint(ctx, d, outbox.Endpoint{FacilityID: "fac-a", Kind: "hl7", Address: "127.0.0.1:1"}); err != nil {
			t.Fatal(err)
		}
		ids := map[string]string{}
		for _, x := range []struct {
			fac, acc string
			p        order.Priority
		}{{"fac-a", "R1", order.PriorityRoutine}, {"fac-a", "S1", order.PrioritySTAT}, {"fac-b", "A1", order.PriorityASAP}, {"fac-a", "R2", order.PriorityRoutine}} {
			o, created, err := svc.Intake(ctx, order.Order{FacilityID: x.fac, Accession: x.acc, PlacerOrder: "P" + x.acc, Patient: order.Patient{ID: "PID-" + x.acc, Name: "ROE^RICHARD", BirthDate: "19800202", Sex: "M"},
				ProcedureCode: "70450", ProcedureSystem: "CPT", Priority: x.p, Modality: "CT", OrderedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)})
			if err != nil || !created {
				t.Fatal(err, created)
			}
			ids[x.acc] = o.ID
		}
		if _, _, err := svc.Intake(ctx, order.Order{FacilityID: "fac-a", Accession: "R1", Patient: order.Patient{ID: "other"}, ProcedureCode: "1"}); !errors.Is(err, order.ErrDuplicate) {
			t.Fatalf("duplicate accession: %v", err)
		}
		q, err := svc.ProtocolQueue(ctx, []string{"fac-a"})
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 3 || q[0].Accession != "S1" {
			t.Fatalf("queue %v", q)
		}
		all, _ := svc.ProtocolQueue(ctx, nil)
		none, _ := svc.ProtocolQueue(ctx, []string{})
		if len(all) != 4 || len(none) != 0 {
			t.Fatalf("queue all %d none %d", len(all), len(none))
		}
		clock = clock.Add(10 * time.Minute)
		sched := time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
		o, err := svc.Approve(ctx, ids["S1"], order.Protocol{Code: "CTH-STROKE", Text: "CT head stroke", Contrast: "none", StationAE: "CT1", ScheduledAt: sched}, "dr.rad")
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != order.StatusScheduled || o.Protocol.ApprovedBy != "dr.rad" || !o.Protocol.ApprovedAt.Equal(clock) {
			t.Fatalf("approved %+v", o)
		}
		if _, err := svc.Approve(ctx, ids["R1"], order.Protocol{Code: "CTH", StationAE: "CT2", ScheduledAt: sched.Add(2 * time.Hour)}, "dr.rad"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Approve(ctx, ids["A1"], order.Protocol{Code: "CTH", StationAE: "CT1"}, "dr.rad"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reject(ctx, ids["R2"], "not indicated", "dr.rad"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Approve(ctx, ids["R2"], order.Protocol{Code: "X"}, "dr.rad"); !errors.Is(err, order.ErrTransition) {
			t.Fatalf("approve rejected: %v", err)
		}
		// Three status messages for fac-a (approve S1, R1, reject R2); none for fac-b (no endpoint).
		msgs, err := outbox.Messages(ctx, d, outbox.StatusPending)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 3 {
			t.Fatalf("%d outbox messages", len(msgs))
		}
		last, err := hl7.Parse(msgs[2])
		if err != nil {
			t.Fatal(err)
		}
		if last.Get("ORC-1") != "SC" || last.Get("ORC-5") != "CA" || last.Get("OBR-18") != "R2" {
			t.Fatalf("reject message %s", last.Summary())
		}

		steps := func(f order.StepFilter) string {
			t.Helper()
			os, err := svc.ScheduledSteps(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var acc []string
			for _, o := range os {
				acc = append(acc, o.Accession)
			}
			return strings.Join(acc, ",")
		}
		if got := steps(order.StepFilter{}); got != "A1,S1,R1" {
			t.Fatalf("all steps %s", got)
		}
		if got := steps(order.StepFilter{StationAE: "CT1", FacilityIDs: []string{"fac-a"}}); got != "S1" {
			t.Fatalf("CT1 fac-a %s", got)
		}
		if got := steps(order.StepFilter{From: sched.Add(time.Hour), To: sched.Add(3 * time.Hour), Modality: "CT"}); got != "R1" {
			t.Fatalf("date range %s", got)
		}
		if got := steps(order.StepFilter{PatientID: "PID-S1", Issuer: "fac-a"}); got != "S1" {
			t.Fatalf("patient %s", got)
		}

		// MPPS: T1, T2.
		t1 := time.Date(2026, 11, 22, 11, 5, 0, 0, time.UTC)
		if _, err := svc.MPPSInProgress(ctx, order.StepKey{FacilityID: "fac-a", Accession: "S1", StudyUID: "1.2.9"}, t1); err != nil {
			t.Fatal(err)
		}
		// The modality used its own study UID; completion resolves by study UID,
		// then accession (what the MPPS SCP passes), since the RIS assigned one at approval.
		if _, err := svc.MPPSCompleted(ctx, order.StepKey{StudyUID: "1.2.9", FacilityID: "fac-a", Accession: "S1"}, t1.Add(7*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.MPPSInProgress(ctx, order.StepKey{FacilityID: "fac-a", Accession: "R1"}, t1); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.MPPSDiscontinued(ctx, order.StepKey{FacilityID: "fac-a", Accession: "R1"}, t1.Add(time.Minute), "patient moved"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.MPPSCompleted(ctx, order.StepKey{FacilityID: "fac-a", Accession: "R1"}, t1); !errors.Is(err, order.ErrTransition) {
			t.Fatalf("complete discontinued: %v", err)
		}
		if _, err := svc.MPPSCompleted(ctx, order.StepKey{StudyUID: "9.9"}, t1); !errors.Is(err, order.ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
		evs, _ := svc.Events(ctx, ids["S1"])
		var trail []string
		for _, e := range evs {
			trail = append(trail, string(e.To)+"@"+e.At.Format("15:04"))
		}
		if got := strings.Join(trail, " "); got != "requested@08:00 protocol_pending@09:00 scheduled@09:10 in_progress@11:05 completed@11:12" {
			t.Fatalf("trail %s", got)
		}
		o, _ = svc.Get(ctx, ids["S1"])
		// The order keeps the UID it scheduled (given to the modality through
		// the worklist); a study arriving under another UID is reconciled.
		if !strings.HasPrefix(o.StudyUID, "2.25.") || o.Status != order.StatusCompleted {
			t.Fatalf("S1 %+v", o)
		}
		// Return to protocol.
		if _, err := svc.Return(ctx, ids["A1"], "wrong protocol", "dr.rad"); err != nil {
			t.Fatal(err)
		}
		if got := steps(order.StepFilter{}); got != "" {
			t.Fatalf("steps after return %s", got)
		}
	})
}
