package tumorboard

import (
	"context"
	"slices"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/scope"
)

// A participant without privileges at the case's facility gets a grant to
// that study; the scope rule honours it during the board and not after it.
func TestBoardGrantExpires(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 8, 16, 0, 0, 0, time.UTC)
		s := Store{DB: d, Now: func() time.Time { return now }}
		b, err := s.Create(ctx, "dr.rad", Board{Title: "Thoracic oncology", StartsAt: now, EndsAt: now.Add(time.Hour),
			Disciplines: []string{"radiology", "oncology", "thoracic surgery"}, Participants: []string{"dr.onc", "dr.outside"}})
		if err != nil {
			t.Fatal(err)
		}
		privileged := map[string][]string{"dr.rad": {"F1"}, "dr.onc": {"F1"}, "dr.outside": {"F2"}}
		sees := func(u, f string) bool { return slices.Contains(privileged[u], f) }
		c, grants, err := s.AddCase(ctx, b.ID, Case{StudyUID: "1.2.3", FacilityID: "F1", Presenter: "dr.rad"}, sees)
		if err != nil || len(grants) != 1 || grants[0].Username != "dr.outside" {
			t.Fatalf("add case: %+v %+v %v", c, grants, err)
		}
		if _, err := s.UpdateCase(ctx, b.ID, c.ID, "RUL 3 cm mass", "PET-CT, then lobectomy"); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Get(ctx, b.ID)
		if len(got.Cases) != 1 || got.Cases[0].Recommendation != "PET-CT, then lobectomy" {
			t.Fatalf("board: %+v", got)
		}
		allows := func() bool {
			studies, err := s.Active(ctx, "dr.outside")
			if err != nil {
				t.Fatal(err)
			}
			sc := scope.Scope{Facilities: privileged["dr.outside"], Studies: studies}
			return sc.AllowsStudy("1.2.3", "F1", "")
		}
		if !allows() {
			t.Fatal("participant from outside cannot open the case during the board")
		}
		now = now.Add(time.Hour + Grace - time.Minute)
		if !allows() {
			t.Fatal("grant ended before the grace period")
		}
		now = now.Add(2 * time.Minute)
		if allows() {
			t.Fatal("grant did not expire after the board")
		}
		if mine, _ := s.List(ctx, "dr.outside"); len(mine) != 1 {
			t.Fatalf("participant's boards: %+v", mine)
		}
		if mine, _ := s.List(ctx, "dr.nobody"); len(mine) != 0 {
			t.Fatalf("non-participant sees %+v", mine)
		}
	})
}
