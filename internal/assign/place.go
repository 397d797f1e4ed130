package assign

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"lightbox/internal/model"
)

// upsertReader adds or replaces a reader and re-checks their leases now.
func (e *Engine) upsertReader(r *model.Reader, out *decisions) error {
	if r == nil || r.ID == "" {
		return fmt.Errorf("%w: empty reader", ErrUnknownReader)
	}
	// Always re-resolve: it rebuilds the reader's privilege index too.
	if err := r.Resolve(); err != nil {
		return err
	}
	rs := e.byID[r.ID]
	if rs == nil {
		rs = &readerState{idx: int32(len(e.readers))}
		e.readers = append(e.readers, rs)
		e.byID[r.ID] = rs
		e.active++
	} else {
		e.unindex(rs)
	}
	rs.r = r
	rs.extra = r.ExtraWork
	rs.shiftKnown = false
	e.index(rs)
	// A lapse or narrowed privilege must pull studies at once (L4, C6).
	for _, st := range rs.queue {
		st.validUntil = e.now
	}
	e.nextWake = e.now
	e.sweep(out)
	e.fill(rs, out)
	return nil
}

func (e *Engine) index(rs *readerState) {
	rs.facs, rs.states = map[string]bool{}, map[string]bool{}
	for _, p := range rs.r.Privileges {
		if !rs.facs[p.Facility] {
			rs.facs[p.Facility] = true
			e.byFacility[p.Facility] = insertSorted(e.byFacility[p.Facility], rs.idx)
		}
	}
	for _, l := range rs.r.Licenses {
		if !rs.states[l.State] {
			rs.states[l.State] = true
			e.byState[l.State] = insertSorted(e.byState[l.State], rs.idx)
		}
	}
}

func (e *Engine) unindex(rs *readerState) {
	for f := range rs.facs {
		e.byFacility[f] = removeSorted(e.byFacility[f], rs.idx)
	}
	for s := range rs.states {
		e.byState[s] = removeSorted(e.byState[s], rs.idx)
	}
	rs.facs, rs.states = nil, nil
}

func insertSorted(a []int32, v int32) []int32 {
	i, ok := slices.BinarySearch(a, v)
	if ok {
		return a
	}
	return slices.Insert(a, i, v)
}

func removeSorted(a []int32, v int32) []int32 {
	if i, ok := slices.BinarySearch(a, v); ok {
		return slices.Delete(a, i, i+1)
	}
	return a
}

// candidates intersects the licence-state and facility-privilege indexes:
// only readers holding some licence record for the patient's state and
// some privilege record at the facility can possibly pass Check.
func (e *Engine) candidates(st *studyState) []int32 {
	return IntersectSorted(e.byState[st.s.State()], e.byFacility[st.s.FacilityID])
}

