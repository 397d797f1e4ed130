package facility

import (
	"context"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

func TestUpsertList(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		s := Store{DB: d}
		ctx := context.Background()
		if err := s.Upsert(ctx, Facility{ID: "F1", Name: "One", State: "TX", TimeZone: "America/Chicago"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Upsert(ctx, Facility{ID: "F1", Name: "One Renamed", State: "TX", TimeZone: "America/Chicago"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Upsert(ctx, Facility{ID: "F2", Name: "Bad", TimeZone: "Mars/Olympus"}); err == nil {
			t.Fatal("bad time zone accepted")
		}
		fs, err := s.List(ctx)
		if err != nil || len(fs) != 1 || fs[0].Name != "One Renamed" {
			t.Fatalf("%+v %v", fs, err)
		}
	})
}

func TestNamed(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := Store{DB: d}
		for _, f := range []Facility{{ID: "SGH", Name: "Saint General", State: "NY", TimeZone: "America/New_York"}, {ID: "ABC", Name: "sgh", State: "NY", TimeZone: "America/New_York"}} {
			if err := s.Upsert(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct{ in, want string }{{"sgh", "SGH"}, {"saint general", "SGH"}, {"abc", "ABC"}, {"nope", ""}} {
			id, ok, err := s.Named(ctx, c.in)
			if err != nil || id != c.want || ok != (c.want != "") {
				t.Errorf("%q: %q %v %v", c.in, id, ok, err)
			}
		}
	})
}
