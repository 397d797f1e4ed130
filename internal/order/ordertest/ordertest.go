// Package ordertest runs order tests on every test database with the two
// facilities their messages name (fac-a in Texas, fac-b in California).
package ordertest

import (
	"context"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

// Each runs fn on a fresh database per backend, with fac-a and fac-b.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.Exec(ctx, "INSERT INTO facility (id, name, state, timezone, created_at) VALUES ('fac-a', 'Hospital A', 'TX', 'America/Chicago', ?), ('fac-b', 'Hospital B', 'CA', 'UTC', ?)",
			db.Now(time.Now()), db.Now(time.Now())); err != nil {
			t.Fatal(err)
		}
		fn(t, d)
	})
}