// IntersectSorted returns the elements two ascending slices share, in
// order (the simulator's offline bound uses the same candidate indexes).
func IntersectSorted[T cmp.Ordered](a, b []T) []T {
	out := make([]T, 0, min(len(a), len(b)))
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

func (e *Engine) filtered(st *studyState, ncand int) []Filtered {
	state := st.s.State()
	nState := len(e.byState[state])
	var f []Filtered
	if n := e.active - nState; n > 0 {
		f = append(f, Filtered{Reason: "no " + state + " licence on file", Count: n})
	}
	if n := nState - ncand; n > 0 {
		f = append(f, Filtered{Reason: "no privilege at " + facName(st.s.Facility) + " on file", Count: n})
	}
	return f
}

func facName(f *model.Facility) string {
	if f.Name != "" {
		return f.Name
	}
	return f.ID
}

// eligibleKind decides which read this reader may give: a final when
// allowed, else a prelim where a two-stage read is acceptable.
func (e *Engine) eligibleKind(rs *readerState, st *studyState, ss model.ShiftState) (model.ReadKind, []model.Exclusion) {
	ex := e.cfg.Rules.Check(rs.r, st.s, st.stage, e.now, ss)
	if len(ex) == 0 || st.stage == model.Prelim || st.finalStage {
		return st.stage, ex
	}
	if st.s.Need == model.NeedPrelimThenFinal || (e.cfg.PrelimFirst && st.urgent()) {
		if ex2 := e.cfg.Rules.Check(rs.r, st.s, model.Prelim, e.now, ss); len(ex2) == 0 {
			return model.Prelim, nil
		}
	}
	return st.stage, ex
}

// reserved reports whether leasing st to the idle reader rs would leave
// too few idle readers who could serve the same facility: a local trunk
// reservation, so that an urgent study from there (or from the facilities
// those readers share) finds someone free.
//
// Routine and ASAP work leaves ReserveIdle readers idle unless its deadline
// is within ReserveBypass. STAT and trauma leave StrokeReserve readers idle
// for stroke, whose p95 goal is tighter than theirs (docs/simulation.md),
// but only when a busy colleague can queue the study instead: they are
// never left waiting in the shared list because of it. Stroke is never held.
func (e *Engine) reserved(rs *readerState, st *studyState) bool {
	if e.cfg.Policy != PolicyLightbox || len(rs.queue) > 0 {
		return false
	}
	need := e.cfg.ReserveIdle
	switch {
	case st.class() == model.ClassStroke:
		return false
	case st.urgent():
		need = e.cfg.StrokeReserve
	case st.deadline.Sub(e.now) < e.cfg.ReserveBypass:
		return false
	}
	if need <= 0 {
		return false
	}
	idle, others, queueable := 0, 0, false
	for _, i := range e.candidates(st) {
		if o := e.readers[i]; o != rs && o.available && !o.removed {
			others++
			if len(o.queue) == 0 {
				if idle++; idle >= need {
					return false
				}
			} else if !queueable && st.urgent() && e.atCap(o, st) == "" {
				queueable = true
			}
		}
	}
	// Never hold back the only readers there are: with fewer than two
	// others on duty for the facility, the work goes ahead.
	if others < 2 || (st.urgent() && !queueable) {
		return false
	}
	e.heldBack = true
	return true
}

const capReserve = "kept free for urgent work (reserve)"

// routineFull: the reader already holds RoutineAhead unopened non-urgent
// leases (lightbox only).
func (e *Engine) routineFull(rs *readerState) bool {
	if e.cfg.Policy != PolicyLightbox || e.cfg.RoutineAhead <= 0 {
		return false
	}
	n := 0
	for _, q := range rs.queue {
		if !q.opened && !q.urgent() {
			n++
		}
	}
	return n >= e.routineAhead(rs)
}

// routineAhead is RoutineAhead, one more for a reader who opted in to
// extra work.
func (e *Engine) routineAhead(rs *readerState) int {
	if rs.extra {
		return e.cfg.RoutineAhead + 1
	}
	return e.cfg.RoutineAhead
}

// limits states a reader's caps, target and opt-in, for explanations.
func (e *Engine) limits(rs *readerState) string {
	var p []string
	if n := rs.r.MaxOpenCases; n > 0 {
		p = append(p, fmt.Sprintf("own cap %d open cases", n))
	} else {
		p = append(p, fmt.Sprintf("group cap %d open cases (+%d for urgent)", e.cfg.DefaultMaxOpen, e.cfg.UrgentOverflow))
	}
	if c := rs.r.MaxRVUPerHour; c > 0 {
		p = append(p, fmt.Sprintf("own cap %.1f RVU/h", c))
	}
	if t := rs.r.RVUTargetPerHour; t > 0 {
		p = append(p, fmt.Sprintf("target %.1f RVU/h, at %.0f%% of it this shift", t, 100*e.pace(rs)))
	}
	if rs.extra {
		p = append(p, "opted in to extra work")
	}
	return strings.Join(p, "; ")
}

// atCap explains why an eligible reader cannot take more work now.
func (e *Engine) atCap(rs *readerState, st *studyState) string {
	if e.reserved(rs, st) {
		return capReserve
	}
	// A reader's own cap is a promise to them: it holds for urgent work
	// too. Only the group default stretches for urgent studies.
	max := rs.r.MaxOpenCases
	own := max > 0
	if !own {
		max = e.cfg.DefaultMaxOpen
	}
	if e.cfg.Policy == PolicySharedPool {
		max = 1 // a shared pool reader takes one case at a time
	}
	if st.urgent() && e.cfg.Policy != PolicySharedPool && !own {
		max += e.cfg.UrgentOverflow
	}
	if len(rs.queue) >= max {
		if own {
			return fmt.Sprintf("%d open cases (own cap %d)", len(rs.queue), max)
		}
		return fmt.Sprintf("%d open cases (cap %d)", len(rs.queue), max)
	}
	if !st.urgent() && e.routineFull(rs) {
		return fmt.Sprintf("%d unopened routine case(s) queued (late binding keeps routine work in the shared list)", e.routineAhead(rs))
	}
	if c := rs.r.MaxRVUPerHour; c > 0 {
		done := 0.0
		cut := e.now.Add(-time.Hour)
		k := 0
		for _, x := range rs.recent {
			if x.at.After(cut) {
				rs.recent[k] = x
				k++
				done += x.rvu
			}
		}
		rs.recent = rs.recent[:k]
		if done+rs.queuedRVU+st.s.WorkRVU > c {
			return fmt.Sprintf("%.1f RVU in the last hour + queue (cap %.1f/h)", done+rs.queuedRVU, c)
		}
	}
	return ""
}

func (e *Engine) effort(r *model.Reader, s *model.Study) time.Duration {
	if e.cfg.Effort != nil {
		return e.cfg.Effort(r, s)
	}
	pace := r.RVUTargetPerHour
	if pace <= 0 {
		pace = 10
	}
	rvu := s.WorkRVU
	if rvu <= 0 {
		rvu = 0.5
	}
	return time.Duration(rvu / pace * float64(time.Hour))
}

// score is the lightbox score of giving st to rs as a read of kind.
func (e *Engine) score(rs *readerState, st *studyState, kind model.ReadKind) Score {
	w := e.cfg.Weights
	var sc Score
	sc.ExpectedStart = e.now.Add(e.startIn(rs, st))
	sc.ExpectedFinish = sc.ExpectedStart.Add(e.effort(rs.r, st.s))
	mins := sc.ExpectedFinish.Sub(e.now).Minutes()
	tw := w.RoutineTime
	switch c := st.class(); {
	case c.Urgent():
		tw = w.UrgentTime
	case c == model.ClassASAP:
		tw = w.ASAPTime
	}
	sc.Time = -tw * mins
	sc.SlackMin = st.deadline.Sub(sc.ExpectedFinish).Minutes()
	if sc.SlackMin < 0 {
		sc.Late = w.LatePenalty * tw * sc.SlackMin
	}
	if !st.urgent() {
		// Queued routine work does not delay an urgent read (it goes
		// first), so only routine placement spreads by queue size.
		sc.Queue = -w.QueueRVU * rs.queuedRVU
	}
	if sub := st.s.Subspecialty; sub != "" && rs.r.HasSubspecialty(sub) {
		sc.Subspec = w.SubspecialtyMin
	}
	if p := e.peerPace; p > 0 && rs.onShift {
		// Behind colleagues on shift now (pace relative to one's own
		// target) → bonus; ahead → malus. Relative to peers, not to the
		// target alone: on a quiet night everyone is behind target, and
		// the work there is should still be shared evenly.
		sc.Fairness = w.FairnessMin * clamp((p-e.pace(rs))/p, -1, 1)
		if rs.extra && sc.Fairness < 0 {
			sc.Fairness = 0 // asked for more: being ahead is not held against them
		}
	}
	if k := st.s.RelatedKey; k != "" && e.related[k] == rs.r.ID {
		sc.Continuity = w.ContinuityMin
	}
	if kind == model.Prelim && st.s.Need != model.NeedPrelim {
		sc.ExtraRead = -w.ExtraReadMin
	}
	sc.Total = sc.Time + sc.Late + sc.Queue + sc.Subspec + sc.Fairness + sc.Continuity + sc.ExtraRead
	return sc
}

// remaining estimates what is left of an opened read: the expected
// effort less the time already spent, but never below a fifth of it, as
// a read that runs long tends to run longer still.
func (e *Engine) remaining(rs *readerState, q *studyState) time.Duration {
	eff := e.effort(rs.r, q.s)
	if q.openedAt.IsZero() {
		return eff / 2
	}
	return max(eff-e.now.Sub(q.openedAt), eff/5)
}

// pace is the reader's RVU per hour so far this shift as a share of their
// target (10 RVU/h when none is set).
func (e *Engine) pace(rs *readerState) float64 {
	t := rs.r.RVUTargetPerHour
	if t <= 0 {
		t = 10
	}
	hours := math.Max(e.now.Sub(rs.shiftStart).Hours(), 0.5)
	return rs.shiftRVU / hours / t
}

type eval struct {
	rs    *readerState
	kind  model.ReadKind
	ex    []model.Exclusion
	cap   string
	score Score
	avoid bool
}

func (e *Engine) evaluate(st *studyState, withScore bool) []eval {
	cand := e.candidates(st)
	evs := make([]eval, 0, len(cand))
	for _, idx := range cand {
		rs := e.readers[idx]
		if rs.removed {
			continue
		}
		ev := eval{rs: rs}
		ev.kind, ev.ex = e.eligibleKind(rs, st, e.shiftState(rs))
		if len(ev.ex) == 0 {
			ev.cap = e.atCap(rs, st)
			ev.avoid = slices.Contains(st.avoid, rs.r.ID)
			if ev.cap == "" && withScore {
				ev.score = e.score(rs, st, ev.kind)
			}
		}
		evs = append(evs, ev)
	}
	return evs
}

// place tries to lease a waiting study according to the policy.
func (e *Engine) place(st *studyState, out *decisions) bool {
	if st.st != waiting {
		return false
	}
	evs := e.evaluate(st, e.cfg.Policy == PolicyLightbox)
	pick := e.pick(st, evs)
	if pick < 0 {
		eligible := slices.ContainsFunc(evs, func(v eval) bool { return len(v.ex) == 0 })
		if !eligible {
			if !st.uncovered {
				st.uncovered = true
				out.add(Decision{Kind: KindUncovered, At: e.now, StudyID: st.s.ID, Stage: st.stage, Code: "uncovered",
					Reason: e.missing(st, evs), Policy: e.cfg.Policy, Others: e.others(evs, -1), Filtered: e.filtered(st, len(evs))})
			}
		} else if !st.queued {
			st.queued = true
			reason := "all eligible readers are at their caps"
			if e.cfg.Policy == PolicySharedPool {
				reason = "in the shared pool"
			}
			out.add(Decision{Kind: KindQueued, At: e.now, StudyID: st.s.ID, Stage: st.stage, Reason: reason, Policy: e.cfg.Policy})
		}
		return false
	}
	ch := evs[pick]
	var sc *Score
	if e.cfg.Policy == PolicyLightbox {
		s := ch.score
		sc = &s
	}
	e.assign(st, ch.rs, ch.kind, sc, e.others(evs, pick), e.filtered(st, len(evs)), "", out)
	return true
}

// pick chooses among evaluations; -1 when nobody eligible has capacity.
// Readers who let this study time out or released it are chosen only when
// nobody else can take it.
func (e *Engine) pick(st *studyState, evs []eval) int {
	best := -1
	for pass := 0; pass < 2 && best < 0; pass++ {
		for i := range evs {
			v := &evs[i]
			if len(v.ex) > 0 || v.cap != "" || (pass == 0 && v.avoid) {
				continue
			}
			switch e.cfg.Policy {
			case PolicyRoundRobin:
				// first reader after the rotation pointer, wrapping around
				if best < 0 || (evs[best].rs.idx <= e.rr && v.rs.idx > e.rr) {
					best = i
				}
			case PolicySharedPool:
				// Push only to an idle reader (someone watching the list
				// grabs a new case); which idle reader is chance.
				if len(v.rs.queue) > 0 {
					continue
				}
				if best < 0 || e.noise() < 0.5 {
					best = i
				}
			default:
				if best < 0 || v.score.Total > evs[best].score.Total ||
					(v.score.Total == evs[best].score.Total && v.rs.r.ID < evs[best].rs.r.ID) {
					best = i
				}
			}
		}
	}
	if best >= 0 && e.cfg.Policy == PolicyRoundRobin {
		e.rr = evs[best].rs.idx
	}
	return best
}

func (e *Engine) noise() float64 {
	if e.cfg.Rand == nil {
		return 0.5
	}
	return e.cfg.Rand.Float64()
}

// others lists, for every candidate except the chosen one, why it lost.
func (e *Engine) others(evs []eval, chosen int) []Candidate {
	out := make([]Candidate, 0, len(evs))
	for i, v := range evs {
		if i == chosen {
			continue
		}
		c := Candidate{ReaderID: v.rs.r.ID, Exclusions: v.ex, AtCap: v.cap}
		if len(v.ex) == 0 {
			c.Kind = v.kind
			if v.cap == "" && e.cfg.Policy == PolicyLightbox {
				s := v.score
				c.Score = &s
			}
		}
		out = append(out, c)
	}
	if e.cfg.Policy == PolicyLightbox {
		slices.SortStableFunc(out, func(a, b Candidate) int {
			if (a.Score == nil) != (b.Score == nil) {
				if a.Score != nil {
					return -1
				}
				return 1
			}
			if a.Score != nil {
				return cmp.Or(cmp.Compare(b.Score.Total, a.Score.Total), cmp.Compare(a.ReaderID, b.ReaderID))
			}
			return cmp.Compare(a.ReaderID, b.ReaderID)
		})
		for i := range out {
			if out[i].Score != nil {
				out[i].Rank = i + 2
			}
		}
	}
	return out
}

// missing names what nobody has, e.g. "no online reader with an active WY
// licence and privileges at Facility 12".
func (e *Engine) missing(st *studyState, evs []eval) string {
	base := fmt.Sprintf("an active %s licence and privileges at %s", st.s.State(), facName(st.s.Facility))
	if st.stage == model.Final {
		base = "a US location, " + base
	}
	if st.s.IsMammography() {
		base += ", MQSA qualification and a 5MP workstation"
	}
	if st.s.SubspecialtyRequired && st.s.Subspecialty != "" {
		base += " and " + st.s.Subspecialty + " qualification"
	}
	if len(evs) == 0 {
		return "no reader with " + base
	}
	// Count blocking reasons among readers who are online and on shift.
	counts := map[model.Code]int{}
	example := map[model.Code]string{}
	live := 0
	for _, v := range evs {
		hard := false
		for _, x := range v.ex {
			if x.Code == model.CodeNotOnShift || x.Code == model.CodeOffline || x.Code == model.CodeAway {
				hard = true
			}
		}
		if hard {
			continue
		}
		live++
		for _, x := range v.ex {
			counts[x.Code]++
			if _, ok := example[x.Code]; !ok {
				example[x.Code] = x.Reason
			}
		}
	}
	msg := "no online reader with " + base
	if live > 0 {
		codes := make([]model.Code, 0, len(counts))
		for c := range counts {
			codes = append(codes, c)
		}
		slices.SortFunc(codes, func(a, b model.Code) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b)) })
		var parts []string
		for _, c := range codes[:min(3, len(codes))] {
			parts = append(parts, fmt.Sprintf("%s (%d)", example[c], counts[c]))
		}
		msg += "; online candidates excluded: " + strings.Join(parts, ", ")
	}
	return msg
}

