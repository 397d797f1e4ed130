package order

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
)

func newOrder(fac, acc string, prio Priority) Order {
	return Order{FacilityID: fac, Accession: acc, PlacerOrder: "P" + acc, Patient: Patient{ID: "PID-" + acc, Name: "ROE^RICHARD", BirthDate: "19800202", Sex: "M"},
		ProcedureCode: "70450", ProcedureSystem: "CPT", Priority: prio, Modality: "CT",
		OrderedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)}
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
