package setup

import (
	"context"

	"lightbox/internal/ae"
	"lightbox/internal/audit"
	"lightbox/internal/db"
)

// PutAE registers a remote DICOM AE. The facility it sends for must exist
// ("*" = sends for every facility, "" = none).
func (s *Service) PutAE(ctx context.Context, by Actor, e ae.Entity) error {
	if err := e.Validate(); err != nil {
		return invalid("", "%v", err)
	}
	return s.write(ctx, by, change{typ: audit.NetworkConfiguration, action: audit.Update, object: "ae", detail: "put AE " + e.Title, facility: e.FacilityID},
		func(tx *db.Tx) error {
			if e.FacilityID != "" && e.FacilityID != "*" {
				if err := facilitySetUp(ctx, tx, e.FacilityID); err != nil {
					return err
				}
			}
			return ae.Put(ctx, tx, e)
		})
}

// DeleteAE removes a remote AE.
func (s *Service) DeleteAE(ctx context.Context, by Actor, title string) error {
	return s.write(ctx, by, change{typ: audit.NetworkConfiguration, action: audit.Delete, object: "ae", detail: "delete AE " + title},
		func(tx *db.Tx) error {
			ok, err := ae.Delete(ctx, tx, title)
			return removed(ok, err, "no AE %q", title)
		})
}