// fill gives a reader who has capacity the most urgent waiting studies
// they may read (push policies), or lets them pick (shared pool).
func (e *Engine) fill(rs *readerState, out *decisions) { e.fillFrom(rs, false, out) }

// fillFrom is fill; relook skips studies reported uncovered (nobody
// eligible is on duty), which a reader coming on duty re-examines anyway:
// the periodic look of idle readers is then cheap on a long list.
func (e *Engine) fillFrom(rs *readerState, relook bool, out *decisions) {
	if rs.removed {
		return
	}
	ss := e.shiftState(rs)
	if ss.Presence != model.Online || !ss.OnShift {
		return
	}
	if e.cfg.Policy == PolicySharedPool {
		e.cherryPick(rs, ss, out)
		return
	}
	if e.cfg.Policy == PolicyLightbox {
		defer e.steal(rs, ss, out)
	}
	capN := rs.r.MaxOpenCases
	if capN <= 0 {
		capN = e.cfg.DefaultMaxOpen
	}
	var held map[string]bool
	for i := 0; i < len(e.waiting); i++ {
		// The waiting list is sorted most urgent first: once the reader is
		// full for routine work and we are past the urgent studies, stop.
		if n := len(rs.queue); n >= capN+e.cfg.UrgentOverflow {
			return
		}
		st := e.waiting[i]
		if len(rs.queue) >= capN && !st.urgent() {
			return
		}
		if !st.urgent() && e.routineFull(rs) {
			return
		}
		if relook && st.uncovered {
			continue
		}
		if !rs.facs[st.s.FacilityID] || !rs.states[st.s.State()] {
			continue
		}
		if !st.urgent() && held[st.s.FacilityID] && st.deadline.Sub(e.now) >= e.cfg.ReserveBypass {
			continue // this facility's reserve already said no
		}
		if _, ex := e.eligibleKind(rs, st, ss); len(ex) > 0 {
			continue
		}
		if c := e.atCap(rs, st); c != "" {
			if c == capReserve {
				if held == nil {
					held = map[string]bool{}
				}
				held[st.s.FacilityID] = true
			}
			continue
		}
		if e.place(st, out) {
			i-- // st left the waiting list
		}
	}
}

