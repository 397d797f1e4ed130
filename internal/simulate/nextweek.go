package simulate

import (
	"context"
	"fmt"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/model"
)

// Ahead runs the coming days' roster against the volume that arrived
// `days` days before from (issue #17 point 3: next week's roster against
// last week's volume): each past arrival is moved forward by days, the
// readers' weekly patterns, one-off shifts and absences are expanded over
// the moved window, and the Lightbox policy assigns. The arrivals keep
// their facility, priority and procedure; studies of facilities no longer
// configured are left out.
func Ahead(ctx context.Context, facs []model.Facility, readers []model.Reader, past []model.Study, from time.Time, days int) (*Result, error) {
	if days < 1 || days > 7 {
		return nil, fmt.Errorf("simulate: days must be 1 to 7")
	}
	shift := time.Duration(days) * 24 * time.Hour
	known := map[string]bool{}
	for _, f := range facs {
		known[f.ID] = true
	}
	moved := make([]model.Study, 0, len(past))
	for _, s := range past {
		if !known[s.FacilityID] {
			continue // a facility since removed: the coming week has no contract for it
		}
		s.ArrivalTime = s.ArrivalTime.Add(shift)
		if !s.OrderTime.IsZero() {
			s.OrderTime = s.OrderTime.Add(shift)
		}
		if !s.ExamTime.IsZero() {
			s.ExamTime = s.ExamTime.Add(shift)
		}
		moved = append(moved, s)
	}
	if len(moved) == 0 {
		return nil, fmt.Errorf("simulate: no studies reached the worklist in the %d days before %s", days, from.Format(time.RFC3339))
	}
	if len(readers) == 0 {
		return nil, fmt.Errorf("simulate: no readers configured")
	}
	sc, err := ScenarioFromConfig(Config{Name: "next " + from.Format("2006-01-02"), Start: from, Hours: days * 24, Facilities: facs, Readers: readers, Arrivals: moved})
	if err != nil {
		return nil, err
	}
	return Run(ctx, Options{Built: sc, Policy: assign.PolicyLightbox, Seed: 1, Hours: days * 24})
}
