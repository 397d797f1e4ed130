package simulate

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/model"
)

// Suggestion is one roster change: put a reader who already holds the
// right credentials on duty for a few more hours.
type Suggestion struct {
	ReaderID  string          `json:"reader_id"`
	Zone      string          `json:"time_zone"`
	From, To  string          `json:"-"` // local wall clock, "15:00"
	Start     time.Time       `json:"start"`
	End       time.Time       `json:"end"`
	Shift     model.ShiftType `json:"shift"`
	Needs     string          `json:"needs"`  // what the studies it covers require
	Covers    int             `json:"covers"` // uncovered studies it would cover
	readerIdx int
}

func (s Suggestion) String() string {
	return fmt.Sprintf("put %s on duty %s–%s %s (%s): covers %d studies needing %s", s.ReaderID, s.From, s.To, s.Zone, s.Shift, s.Covers, s.Needs)
}

// Suggestions is the answer to "why uncovered, and what would fix it".
type Suggestions struct {
	Uncovered int          `json:"uncovered_at_arrival"` // no eligible reader on duty when the study arrived
	Changes   []Suggestion `json:"changes"`
	Before    *Result      `json:"before"`
	After     *Result      `json:"after"` // the same day re-run with Changes applied
}

// suggestWindow is the length of a suggested extra duty block.
const suggestWindow = 4 * time.Hour

// coverage indexes a scenario's readers by facility and licence state,
// with their scheduled spans, for the bound and for suggestions.
type coverage struct {
	shifts         [][]interval
	byFac, byState map[string][]int
}

func newCoverage(sc *Scenario, from, to time.Time) *coverage {
	c := &coverage{shifts: make([][]interval, len(sc.Readers)), byFac: map[string][]int{}, byState: map[string][]int{}}
	for i, r := range sc.Readers {
		c.shifts[i] = onShiftIntervals(r, from, to)
		seen := map[string]bool{}
		for _, p := range r.Privileges {
			if !seen[p.Facility] {
				seen[p.Facility] = true
				c.byFac[p.Facility] = append(c.byFac[p.Facility], i)
			}
		}
		for _, l := range r.Licenses {
			if !seen["state:"+l.State] {
				seen["state:"+l.State] = true
				c.byState[l.State] = append(c.byState[l.State], i)
			}
		}
	}
	return c
}

func (c *coverage) candidates(s *model.Study) []int {
	return assign.IntersectSorted(c.byState[s.State()], c.byFac[s.FacilityID])
}

func onDuty(ivs []interval, t time.Time) bool {
	for _, iv := range ivs {
		if !t.Before(iv.start) && t.Before(iv.end) {
			return true
		}
	}
	return false
}

// firstReadKinds are the reads that may come first for a study. The
// default configuration (PrelimFirst) may give an urgent study a prelim
// first; allowing a prelim for every study keeps the bound a bound.
func firstReadKinds(s *model.Study) []model.ReadKind {
	if s.Need == model.NeedPrelim {
		return []model.ReadKind{model.Prelim}
	}
	return []model.ReadKind{model.Final, model.Prelim}
}

func eligibleAt(r *model.Reader, s *model.Study, t time.Time) bool {
	online := model.ShiftState{OnShift: true, Presence: model.Online}
	for _, k := range firstReadKinds(s) {
		if len(model.Check(r, s, k, t, online)) == 0 {
			return true
		}
	}
	return false
}

// needs names what a study asks of its reader beyond licence and
// privileges, for grouping suggestions.
func needs(s *model.Study) string {
	switch {
	case s.IsMammography():
		return "mammography (MQSA, 5MP)"
	case s.SubspecialtyRequired && s.Subspecialty != "":
		return s.Subspecialty
	}
	return s.Modality + " in " + s.State()
}

