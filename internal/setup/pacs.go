package setup

import (
	"context"
	"fmt"

	"lightbox/internal/ae"
	"lightbox/internal/audit"
	"lightbox/internal/db"
	"lightbox/internal/priors"
)

// PutPACS registers a facility's PACS as the query/retrieve source of its
// patients' priors (internal/priors). The PACS is also registered as a
// remote AE of that facility, so the studies it sends back (C-MOVE to
// Lightbox) land in the facility's patient namespace.
func (s *Service) PutPACS(ctx context.Context, by Actor, src priors.Source) error {
	e := ae.Entity{Title: src.AETitle, Host: src.Host, Port: src.Port, FacilityID: src.FacilityID, TLS: src.TLS,
		Description: "PACS of facility " + src.FacilityID + " (priors)"}
	if err := e.Validate(); err != nil {
		return invalid("ae_title", "%v", err)
	}
	if err := src.Normalize(); err != nil {
		return invalid("", "%v", err)
	}
	return s.write(ctx, by, change{typ: audit.NetworkConfiguration, action: audit.Update, object: "pacs",
		detail: fmt.Sprintf("put PACS %s of facility %s (%d priors, wait %ds, %s)", src.AETitle, src.FacilityID, src.MaxPriors, src.WaitSeconds, src.Retrieve), facility: src.FacilityID},
		func(tx *db.Tx) error {
			if err := facilitySetUp(ctx, tx, src.FacilityID); err != nil {
				return err
			}
			if old, err := (ae.Store{DB: s.DB}).Get(ctx, src.AETitle); err == nil && old.FacilityID != src.FacilityID {
				return invalid("ae_title", "AE %s is registered for facility %q", src.AETitle, old.FacilityID)
			}
			if err := ae.Put(ctx, tx, e); err != nil {
				return err
			}
			return priors.PutSource(ctx, tx, src, s.now())
		})
}

// DeletePACS stops fetching priors from a facility's PACS (its AE stays
// registered; remove it with DeleteAE).
func (s *Service) DeletePACS(ctx context.Context, by Actor, facilityID string) error {
	return s.write(ctx, by, change{typ: audit.NetworkConfiguration, action: audit.Delete, object: "pacs", detail: "delete PACS of facility " + facilityID, facility: facilityID},
		func(tx *db.Tx) error {
			_, ok, err := priors.DeleteSource(ctx, tx, facilityID)
			return removed(ok, err, "facility %q has no PACS", facilityID)
		})
}

// PACSList returns every facility's PACS source.
func (s *Service) PACSList(ctx context.Context) ([]priors.Source, error) {
	return priors.ListSources(ctx, s.DB)
}
