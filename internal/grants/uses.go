package grants

import (
	"context"
	"slices"
)

// Access is a caller reaching one study, as the audit trail asks about it.
type Access struct {
	User  string
	Study string
	// Sees reports whether the caller's own facilities include facility.
	Sees func(facility string) bool
	// FacilityOf returns the study's facility (ok false when unknown).
	FacilityOf func(ctx context.Context, study string) (facility string, ok bool, err error)
}

// ThroughBreakGlass reports whether a radiologist reaches the study only
// through an emergency grant, so the audit trail marks the access.
func (s Sources) ThroughBreakGlass(ctx context.Context, a Access) bool {
	return s.BreakGlass != nil && only(ctx, a, s.BreakGlass.Active)
}

// ThroughBoard reports whether the caller reaches the study only through a
// tumor-board grant, so the audit trail marks each use.
func (s Sources) ThroughBoard(ctx context.Context, a Access) bool {
	return s.Boards != nil && only(ctx, a, s.Boards.Active)
}

// only: the grant lists the study and the caller's own scope does not
// reach the (stored) study.
func only(ctx context.Context, a Access, active func(context.Context, string) ([]string, error)) bool {
	studies, err := active(ctx, a.User)
	if err != nil || !slices.Contains(studies, a.Study) {
		return false
	}
	fac, exists, err := a.FacilityOf(ctx, a.Study)
	return err == nil && exists && !a.Sees(fac)
}