// cherryPick is the shared-pool reader's choice: the eligible waiting case
// with the best RVU per expected minute, with a little human noise and a
// nudge for flagged urgent cases. Hard rules are the same Check.
func (e *Engine) cherryPick(rs *readerState, ss model.ShiftState, out *decisions) {
	for {
		best, bestV := -1, 0.0
		var bestKind model.ReadKind
		for i, st := range e.waiting {
			if !rs.facs[st.s.FacilityID] || !rs.states[st.s.State()] {
				continue
			}
			kind, ex := e.eligibleKind(rs, st, ss)
			if len(ex) > 0 || e.atCap(rs, st) != "" {
				continue
			}
			mins := math.Max(e.effort(rs.r, st.s).Minutes(), 0.5)
			v := st.s.WorkRVU / mins * (0.75 + 0.5*e.noise())
			if st.urgent() {
				v *= 1.3
			}
			if best < 0 || v > bestV {
				best, bestV, bestKind = i, v, kind
			}
		}
		if best < 0 {
			return
		}
		st := e.waiting[best]
		e.assign(st, rs, bestKind, nil, nil, e.filtered(st, 0), "picked from shared pool", out)
	}
}

// steal lets a reader with no urgent work in hand take the most urgent
// unopened study queued behind another reader's open case, when they
// would start it at least StealGain sooner. A case being read is never
// interrupted; an urgent study moves at most MaxSteals times.
func (e *Engine) steal(rs *readerState, ss model.ShiftState, out *decisions) {
	for _, q := range rs.queue {
		if q.opened || q.urgent() {
			return
		}
	}
	var best *studyState
	var bestKind model.ReadKind
	for _, o := range e.readers {
		if o == rs || o.removed {
			continue
		}
		for _, st := range o.queue {
			if st.opened || !st.urgent() || st.steals >= e.cfg.MaxSteals || (best != nil && !st.before(best)) {
				continue
			}
			if !rs.facs[st.s.FacilityID] || !rs.states[st.s.State()] || slices.Contains(st.avoid, rs.r.ID) {
				continue
			}
			if e.startIn(o, st) < e.cfg.StealGain+e.startIn(rs, st) {
				continue
			}
			k, ex := e.eligibleKind(rs, st, ss)
			if len(ex) > 0 || e.atCap(rs, st) != "" {
				continue
			}
			best, bestKind = st, k
		}
	}
	if best == nil {
		return
	}
	from := best.reader
	best.steals++
	e.unassign(best, ReasonStolen, "an idle reader can start it sooner", out)
	sc := e.score(rs, best, bestKind)
	e.assign(best, rs, bestKind, &sc, nil, nil, "taken from "+from.r.ID+"'s queue: starts sooner", out)
}

