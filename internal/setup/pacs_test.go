package setup

import (
	"context"
	"testing"

	"lightbox/internal/ae"
	"lightbox/internal/db"
	"lightbox/internal/facility"
	"lightbox/internal/priors"
)

func TestFacilityPACS(t *testing.T) {
	eachService(t, func(t *testing.T, ctx context.Context, d *db.DB, s *Service) {
		for _, id := range []string{"SGH", "HBI"} {
			if err := s.PutFacility(ctx, admin, Facility{Facility: facility.Facility{ID: id, Name: id, State: "IL", TimeZone: "America/Chicago"}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutAE(ctx, admin, ae.Entity{Title: "HBI_PACS", Host: "10.0.0.2", Port: 104, FacilityID: "HBI"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			src  priors.Source
			code string
		}{
			{"unknown facility", priors.Source{FacilityID: "NOPE", AETitle: "PACS", Host: "10.0.0.1", Port: 104}, CodeUnknownFacility},
			{"no address", priors.Source{FacilityID: "SGH", AETitle: "PACS"}, CodeInvalid},
			{"every facility", priors.Source{FacilityID: "*", AETitle: "PACS", Host: "10.0.0.1", Port: 104}, CodeInvalid},
			{"bad retrieve", priors.Source{FacilityID: "SGH", AETitle: "PACS", Host: "10.0.0.1", Port: 104, Retrieve: "ftp"}, CodeInvalid},
			{"too many priors", priors.Source{FacilityID: "SGH", AETitle: "PACS", Host: "10.0.0.1", Port: 104, MaxPriors: 99}, CodeInvalid},
			{"another facility's AE", priors.Source{FacilityID: "SGH", AETitle: "HBI_PACS", Host: "10.0.0.1", Port: 104}, CodeInvalid},
			{"saved with defaults", priors.Source{FacilityID: "SGH", AETitle: "SGH_PACS", Host: "10.0.0.1", Port: 104}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := CodeOf(s.PutPACS(ctx, admin, tc.src)); got != tc.code {
					t.Errorf("code %q, want %q", got, tc.code)
				}
			})
		}
		l, err := s.PACSList(ctx)
		if err != nil || len(l) != 1 || l[0].MaxPriors != 2 || l[0].WaitSeconds != 60 || l[0].Retrieve != priors.Move {
			t.Fatalf("PACS list: %+v %v", l, err)
		}
		// The PACS is an AE of its facility: what it sends lands there.
		if e, err := (ae.Store{DB: d}).Get(ctx, "SGH_PACS"); err != nil || e.FacilityID != "SGH" {
			t.Errorf("PACS AE: %+v %v", e, err)
		}
		if err := s.DeletePACS(ctx, admin, "SGH"); err != nil {
			t.Fatal(err)
		}
		if CodeOf(s.DeletePACS(ctx, admin, "SGH")) != CodeNotFound {
			t.Error("deleting a missing PACS")
		}
		if n := auditCount(t, d, "pacs"); n != 2 {
			t.Errorf("%d audited PACS changes, want 2", n)
		}
	})
}
