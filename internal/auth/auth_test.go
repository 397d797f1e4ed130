package auth

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLoginLockoutTokens(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
		s := New(d, Options{MaxFailures: 3, LockBase: time.Minute, Now: c.now})
		if err := s.AddUser(ctx, User{Username: "dr.alpha", Role: Radiologist, Facilities: []string{"SGH", "MTV"}}, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
		if err := s.AddUser(ctx, User{Username: "tech", Role: Technologist}, "correct horse battery"); err == nil {
			t.Fatal("technologist without facility accepted")
		}
		if err := s.AddUser(ctx, User{Username: "short", Role: Admin}, "short"); err == nil {
			t.Fatal("short password accepted")
		}
		p, err := s.Login(ctx, "dr.alpha", "correct horse battery")
		if err != nil || !p.Sees("SGH") || p.Sees("OTHER") || p.All {
			t.Fatalf("login %+v %v", p, err)
		}
		if _, err := s.Login(ctx, "nobody", "x"); !errors.Is(err, ErrBadCredentials) {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := s.Login(ctx, "dr.alpha", "wrong password!"); !errors.Is(err, ErrBadCredentials) {
				t.Fatal(err)
			}
		}
		if _, err := s.Login(ctx, "dr.alpha", "correct horse battery"); !errors.Is(err, ErrLocked) {
			t.Fatalf("want lockout, got %v", err)
		}
		c.t = c.t.Add(61 * time.Second)
		if _, err := s.Login(ctx, "dr.alpha", "correct horse battery"); err != nil {
			t.Fatalf("lock must expire: %v", err)
		}

		tok, err := s.CreateToken(ctx, "dr.alpha", "viewer", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		if p, err := s.FromRequest(r); err != nil || p.Username != "dr.alpha" {
			t.Fatalf("token: %+v %v", p, err)
		}
		if _, err := s.FromRequest(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, ErrUnauthenticated) {
			t.Fatal("no token accepted")
		}
		if err := s.RevokeTokens(ctx, "dr.alpha", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyToken(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
			t.Fatal("revoked token accepted")
		}
		tok2, _ := s.CreateToken(ctx, "dr.alpha", "short-lived", time.Minute)
		c.t = c.t.Add(2 * time.Minute)
		if _, err := s.VerifyToken(ctx, tok2); !errors.Is(err, ErrUnauthenticated) {
			t.Fatal("expired token accepted")
		}
		_ = s.SetDisabled(ctx, "dr.alpha", true)
		if _, err := s.Login(ctx, "dr.alpha", "correct horse battery"); !errors.Is(err, ErrDisabled) {
			t.Fatalf("disabled: %v", err)
		}
	})
}

func TestPasswordHash(t *testing.T) {
	h := HashPassword("pw-123456789012")
	if !CheckPassword(h, "pw-123456789012") || CheckPassword(h, "pw-123456789013") || CheckPassword("garbage", "x") {
		t.Fatal("hash check wrong")
	}
}
