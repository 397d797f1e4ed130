package station

import (
	"context"
	"errors"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

func TestPreferencesRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := Store{DB: d}
		p, err := s.Get(ctx, "dr.alpha")
		if err != nil || p.BreakMinutes != 20 || len(p.Keys) != 0 {
			t.Fatalf("defaults: %+v %v", p, err)
		}
		for _, want := range []Preferences{
			{Keys: map[string]string{"signFinal": "F10"}, BreakMinutes: 0},
			{Keys: map[string]string{"signFinal": "F9", "nextCase": "Ctrl+Shift+N"}, BreakMinutes: 30},
			{Keys: map[string]string{}, BreakMinutes: 20, Hanging: map[string]string{"CT": "single", "MR HEAD": "mr-2x2", "MG": "mg-4up"}},
			{Keys: map[string]string{}, BreakMinutes: 20, CacheMB: 1024, PrefetchOff: true},
		} {
			if err := s.Put(ctx, "dr.alpha", want); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, "dr.alpha")
			if err != nil || got.BreakMinutes != want.BreakMinutes || len(got.Keys) != len(want.Keys) || got.Keys["signFinal"] != want.Keys["signFinal"] ||
				len(got.Hanging) != len(want.Hanging) || got.Hanging["MR HEAD"] != want.Hanging["MR HEAD"] ||
				got.CacheMB != want.CacheMB || got.PrefetchOff != want.PrefetchOff {
				t.Fatalf("got %+v %v, want %+v", got, err, want)
			}
		}
		if other, _ := s.Get(ctx, "dr.beta"); len(other.Keys) != 0 {
			t.Fatalf("another user's preferences leaked: %+v", other)
		}
	})
}

func TestPreferencesValidate(t *testing.T) {
	long := string(make([]byte, 41))
	for _, p := range []Preferences{
		{BreakMinutes: -1},
		{BreakMinutes: 241},
		{Keys: map[string]string{"": "F1"}},
		{Keys: map[string]string{"sign": long}},
		{Keys: map[string]string{"sign": "F1\n"}},
		{Hanging: map[string]string{"CT": "carousel"}},
		{Hanging: map[string]string{"": "single"}},
		{CacheMB: 255},
		{CacheMB: MaxCacheMB + 1},
		{CacheMB: -1},
	} {
		if err := p.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", p, err)
		}
	}
}

func TestDisplayCheckWithin24h(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
		s := Store{DB: d, Now: func() time.Time { return now }}
		if ok, err := s.DisplayPassedWithin(ctx, "dr.delta", 24*time.Hour); ok || err != nil {
			t.Fatalf("no check yet: %v %v", ok, err)
		}
		if _, err := s.Record(ctx, "dr.delta", Check{Kind: KindDisplay, Passed: true, ScreenWidth: 2048, ScreenHeight: 2560, PixelRatio: 1,
			Seen: map[string]bool{"steps": true, "low5": true, "high95": true, "linepairs": true, "ruler": true}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			after time.Duration
			want  bool
		}{{time.Hour, true}, {23 * time.Hour, true}, {25 * time.Hour, false}} {
			s.Now = func() time.Time { return now.Add(c.after) }
			if ok, err := s.DisplayPassedWithin(ctx, "dr.delta", 24*time.Hour); ok != c.want || err != nil {
				t.Errorf("after %v: %v %v, want %v", c.after, ok, err, c.want)
			}
		}
		s.Now = func() time.Time { return now.Add(2 * time.Hour) }
		if _, err := s.Record(ctx, "dr.delta", Check{Kind: KindDisplay, Passed: false}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.DisplayPassedWithin(ctx, "dr.delta", 24*time.Hour); ok {
			t.Error("a failed check after a pass still counts as passed")
		}
		if _, err := s.Record(ctx, "dr.delta", Check{Kind: "coffee"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("unknown kind: %v", err)
		}
	})
}
