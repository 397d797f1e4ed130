package mentor

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

func TestSelectedHitsShare(t *testing.T) {
	for _, share := range []float64{0, 10, 25, 100} {
		p := Policy{SharePercent: share}
		n := 0
		for i := range 4000 {
			if p.Selected(fmt.Sprintf("1.2.840.%d", i)) {
				n++
			}
		}
		if got := 100 * float64(n) / 4000; math.Abs(got-share) > 2 {
			t.Errorf("share %.0f%%: selected %.1f%%", share, got)
		}
	}
}

// A new reader's final goes to a senior of the same subspecialty (never a
// new colleague, never another subspecialty); the comment returns and the
// pair's history shows it. Off by default; established readers are not
// over-read.
func TestOverReadFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
		s := Store{DB: d, Now: func() time.Time { return now }}
		readers := []Reader{{ID: "new.neuro", Subspecialties: []string{"neuro"}}, {ID: "new.neuro2", Subspecialties: []string{"neuro"}},
			{ID: "senior.body", Subspecialties: []string{"body"}}, {ID: "senior.neuro", Subspecialties: []string{"neuro"}}}
		for r, d := range map[string]string{"new.neuro": "2026-06-01", "new.neuro2": "2026-09-01", "senior.neuro": "2019-01-01"} {
			if err := s.SetStart(ctx, r, d); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok, _ := s.Signed(ctx, "1.2.1", "new.neuro", true, readers); ok {
			t.Fatal("over-read while mentored reading is off")
		}
		if err := s.SetPolicy(ctx, Policy{Enabled: true, NewMonths: 12, SharePercent: 100, Stage: "after"}); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Signed(ctx, "1.2.1", "new.neuro", false, readers); ok {
			t.Fatal("over-read on a prelim with stage after")
		}
		o, ok, err := s.Signed(ctx, "1.2.1", "new.neuro", true, readers)
		if err != nil || !ok || o.Mentor != "senior.neuro" {
			t.Fatalf("over-read: %+v %v %v", o, ok, err)
		}
		if _, ok, _ := s.Signed(ctx, "1.2.2", "senior.neuro", true, readers); ok {
			t.Fatal("a senior's report was over-read")
		}
		if _, err := s.Comment(ctx, o.ID, "senior.body", "x"); err == nil {
			t.Fatal("someone else commented")
		}
		c, err := s.Comment(ctx, o.ID, "senior.neuro", "Mention the small vessel change in the impression.")
		if err != nil || c.Status != "commented" {
			t.Fatalf("comment: %+v %v", c, err)
		}
		h, err := s.History(ctx, "new.neuro", "senior.neuro")
		if err != nil || len(h) != 1 || h[0].Comment == "" {
			t.Fatalf("history: %+v %v", h, err)
		}
		// A year after starting the reader is established.
		now = time.Date(2027, 6, 2, 0, 0, 0, 0, time.UTC)
		if _, ok, _ := s.Signed(ctx, "1.2.3", "new.neuro", true, readers); ok {
			t.Fatal("over-read after the new period")
		}
	})
}