// startIn is how long until the reader would open st (the expected
// remainder of their open case plus the queued work read before it).
func (e *Engine) startIn(rs *readerState, st *studyState) time.Duration {
	var wait time.Duration
	for _, q := range rs.queue {
		switch {
		case q == st:
		case q.opened:
			wait += e.remaining(rs, q)
		case q.before(st):
			wait += e.effort(rs.r, q.s)
		}
	}
	return wait
}

// rebalance moves an unopened study whose deadline is at risk to an idle
// reader who would finish it at least RebalanceGain sooner. To avoid
// ping-pong a study moves at most MaxMoves times for this reason, only
// while unopened, and only to a reader with an empty queue (so the new
// projection cannot be undercut by that reader's own backlog), and only
// when the current projection already misses the deadline.
func (e *Engine) rebalance(out *decisions) {
	var idle []*readerState
	for _, rs := range e.readers {
		if !rs.removed && rs.available && len(rs.queue) == 0 {
			idle = append(idle, rs)
		}
	}
	if len(idle) == 0 {
		return
	}
	type move struct {
		st *studyState
		to *readerState
		k  model.ReadKind
		sc Score
	}
	var moves []move
	taken := map[*readerState]bool{}
	for _, rs := range e.readers {
		for _, st := range rs.queue {
			if st.opened || st.moves >= e.cfg.MaxMoves {
				continue
			}
			cur := e.score(rs, st, st.stage)
			if !cur.ExpectedFinish.After(st.deadline) {
				continue
			}
			var bestTo *readerState
			var bestSc Score
			var bestK model.ReadKind
			for _, to := range idle {
				if taken[to] || !to.facs[st.s.FacilityID] || !to.states[st.s.State()] {
					continue
				}
				k, ex := e.eligibleKind(to, st, e.shiftState(to))
				if len(ex) > 0 || e.atCap(to, st) != "" {
					continue
				}
				sc := e.score(to, st, k)
				if sc.ExpectedFinish.Add(e.cfg.RebalanceGain).After(cur.ExpectedFinish) {
					continue
				}
				if bestTo == nil || sc.Total > bestSc.Total {
					bestTo, bestSc, bestK = to, sc, k
				}
			}
			if bestTo != nil {
				taken[bestTo] = true
				moves = append(moves, move{st, bestTo, bestK, bestSc})
			}
		}
	}
	for _, m := range moves {
		from := m.st.reader
		m.st.moves++
		e.unassign(m.st, ReasonDeadline, fmt.Sprintf("deadline at risk: %s would finish %s sooner", m.to.r.ID, "≥"+e.cfg.RebalanceGain.String()), out)
		sc := m.sc
		e.assign(m.st, m.to, m.k, &sc, nil, nil, "moved: deadline at risk with "+from.r.ID, out)
	}
}

// Explain runs Check for every reader against a study on the worklist, for
// a coordinator asking "why not Dr X?".
func (e *Engine) Explain(studyID string) ([]Candidate, error) {
	st, err := e.study(studyID)
	if err != nil {
		return nil, err
	}
	var out []Candidate
	for _, rs := range e.readers {
		if rs.removed {
			continue
		}
		k, ex := e.eligibleKind(rs, st, e.shiftState(rs))
		c := Candidate{ReaderID: rs.r.ID, Exclusions: ex, Kind: k, Limits: e.limits(rs)}
		if len(ex) == 0 {
			c.AtCap = e.atCap(rs, st)
			s := e.score(rs, st, k)
			c.Score = &s
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Candidate) int { return cmp.Compare(a.ReaderID, b.ReaderID) })
	return out, nil
}
