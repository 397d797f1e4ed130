package order

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/hl7"
	"lightbox/internal/outbox"
)

func newOrder(fac, acc string, prio Priority) Order {
	return Order{FacilityID: fac, Accession: acc, PlacerOrder: "P" + acc, Patient: Patient{ID: "PID-" + acc, Name: "ROE^RICHARD", BirthDate: "19800202", Sex: "M"},
		ProcedureCode: "70450", ProcedureSystem: "CPT", Priority: prio, Modality: "CT",
		OrderedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)}
}

func TestProtocolAndWorklist(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
		svc := &Service{DB: d, Now: func() time.Time { return clock }, Notify: OutboxNotifier("LIGHTBOX")}
		if err := outbox.SetEndpoint(ctx, d, outbox.Endpoint{FacilityID: "fac-a", Kind: "hl7", Address: "127.0.0.1:1"}); err != nil {
			t.Fatal(err)
		}
		ids := map[string]string{}
		for _, x := range []struct {
			fac, acc string
			p        Priority
		}{{"fac-a", "R1", PriorityRoutine}, {"fac-a", "S1", PrioritySTAT}, {"fac-b", "A1", PriorityASAP}, {"fac-a", "R2", PriorityRoutine}} {
			o, created, err := svc.Intake(ctx, newOrder(x.fac, x.acc, x.p))
			if err != nil || !created {
				t.Fatal(err, created)
			}
			ids[x.acc] = o.ID
		}
		if _, _, err := svc.Intake(ctx, Order{FacilityID: "fac-a", Accession: "R1", Patient: Patient{ID: "other"}, ProcedureCode: "1"}); !errors.Is(err, ErrDuplicate) {
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
		o, err := svc.Approve(ctx, ids["S1"], Protocol{Code: "CTH-STROKE", Text: "CT head stroke", Contrast: "none", StationAE: "CT1", ScheduledAt: sched}, "dr.rad")
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != StatusScheduled || o.Protocol.ApprovedBy != "dr.rad" || !o.Protocol.ApprovedAt.Equal(clock) {
			t.Fatalf("approved %+v", o)
		}
		if _, err := svc.Approve(ctx, ids["R1"], Protocol{Code: "CTH", StationAE: "CT2", ScheduledAt: sched.Add(2 * time.Hour)}, "dr.rad"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Approve(ctx, ids["A1"], Protocol{Code: "CTH", StationAE: "CT1"}, "dr.rad"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reject(ctx, ids["R2"], "not indicated", "dr.rad"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Approve(ctx, ids["R2"], Protocol{Code: "X"}, "dr.rad"); !errors.Is(err, ErrTransition) {
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

		steps := func(f StepFilter) string {
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
		if got := steps(StepFilter{}); got != "A1,S1,R1" {
			t.Fatalf("all steps %s", got)
		}
		if got := steps(StepFilter{StationAE: "CT1", FacilityIDs: []string{"fac-a"}}); got != "S1" {
			t.Fatalf("CT1 fac-a %s", got)
		}
		if got := steps(StepFilter{From: sched.Add(time.Hour), To: sched.Add(3 * time.Hour), Modality: "CT"}); got != "R1" {
			t.Fatalf("date range %s", got)
		}
		if got := steps(StepFilter{PatientID: "PID-S1", Issuer: "fac-a"}); got != "S1" {
			t.Fatalf("patient %s", got)
		}

		// MPPS: T1, T2.
		t1 := time.Date(2026, 11, 22, 11, 5, 0, 0, time.UTC)
		if _, err := svc.MPPSInProgress(ctx, StepKey{FacilityID: "fac-a", Accession: "S1", StudyUID: "1.2.9"}, t1); err != nil {
			t.Fatal(err)
		}
		// The modality used its own study UID; completion resolves by study UID,
		// then accession (what the MPPS SCP passes), since the RIS assigned one at approval.
		if _, err := svc.MPPSCompleted(ctx, StepKey{StudyUID: "1.2.9", FacilityID: "fac-a", Accession: "S1"}, t1.Add(7*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.MPPSInProgress(ctx, StepKey{FacilityID: "fac-a", Accession: "R1"}, t1); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.MPPSDiscontinued(ctx, StepKey{FacilityID: "fac-a", Accession: "R1"}, t1.Add(time.Minute), "patient moved"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.MPPSCompleted(ctx, StepKey{FacilityID: "fac-a", Accession: "R1"}, t1); !errors.Is(err, ErrTransition) {
			t.Fatalf("complete discontinued: %v", err)
		}
		if _, err := svc.MPPSCompleted(ctx, StepKey{StudyUID: "9.9"}, t1); !errors.Is(err, ErrNotFound) {
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
		if !strings.HasPrefix(o.StudyUID, "2.25.") || o.Status != StatusCompleted {
			t.Fatalf("S1 %+v", o)
		}
		// Return to protocol.
		if _, err := svc.Return(ctx, ids["A1"], "wrong protocol", "dr.rad"); err != nil {
			t.Fatal(err)
		}
		if got := steps(StepFilter{}); got != "" {
			t.Fatalf("steps after return %s", got)
		}
	})
}

func TestReconcile(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := &Service{DB: d}
		a, _, err := svc.Intake(ctx, newOrder("fac-a", "M1", PriorityRoutine))
		if err != nil {
			t.Fatal(err)
		}
		b, _, _ := svc.Intake(ctx, newOrder("fac-a", "M2", PriorityRoutine))
		demo := Demographics{ID: "PID-M1", Name: "roe^richard", BirthDate: "19800202", Sex: "M"}
		r, err := svc.Reconcile(ctx, "fac-a", "M1", "1.2.100", demo)
		if err != nil || !r.Matched || r.OrderID != a.ID {
			t.Fatalf("match: %+v %v", r, err)
		}
		if o, _ := svc.Get(ctx, a.ID); o.StudyUID != "1.2.100" {
			t.Fatalf("study uid not set")
		}
		// Same study by UID only, still matched.
		if r, _ := svc.Reconcile(ctx, "fac-a", "", "1.2.100", demo); !r.Matched {
			t.Fatalf("by uid %+v", r)
		}
		// Unknown accession → unmatched.
		r, err = svc.Reconcile(ctx, "fac-a", "ZZZ", "1.2.200", demo)
		if err != nil || r.Matched || r.UnmatchedID == 0 || r.OrderID != "" {
			t.Fatalf("unmatched: %+v %v", r, err)
		}
		// Mismatch flagged, not overwritten.
		bad := Demographics{ID: "PID-M2", Name: "ROE^RICHARD", BirthDate: "19810303", Sex: "F"}
		r, err = svc.Reconcile(ctx, "fac-a", "M2", "1.2.300", bad)
		if err != nil || r.Matched || r.OrderID != b.ID || strings.Join(r.Mismatches, ",") != "birth_date,sex" {
			t.Fatalf("mismatch: %+v %v", r, err)
		}
		again, _ := svc.Reconcile(ctx, "fac-a", "M2", "1.2.300", bad)
		if again.UnmatchedID != r.UnmatchedID {
			t.Fatalf("second reconcile made a new row")
		}
		if o, _ := svc.Get(ctx, b.ID); o.StudyUID != "" || o.Patient.BirthDate != "19800202" {
			t.Fatalf("order overwritten %+v", o)
		}
		un, err := svc.Unmatched(ctx, []string{"fac-a"})
		if err != nil || len(un) != 2 || un[1].CandidateOrderID != b.ID || len(un[1].Mismatches) != 2 {
			t.Fatalf("unmatched list %+v %v", un, err)
		}
		if err := svc.Attach(ctx, r.UnmatchedID, b.ID, "coord"); err != nil {
			t.Fatal(err)
		}
		if err := svc.Attach(ctx, r.UnmatchedID, b.ID, "coord"); !errors.Is(err, ErrTransition) {
			t.Fatalf("attach twice: %v", err)
		}
		if o, _ := svc.Get(ctx, b.ID); o.StudyUID != "1.2.300" {
			t.Fatalf("attach did not set uid")
		}
		if un, _ := svc.Unmatched(ctx, nil); len(un) != 1 {
			t.Fatalf("%d open after attach", len(un))
		}
	})
}
