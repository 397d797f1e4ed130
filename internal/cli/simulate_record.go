package cli

import (
	"context"
	"fmt"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/dispatch"
	"lightbox/internal/model"
	"lightbox/internal/simulate"
)

// recordDay runs one simulated day with the Lightbox policy and writes its
// studies and signed reads into the database, moved onto `day` (UTC), so
// the dashboards have a realistic day to show (docs/simulation.md).
func recordDay(ctx context.Context, env *Env, sf *storageFlags, opt simulate.Options, day string) error {
	target := time.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	if day != "yesterday" {
		var err error
		if target, err = time.Parse("2006-01-02", day); err != nil {
			return fmt.Errorf("--record must be YYYY-MM-DD or yesterday: %w", err)
		}
	}
	var reads []dispatch.Read
	opt.Policy = assign.PolicyLightbox
	opt.OnSigned = func(st *model.Study, reader string, kind model.ReadKind, at time.Time) {
		reads = append(reads, dispatch.Read{Study: *st, ReaderID: reader, Kind: kind.String(), SignedAt: at})
	}
	res, err := simulate.Run(ctx, opt)
	if err != nil {
		return err
	}
	if len(reads) == 0 {
		return fmt.Errorf("the simulated day signed nothing")
	}
	// Move the day: the scenario's first arrival's UTC day becomes target.
	first := reads[0].Study.ArrivalTime
	for _, r := range reads {
		if r.Study.ArrivalTime.Before(first) {
			first = r.Study.ArrivalTime
		}
	}
	shift := target.Sub(first.UTC().Truncate(24 * time.Hour))
	prefix := "sim-" + target.Format("20060102") + "-"
	for i := range reads {
		st := &reads[i].Study
		st.ID = prefix + st.ID
		st.ArrivalTime = st.ArrivalTime.Add(shift)
		if !st.OrderTime.IsZero() {
			st.OrderTime = st.OrderTime.Add(shift)
		}
		if !st.ExamTime.IsZero() {
			st.ExamTime = st.ExamTime.Add(shift)
		}
		reads[i].SignedAt = reads[i].SignedAt.Add(shift)
	}
	s, _, err := sf.open(ctx, env)
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := dispatch.RecordReads(ctx, s.DB, reads)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "recorded %d studies and %d signed reads of %q on %s (%d studies simulated, %.1f%% SLA breaches)\n",
		n, len(reads), res.Scenario, target.Format("2006-01-02"), res.Studies, res.SLABreachPct)
	return nil
}