// Suggest finds the studies no eligible reader was on duty for when they
// arrived and, greedily, the smallest set of extra duty blocks (up to
// max, each suggestWindow long, for readers who hold every credential
// the studies need) that covers most of them; then re-runs the day with
// the lightbox policy, before and after.
func Suggest(ctx context.Context, opt Options, max int) (*Suggestions, error) {
	opt.Policy = assign.PolicyLightbox
	sc, err := opt.scenario()
	if err != nil {
		return nil, err
	}
	opt.Built, opt.Variant = sc, "" // the variant is in sc now
	start := sc.Start
	end := start.Add(time.Duration(opt.Hours) * time.Hour)
	cov := newCoverage(sc, start, end.Add(opt.Drain))
	type key struct {
		reader int
		start  time.Time // window start, on the hour in UTC
	}
	covers := map[key][]int{}
	var uncovered []int
	for ai, a := range sc.Arrivals {
		if a.ArrivalTime.Before(start) || !a.ArrivalTime.Before(end) {
			continue
		}
		cands := cov.candidates(a)
		if slices.ContainsFunc(cands, func(i int) bool {
			return onDuty(cov.shifts[i], a.ArrivalTime) && eligibleAt(sc.Readers[i], a, a.ArrivalTime)
		}) {
			continue
		}
		uncovered = append(uncovered, ai)
		for _, i := range cands {
			if onDuty(cov.shifts[i], a.ArrivalTime) || !eligibleAt(sc.Readers[i], a, a.ArrivalTime) {
				continue
			}
			// Any window of suggestWindow that contains the arrival.
			h := a.ArrivalTime.Truncate(time.Hour)
			for back := range int(suggestWindow / time.Hour) {
				k := key{i, h.Add(-time.Duration(back) * time.Hour)}
				covers[k] = append(covers[k], ai)
			}
		}
	}
	out := &Suggestions{Uncovered: len(uncovered)}
	done := map[int]bool{}
	for len(out.Changes) < max {
		var best key
		bestN := 0
		for k, as := range covers {
			n := 0
			for _, ai := range as {
				if !done[ai] {
					n++
				}
			}
			if n > bestN || (n == bestN && n > 0 && (k.reader < best.reader || (k.reader == best.reader && k.start.Before(best.start)))) {
				best, bestN = k, n
			}
		}
		if bestN == 0 {
			break
		}
		r := sc.Readers[best.reader]
		need := map[string]int{}
		for _, ai := range covers[best] {
			if !done[ai] {
				done[ai] = true
				need[needs(sc.Arrivals[ai])]++
			}
		}
		delete(covers, best)
		s := Suggestion{ReaderID: r.ID, Zone: r.TimeZone, Start: best.start, End: best.start.Add(suggestWindow), Covers: bestN, readerIdx: best.reader}
		s.From, s.To = best.start.In(r.Loc).Format("15:04"), s.End.In(r.Loc).Format("15:04")
		switch h := best.start.In(r.Loc).Hour(); {
		case h >= 7 && h < 14:
			s.Shift = model.Dayhawk
		case h >= 14 && h < 21:
			s.Shift = model.Swing
		default:
			s.Shift = model.Nighthawk
		}
		s.Needs = topNeeds(need)
		out.Changes = append(out.Changes, s)
	}
	if out.Before, err = Run(ctx, opt); err != nil {
		return nil, err
	}
	opt.Built = withSuggestions(sc, out.Changes)
	if out.After, err = Run(ctx, opt); err != nil {
		return nil, err
	}
	out.Before.Label, out.After.Label = "as rostered", fmt.Sprintf("with %d changes", len(out.Changes))
	return out, nil
}

func topNeeds(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	var p []string
	for _, k := range keys[:min(3, len(keys))] {
		p = append(p, fmt.Sprintf("%s (%d)", k, m[k]))
	}
	return strings.Join(p, ", ")
}

// withSuggestions copies the scenario with the extra duty blocks added;
// the original (and its readers) are left as they were.
func withSuggestions(sc *Scenario, ch []Suggestion) *Scenario {
	c := *sc
	c.Readers = slices.Clone(sc.Readers)
	for _, s := range ch {
		r := *c.Readers[s.readerIdx]
		r.Blocks = append(slices.Clone(r.Blocks), model.Block{Type: s.Shift, Start: s.Start, End: s.End})
		if err := r.Resolve(); err != nil {
			panic(err) // it resolved before; only Blocks changed
		}
		c.Readers[s.readerIdx] = &r
	}
	return &c
}

// WriteSuggestions prints the suggestions and the before/after line.
func (s *Suggestions) WriteSuggestions(w io.Writer) error {
	fmt.Fprintf(w, "%d studies arrived with no eligible reader on duty. Smallest roster changes, greedy by studies covered:\n", s.Uncovered)
	if len(s.Changes) == 0 {
		fmt.Fprintln(w, "  none: no reader holding the credentials they need could be put on duty")
	}
	n := 0
	for i, c := range s.Changes {
		n += c.Covers
		fmt.Fprintf(w, "  %d. %s\n", i+1, c)
	}
	if len(s.Changes) > 0 {
		fmt.Fprintf(w, "  together: %d of %d (%.0f%%)\n", n, s.Uncovered, 100*float64(n)/float64(max(1, s.Uncovered)))
	}
	fmt.Fprintln(w, "Re-run with the changes applied (lightbox):")
	return WriteComparison(w, []*Result{s.Before, s.After})
}
