package station

import (
	"context"
	"errors"
	"testing"

	"lightbox/internal/db/dbtest"
)

func TestPreferencesRoundTrip(t *testing.T) {
	for name, d := range dbtest.Databases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := Store{DB: d}
			p, err := s.Get(ctx, "dr.alpha")
			if err != nil || p.BreakMinutes != 20 || len(p.Keys) != 0 {
				t.Fatalf("defaults: %+v %v", p, err)
			}
			for _, want := range []Preferences{
				{Keys: map[string]string{"signFinal": "F10"}, BreakMinutes: 0},
				{Keys: map[string]string{"signFinal": "F9", "nextCase": "Ctrl+Shift+N"}, BreakMinutes: 30},
			} {
				if err := s.Put(ctx, "dr.alpha", want); err != nil {
					t.Fatal(err)
				}
				got, err := s.Get(ctx, "dr.alpha")
				if err != nil || got.BreakMinutes != want.BreakMinutes || len(got.Keys) != len(want.Keys) || got.Keys["signFinal"] != want.Keys["signFinal"] {
					t.Fatalf("got %+v %v, want %+v", got, err, want)
				}
			}
			if other, _ := s.Get(ctx, "dr.beta"); len(other.Keys) != 0 {
				t.Fatalf("another user's preferences leaked: %+v", other)
			}
		})
	}
}

func TestPreferencesValidate(t *testing.T) {
	long := string(make([]byte, 41))
	for _, p := range []Preferences{
		{BreakMinutes: -1},
		{BreakMinutes: 241},
		{Keys: map[string]string{"": "F1"}},
		{Keys: map[string]string{"sign": long}},
		{Keys: map[string]string{"sign": "F1\n"}},
	} {
		if err := p.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", p, err)
		}
	}
}
