package ae

import (
	"context"
	"errors"
	"net"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

func TestStore(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := Store{DB: d}
		if err := s.Put(ctx, Entity{Title: "SGH_CT1", Host: "10.0.0.5", Port: 104, FacilityID: "SGH"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, Entity{Title: "SGH_CT1", Host: "10.0.0.6", Port: 11112, FacilityID: "SGH", TLS: true}); err != nil {
			t.Fatal(err)
		}
		e, err := s.Get(ctx, "SGH_CT1 ")
		if err != nil || e.Addr() != "10.0.0.6:11112" || !e.TLS {
			t.Fatalf("%+v %v", e, err)
		}
		if _, err := s.Get(ctx, "NOPE"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("want not found, got %v", err)
		}
		for _, bad := range []Entity{{Title: "", Host: "h", Port: 1}, {Title: "WAY_TOO_LONG_AE_TITLE", Host: "h", Port: 1}, {Title: `A\B`, Host: "h", Port: 1}, {Title: "OK", Port: 1}, {Title: "OK", Host: "h", Port: 70000}} {
			if err := s.Put(ctx, bad); err == nil {
				t.Errorf("accepted %+v", bad)
			}
		}
		l, _ := s.List(ctx)
		if len(l) != 1 {
			t.Fatalf("list %+v", l)
		}
	})
}

func TestAllowCIDRs(t *testing.T) {
	d := dbtest.SQLite(t)
	s := Store{DB: d}
	ctx := context.Background()
	if err := s.Put(ctx, Entity{Title: "LOCKED", Host: "h", Port: 104, AllowCIDRs: []string{"10.1.0.0/16", "192.168.5.7/32"}}); err != nil {
		t.Fatal(err)
	}
	e, _ := s.Get(ctx, "LOCKED")
	for ip, want := range map[string]bool{"10.1.2.3": true, "192.168.5.7": true, "10.2.0.1": false, "127.0.0.1": false} {
		if got := e.Allows(net.ParseIP(ip)); got != want {
			t.Errorf("%s: %v", ip, got)
		}
	}
	if !(Entity{}).Allows(nil) {
		t.Error("no allowlist must allow all")
	}
	if err := s.Put(ctx, Entity{Title: "BAD", Host: "h", Port: 1, AllowCIDRs: []string{"ten"}}); err == nil {
		t.Error("bad CIDR accepted")
	}
}
