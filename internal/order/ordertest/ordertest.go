package ordertest

import (
	"context"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/facility"
)

// Each runs fn on a fresh database per backend, with fac-a and fac-b.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, f := range []facility.Facility{
			{ID: "fac-a", Name: "Hospital A", State: "TX", TimeZone: "America/Chicago"},
			{ID: "fac-b", Name: "Hospital B", State: "CA", TimeZone: "UTC"},
		} {
			if err := facility.Upsert(context.Background(), d, f); err != nil {
				t.Fatal(err)
			}
		}
		fn(t, d)
	})
}
