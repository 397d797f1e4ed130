package simulate

import (
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/model"
)

// PolicyBound is the offline bound: not a policy anyone can run, but the
// best first-read time any policy could reach on the same day.
const PolicyBound assign.Policy = "offline-bound"

// interval is a span when a reader is scheduled.
type interval struct{ start, end time.Time }

// onShiftIntervals lists the reader's scheduled spans overlapping
// [from, to), using the same shift rules as the engine.
func onShiftIntervals(r *model.Reader, from, to time.Time) []interval {
	var out []interval
	for t := from; t.Before(to); {
		on, until := model.ShiftWindow(r, t)
		if until.IsZero() || until.After(to) {
			until = to
		}
		if on {
			out = append(out, interval{t, until})
		}
		if !until.After(t) {
			break
		}
		t = until
	}
	return out
}

// boundFirstRead is the earliest moment study s could have its first read
// signed by anyone: the first instant at or after arrival when some
// reader is scheduled and passes Check for a first read (final, or prelim
// where a two-stage read is allowed), plus the study's own reading time,
// as if that reader were idle and nobody else needed them. ok is false
// when no reader could read it before stop.
//
// Every online policy assigns only to a reader who passes the same Check
// while scheduled, no earlier than arrival, and that read takes the same
// readTime, so its first read is never earlier than this: the bound is a
// per-study lower bound, and so are its percentiles over the same studies.
func boundFirstRead(sc *Scenario, seed uint64, s *model.Study, cov *coverage, stop time.Time) (time.Time, bool) {
	var best time.Time
	for _, i := range cov.candidates(s) {
		r := sc.Readers[i]
		for _, iv := range cov.shifts[i] {
			if !iv.end.After(s.ArrivalTime) {
				continue
			}
			t := iv.start
			if t.Before(s.ArrivalTime) {
				t = s.ArrivalTime
			}
			if !best.IsZero() && !t.Before(best) {
				break
			}
			if eligibleAt(r, s, t) {
				best = t
				break
			}
		}
	}
	if best.IsZero() || !best.Before(stop) {
		return time.Time{}, false
	}
	return best.Add(readTime(sc, seed, s, 0)), true
}

// runBound computes the offline bound for a scenario as a Result row:
// first-read TAT, SLA breaches and uncovered studies (no eligible reader
// scheduled at any time before the run stops). Utilisation and fairness
// do not apply and stay zero.
func (s *sim) runBound() {
	start := s.sc.Start
	end := start.Add(time.Duration(s.opt.Hours) * time.Hour)
	stop := end.Add(s.opt.Drain)
	cov := newCoverage(s.sc, start, stop)
	for _, a := range s.sc.Arrivals {
		if a.ArrivalTime.Before(start) || !a.ArrivalTime.Before(end) {
			continue
		}
		ss := &simStudy{s: a}
		s.studies[a.ID] = ss
		s.order = append(s.order, ss)
		if t, ok := boundFirstRead(s.sc, s.opt.Seed, a, cov, stop); ok && !t.After(stop) {
			ss.firstRead, ss.finalRead, ss.done = t, t, true
		} else {
			ss.uncovered = true
			s.res.Uncovered++
		}
	}
	s.now = stop
}
