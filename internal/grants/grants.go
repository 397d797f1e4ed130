package grants

import (
	"context"
	"slices"

	"lightbox/internal/breakglass"
	"lightbox/internal/consult"
	"lightbox/internal/tumorboard"
)

// Sources are the stores that grant single studies; a nil store grants
// nothing.
type Sources struct {
	BreakGlass *breakglass.Store
	Consults   *consult.Store
	Boards     *tumorboard.Store
}

// Studies returns the studies user may see beyond their facilities.
// Break-glass and consult grants are for radiologists only; tumor-board
// grants go to any participant.
func (s Sources) Studies(ctx context.Context, user string, radiologist bool) ([]string, error) {
	var out []string
	add := func(more []string, err error) error {
		for _, st := range more {
			if !slices.Contains(out, st) {
				out = append(out, st)
			}
		}
		return err
	}
	if radiologist && s.BreakGlass != nil {
		if err := add(s.BreakGlass.Active(ctx, user)); err != nil {
			return nil, err
		}
	}
	if radiologist && s.Consults != nil {
		if err := add(s.Consults.Granted(ctx, user)); err != nil {
			return nil, err
		}
	}
	if s.Boards != nil {
		if err := add(s.Boards.Active(ctx, user)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Allows reports whether user holds a grant to study.
func (s Sources) Allows(ctx context.Context, user string, radiologist bool, study string) bool {
	studies, err := s.Studies(ctx, user, radiologist)
	return err == nil && slices.Contains(studies, study)
}
