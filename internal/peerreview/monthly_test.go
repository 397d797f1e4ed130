package peerreview

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

// The automatic draw: with a fake clock, three nodes ticking at once in
// December draw November exactly once, hitting each author's target and
// never giving a study to its author; later ticks in December draw
// nothing; the first tick in January draws December.
func TestMonthlyDrawOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(3, 4))
		nov := simulate(rng, team)
		var all []Final
		for _, f := range nov {
			dec := f
			dec.StudyUID += ".12"
			dec.SignedAt = f.SignedAt.AddDate(0, 1, 0)
			all = append(all, f, dec)
		}
		var mu sync.Mutex
		now := month.AddDate(0, 1, 0).Add(5 * time.Minute) // 1 December, 00:05
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		notified := map[int64]string{}
		drawer := func() Drawer {
			return Drawer{
				Store: Store{DB: d, Now: clock},
				Finals: func(_ context.Context, from, to time.Time) ([]Final, error) {
					var out []Final
					for _, f := range all {
						if !f.SignedAt.Before(from) && f.SignedAt.Before(to) {
							out = append(out, f)
						}
					}
					return out, nil
				},
				Reviewers: func(context.Context) ([]Reviewer, error) { return team, nil },
				Assigned: func(_ context.Context, r Review) {
					mu.Lock()
					notified[r.ID] = r.Reviewer
					mu.Unlock()
				},
			}
		}
		p := Policy{Mode: "percent", Value: 5}
		if err := (Store{DB: d}).SetPolicy(ctx, p); err != nil {
			t.Fatal(err)
		}
		tick := func() []*Outcome {
			var wg sync.WaitGroup
			outs := make([]*Outcome, 3)
			for i, node := range []string{"a", "b", "c"} {
				wg.Go(func() {
					out, err := drawer().Due(ctx, clock(), node)
					if err != nil {
						t.Error(err)
					}
					outs[i] = out
				})
			}
			wg.Wait()
			var drew []*Outcome
			for _, o := range outs {
				if o != nil {
					drew = append(drew, o)
				}
			}
			return drew
		}
		drew := tick()
		if len(drew) != 1 || drew[0].Month != "2026-11" {
			t.Fatalf("December's first tick: %d draws %+v, want November once", len(drew), drew)
		}
		per := map[string]int{}
		for _, f := range nov {
			per[f.Author]++
		}
		got := map[string]int{}
		for _, r := range drew[0].Drawn {
			got[r.Author]++
			if r.Reviewer == r.Author {
				t.Fatalf("%s reviews their own study", r.Author)
			}
			if notified[r.ID] != r.Reviewer {
				t.Fatalf("review %d: reviewer %s not told", r.ID, r.Reviewer)
			}
		}
		for a, n := range per {
			// msk1 has no colleague of their subspecialty: sampled, unassigned.
			if want := p.Target(n); a != "msk1" && got[a] != want {
				t.Fatalf("%s: %d of %d drawn, want %d (5 %%)", a, got[a], n, want)
			}
		}
		for range 3 {
			mu.Lock()
			now = now.Add(7 * 24 * time.Hour)
			mu.Unlock()
			if drew := tick(); len(drew) != 0 {
				t.Fatalf("a later December tick drew again: %+v", drew[0])
			}
		}
		mu.Lock()
		now = month.AddDate(0, 2, 0).Add(time.Minute) // 1 January
		mu.Unlock()
		if drew := tick(); len(drew) != 1 || drew[0].Month != "2026-12" || len(drew[0].Drawn) == 0 {
			t.Fatalf("January's first tick: %+v, want December once", drew)
		}
	})
}
