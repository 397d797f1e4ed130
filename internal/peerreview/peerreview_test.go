package peerreview

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

var month = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// simulate makes a month of finals: readers with different volumes and
// subspecialties.
func simulate(rng *rand.Rand, readers []Reviewer) []Final {
	var fs []Final
	for i, r := range readers {
		n := 20 + rng.IntN(300) + 40*i
		for k := range n {
			fs = append(fs, Final{StudyUID: fmt.Sprintf("1.2.%d.%d", i, k), FacilityID: "F1", Author: r.ID,
				SignedAt: month.Add(time.Duration(rng.IntN(30*24)) * time.Hour)})
		}
	}
	return fs
}

var team = []Reviewer{
	{ID: "neuro1", Subspecialties: []string{"neuro"}}, {ID: "neuro2", Subspecialties: []string{"neuro"}},
	{ID: "neuro3", Subspecialties: []string{"neuro", "body"}}, {ID: "body1", Subspecialties: []string{"body"}},
	{ID: "body2", Subspecialties: []string{"body"}}, {ID: "msk1", Subspecialties: []string{"msk"}},
}

// Property: over simulated months with random volumes and policies, the
// sampler never assigns a study to its author, every reviewer shares the
// author's subspecialty, and each reader's sample hits the target rate
// (exactly the rounded percentage, or the count).
func TestSamplerProperty(t *testing.T) {
	byID := map[string]Reviewer{}
	for _, r := range team {
		byID[r.ID] = r
	}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		finals := simulate(rng, team)
		p := Policy{Mode: "percent", Value: float64(1 + rng.IntN(20))}
		if seed%3 == 0 {
			p = Policy{Mode: "count", Value: float64(rng.IntN(30))}
		}
		per := map[string]int{}
		for _, f := range finals {
			per[f.Author]++
		}
		got := map[string]int{}
		load := map[string]int{}
		for _, f := range Sample(finals, p, rng) {
			got[f.Author]++
			who, ok := Pick(f, byID[f.Author], team, load, rng)
			if f.Author == "msk1" {
				if ok {
					t.Fatalf("seed %d: msk1 has no msk colleague, yet %s was picked", seed, who)
				}
				continue
			}
			if !ok || who == f.Author {
				t.Fatalf("seed %d: study of %s assigned to %q (%v)", seed, f.Author, who, ok)
			}
			if len(Eligible(f, byID[f.Author], []Reviewer{byID[who]})) != 1 {
				t.Fatalf("seed %d: %s reviews %s without a shared subspecialty", seed, who, f.Author)
			}
		}
		for a, n := range per {
			want := p.Target(n)
			if got[a] != want {
				t.Fatalf("seed %d %+v: %s sampled %d of %d, want %d", seed, p, a, got[a], n, want)
			}
			if p.Mode == "percent" && n >= 20 {
				if rate := 100 * float64(got[a]) / float64(n); math.Abs(rate-p.Value) > 100*0.5/float64(n)+1e-9 {
					t.Fatalf("seed %d: %s rate %.2f%%, target %.0f%%", seed, a, rate, p.Value)
				}
			}
		}
	}
}

// A review goes from draw to score; 2b goes to a second reviewer who is
// neither author nor first reviewer; rates, anonymity and CSV follow.
func TestReviewLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := Store{DB: d, Now: func() time.Time { return month.AddDate(0, 1, 1) }}
		if err := s.SetPolicy(ctx, Policy{Mode: "count", Value: 2, HideAuthor: true, HideReviewer: true}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPolicy(ctx, Policy{Mode: "percent", Value: 101}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad policy accepted: %v", err)
		}
		var finals []Final
		for k := range 5 {
			finals = append(finals, Final{StudyUID: fmt.Sprintf("1.2.9.%d", k), FacilityID: "F1", Author: "neuro1", SignedAt: month.AddDate(0, 0, k)})
		}
		rng := rand.New(rand.NewPCG(1, 2))
		got, unassigned, err := s.Draw(ctx, finals, team, rng)
		if err != nil || len(got) != 2 || len(unassigned) != 0 {
			t.Fatalf("draw: %+v %v %v", got, unassigned, err)
		}
		// Drawing the month again adds nothing: the target is met.
		if again, _, err := s.Draw(ctx, finals, team, rng); len(again) != 0 || err != nil {
			t.Fatalf("second draw of the month: %+v %v", again, err)
		}
		r := got[0]
		if r.Reviewer == "neuro1" || !strings.HasPrefix(r.Reviewer, "neuro") {
			t.Fatalf("reviewer %s", r.Reviewer)
		}
		if _, err := s.Score(ctx, r.ID, "body1", "1", "", nil); !errors.Is(err, ErrNotYours) {
			t.Fatalf("someone else scored: %v", err)
		}
		if _, err := s.Score(ctx, r.ID, r.Reviewer, "2b", "", nil); !errors.Is(err, ErrInvalid) {
			t.Fatalf("2b without comment: %v", err)
		}
		arbiter := func(v Review) (string, bool) {
			return Pick(Final{Author: v.Author}, team[0], team, map[string]int{}, rng, v.Reviewer)
		}
		v, err := s.Score(ctx, r.ID, r.Reviewer, "2b", "missed 4 mm nodule", arbiter)
		if err != nil || v.Status != Arbitration || v.Arbiter == "" || v.Arbiter == r.Reviewer || v.Arbiter == "neuro1" {
			t.Fatalf("score 2b: %+v %v", v, err)
		}
		if mine, _ := s.List(ctx, "reviewer", v.Arbiter); len(mine) == 0 {
			t.Fatal("arbiter does not see the review")
		}
		v, err = s.Arbitrate(ctx, r.ID, v.Arbiter, "2a", "agree it is a miss; not significant")
		if err != nil || v.Status != Closed || v.FinalScore != "2a" {
			t.Fatalf("arbitrate: %+v %v", v, err)
		}
		if v2, err := s.Score(ctx, got[1].ID, got[1].Reviewer, "1", "", nil); err != nil || v2.Status != Closed {
			t.Fatalf("score 1: %+v %v", v2, err)
		}
		rates, err := s.Rates(ctx)
		if err != nil || len(rates) != 1 || rates[0].Reviewed != 2 || rates[0].Discrepant != 1 || rates[0].Rate != 0.5 || rates[0].Period != "2026-11" {
			t.Fatalf("rates: %+v %v", rates, err)
		}
		p, _ := s.Policy(ctx)
		if a := v.Anonymised(p, "neuro1"); a.Reviewer != "(anonymous)" || a.Arbiter != "(anonymous)" {
			t.Fatalf("author sees reviewers: %+v", a)
		}
		if a := v.Anonymised(p, v.Reviewer); a.Author != "(anonymous)" {
			t.Fatalf("reviewer sees author: %+v", a)
		}
		var buf bytes.Buffer
		if err := s.WriteCSV(ctx, &buf); err != nil || !strings.Contains(buf.String(), "missed 4 mm nodule") || strings.Count(buf.String(), "\n") != 3 {
			t.Fatalf("csv: %q %v", buf.String(), err)
		}
	})
}
