package archive

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/facility"
)

// TestForeignPatientNamespace: a facility's sender cannot file data under
// another facility's patient (the probe's SGH-sends-HBI-MRN attack).
func TestForeignPatientNamespace(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fs := facility.Store{DB: d}
		for _, f := range []facility.Facility{{ID: "FA", Name: "A", TimeZone: "UTC", IssuerOfPatientID: "FA-MRN"}, {ID: "FB", Name: "B", TimeZone: "UTC", IssuerOfPatientID: "FB-MRN"}} {
			if err := fs.Upsert(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		f := newFixture(t, d, KeepFirst)
		store := func(a *Archive, n, pid, issuer, fac string) (*Result, error) {
			ds := testInstance("1.7."+n, "1.7."+n+".1", "1.7."+n+".1.1", pid, issuer, 2)
			return a.Store(ctx, bytes.NewReader(part10(t, ds)), Source{Facility: fac, AETitle: fac + "AE"})
		}
		for _, c := range []struct{ n, pid, issuer, fac string }{{"1", "P1", "FB-MRN", "FB"}, {"2", "Q1", "SHARED", "FB"}, {"3", "P1", "FA-MRN", "FA"}, {"4", "P2", "", "FA"}} {
			if _, err := store(f.a, c.n, c.pid, c.issuer, c.fac); err != nil {
				t.Fatalf("own namespace %+v: %v", c, err)
			}
		}
		for _, c := range []struct{ n, pid, issuer string }{{"10", "P1", "FB-MRN"}, {"11", "P9", "FB-MRN"}, {"12", "P1", "FB"}, {"13", "Q1", "SHARED"}} {
			_, err := store(f.a, c.n, c.pid, c.issuer, "FA")
			if !errors.Is(err, ErrForeignPatient) || !errors.Is(err, ErrRefused) {
				t.Errorf("FA filed under %s/%s: %v", c.issuer, c.pid, err)
			}
		}
		var n int
		_ = d.QueryRow(ctx, "SELECT COUNT(*) FROM study s JOIN patient p ON p.pk = s.patient_pk WHERE s.facility_id = 'FA' AND p.issuer NOT IN ('FA-MRN', 'FA')").Scan(&n)
		if n != 0 {
			t.Fatalf("%d FA studies linked to foreign patients", n)
		}
		if links, err := f.a.CrossLinks(ctx); err != nil || len(links) != 0 {
			t.Fatalf("cross links %+v %v", links, err)
		}

		// Quarantine keeps the bytes for a coordinator, indexes nothing and
		// answers success.
		q := New(d, f.blobs, Options{ForeignPatients: QuarantineForeign})
		defer q.Close()
		res, err := store(q, "20", "P1", "FB-MRN", "FA")
		if err != nil || res.Outcome != Quarantined {
			t.Fatalf("quarantine: %+v %v", res, err)
		}
		var key string
		if err := d.QueryRow(ctx, "SELECT blob_key FROM instance_quarantine WHERE sop_uid = '1.7.20.1.1'").Scan(&key); err != nil || key == "" {
			t.Fatalf("quarantine row: %q %v", key, err)
		}
		_ = d.QueryRow(ctx, "SELECT COUNT(*) FROM instance WHERE sop_uid = '1.7.20.1.1'").Scan(&n)
		if n != 0 {
			t.Fatal("quarantined instance was indexed")
		}

		// Legacy cross-links (filed before the rule) are reported.
		if _, err := d.Exec(ctx, "UPDATE study SET patient_pk = (SELECT pk FROM patient WHERE issuer = 'FB-MRN' AND patient_id = 'P1') WHERE study_uid = '1.7.3'"); err != nil {
			t.Fatal(err)
		}
		if links, err := f.a.CrossLinks(ctx); err != nil || len(links) != 1 || links[0].Issuer != "FB-MRN" {
			t.Fatalf("cross links %+v %v", links, err)
		}
	})
}
