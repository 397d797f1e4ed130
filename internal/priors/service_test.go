package priors

import (
	"context"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dispatch"
	"lightbox/internal/model"
)

// TestHold: what dispatch is told for a complete study, as the fetch moves
// on (the fetch itself runs against Orthanc in cmd/lightbox/priors_test.go).
func TestHold(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		s := New(Options{DB: d, Now: func() time.Time { return now }})
		if err := PutSource(ctx, d, Source{FacilityID: "SGH", AETitle: "PACS", Host: "10.0.0.1", Port: 104, WaitSeconds: 30}, now); err != nil {
			t.Fatal(err)
		}
		pt := dispatch.Patient{Issuer: "SGH-MRN", ID: "123", Name: "DOE^JANE", BirthDate: "19700101"}
		study := func(uid, fac string) *model.Study { return &model.Study{ID: uid, FacilityID: fac, Modality: "CT"} }
		set := func(q string, args ...any) {
			t.Helper()
			if _, err := d.Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		// An approved order asks ahead; its study then waits for that fetch.
		if err := s.Request(ctx, d, Request{StudyUID: "ordered", FacilityID: "SGH", Patient: Patient{ID: "123"}, By: "order approved"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			setup func()
			st    *model.Study
			after time.Duration
			want  dispatch.Hold
		}{
			{"facility without a PACS", nil, study("a", "HBI"), 0, dispatch.Proceed},
			{"first sight: the fetch starts", nil, study("b", "SGH"), 0, dispatch.Wait},
			{"fetch pending", nil, study("b", "SGH"), 29 * time.Second, dispatch.Wait},
			{"deadline passed: go on without", nil, study("b", "SGH"), 31 * time.Second, dispatch.Proceed},
			{"ordered study, fetch running", func() { set("UPDATE prior_fetch SET status = 'running' WHERE study_uid = 'ordered'") }, study("ordered", "SGH"), 0, dispatch.Wait},
			{"fetch done", func() { set("UPDATE prior_fetch SET status = 'done' WHERE study_uid = 'ordered'") }, study("ordered", "SGH"), 0, dispatch.Proceed},
			{"fetch failed", func() { set("UPDATE prior_fetch SET status = 'failed' WHERE study_uid = 'b'") }, study("b", "SGH"), 0, dispatch.Proceed},
			{"a retrieved prior is not reading work", func() {
				set(`INSERT INTO prior_link (study_uid, prior_uid, rank_, matched_by, status, fetched_at) VALUES ('b', 'old', 1, 'id', 'retrieving', '')`)
			}, study("old", "SGH"), 0, dispatch.NotForReading},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.setup != nil {
					tc.setup()
				}
				saved := now
				now = now.Add(tc.after)
				defer func() { now = saved }()
				if got := s.Hold(ctx, tc.st, pt); got != tc.want {
					t.Errorf("Hold = %d, want %d", got, tc.want)
				}
			})
		}
		f, err := FetchOf(ctx, d, "b")
		if err != nil || f.RequestedBy != "arrival" || f.DeadlineAt == "" {
			t.Errorf("fetch recorded at arrival: %+v %v", f, err)
		}
		// One claim per fetch, whoever asks.
		other := New(Options{DB: d, Now: func() time.Time { return now }})
		set("UPDATE prior_fetch SET status = 'pending'")
		a, b := s.claim(ctx), other.claim(ctx)
		if len(a)+len(b) != 2 || len(a) != 2 {
			t.Errorf("claims %v and %v, want both fetches claimed once", a, b)
		}
	})
}
