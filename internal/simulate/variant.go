package simulate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"lightbox/internal/model"
)

// Variants are the surprises a day can bring, applied on top of a
// scenario to see how each policy degrades.
var Variants = []string{"dropout", "surge", "longtail"}

// applyVariant returns a copy of sc changed by the named variant:
//
//   - dropout: one on-duty reader in ten drops offline at a random moment
//     of their shift and does not come back that day;
//   - surge: from 17:00 to 19:00 ET the group receives twice its usual
//     volume, the extra studies all from one facility (the one sending the
//     most that day): a mass-casualty event, trauma CT read STAT;
//   - longtail: one read in twenty takes 1 + 3×Exp(1) times its usual time
//     (mean 4×), on top of the log-normal spread.
//
// The original scenario is not modified.
func applyVariant(sc *Scenario, name string, seed uint64, hours int, drain time.Duration) (*Scenario, error) {
	c := *sc
	rng := rand.New(rand.NewPCG(seed, 0xa11))
	start := sc.Start
	end := start.Add(time.Duration(hours) * time.Hour)
	switch name {
	case "", "none":
		return sc, nil
	case "dropout":
		c.Outages = slices.Clone(sc.Outages)
		stop := end.Add(drain)
		for _, r := range sc.Readers {
			var in []model.Block
			for _, b := range r.Blocks {
				if b.End.After(start) && b.Start.Before(end) {
					in = append(in, b)
				}
			}
			if len(in) == 0 || rng.IntN(10) != 0 {
				continue
			}
			b := in[rng.IntN(len(in))]
			lo, hi := maxTime(b.Start, start), minTime(b.End, end)
			at := lo.Add(time.Duration(rng.Float64() * float64(hi.Sub(lo))))
			c.Outages = append(c.Outages, Outage{ReaderID: r.ID, Start: at, Duration: stop.Sub(at)})
		}
	case "surge":
		from := start.Add(17 * time.Hour)
		to := from.Add(2 * time.Hour)
		count := map[string]int{}
		n := 0
		var site *model.Facility
		for _, a := range sc.Arrivals {
			if count[a.FacilityID]++; site == nil || count[a.FacilityID] > count[site.ID] {
				site = a.Facility
			}
			if !a.ArrivalTime.Before(from) && a.ArrivalTime.Before(to) {
				n++
			}
		}
		if site == nil {
			return sc, nil
		}
		tab := model.DefaultRVU()
		cpts := []string{"70450", "71250", "74177"}
		c.Arrivals = slices.Clone(sc.Arrivals)
		for i := range n {
			at := from.Add(time.Duration(rng.Float64() * float64(to.Sub(from)))).Truncate(time.Second)
			cpt := cpts[rng.IntN(len(cpts))]
			s := &model.Study{ID: fmt.Sprintf("M%06d", i+1), Facility: site, FacilityID: site.ID, Modality: "CT", CPT: cpt,
				BodyPart: map[string]string{"70450": "HEAD", "71250": "CHEST", "74177": "ABDOMEN"}[cpt], Priority: model.STAT, Trauma: true,
				ExamTime: at.Add(-5 * time.Minute), ArrivalTime: at, RelatedKey: fmt.Sprintf("%s-MCI%d", site.ID, i/3)}
			s.OrderTime = s.ExamTime.Add(-10 * time.Minute)
			s.WorkRVU, _ = tab.Lookup(cpt, model.DateIn(at, site.Loc))
			if site.ReadType == model.ReadPrelimOnly {
				s.Need = model.NeedPrelim
			}
			c.Arrivals = append(c.Arrivals, s)
		}
		sortArrivals(c.Arrivals)
	case "longtail":
		c.TailShare, c.TailFactor = 0.05, 3
	default:
		return nil, fmt.Errorf("simulate: unknown variant %q (want one of %v)", name, Variants)
	}
	c.Name = sc.Name + "+" + name
	return &c, nil
}
