package simulate

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/model"
)

// Options select what to simulate.
type Options struct {
	Scenario string    // "small", "national" or a Params JSON file
	Built    *Scenario // a ready scenario (ScenarioFromConfig); overrides Scenario
	Policy   assign.Policy
	Seed     uint64
	Hours    int           // arrival window; default 24
	Drain    time.Duration // keep running after arrivals stop; default 4 h
	Variant  string        // a surprise on top of the scenario: see Variants
	// OnSigned, when set, sees every signed read as it happens (the
	// study as simulated, its reader, prelim or final, and when).
	OnSigned func(st *model.Study, readerID string, kind model.ReadKind, at time.Time)
}

type evKind uint8

const (
	evArrival evKind = iota
	evHeartbeats
	evReadDone
	evOutageStart
	evOutageEnd
)

type simEvent struct {
	at   time.Time
	seq  uint64
	kind evKind
	i    int    // arrival index / reader index / outage index
	gen  uint64 // read generation, to ignore aborted reads
}

type eventQueue []simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return cmp.Or(q[i].at.Compare(q[j].at), cmp.Compare(q[i].seq, q[j].seq)) < 0
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

type simReader struct {
	idx       int
	r         *model.Reader
	queue     []*simStudy
	reading   *simStudy
	gen       uint64
	readStart time.Time
	down      bool
	lastHB    time.Time
	busy      time.Duration
	rvu       float64
	onDuty    time.Duration
	// Fairness counts cover the arrival window only: in the drain after
	// it nobody can be given work, so it would measure the clock, not the
	// engine.
	winRVU         float64
	winDuty        time.Duration
	winReads, hard int
	shift          model.ShiftType
}

type simStudy struct {
	s          *model.Study
	stage      model.ReadKind
	holder     *simReader
	firstRead  time.Time
	finalRead  time.Time
	uncovered  bool
	done       bool
	finalStage bool
}

type sim struct {
	sc       *Scenario
	opt      Options
	eng      *assign.Engine
	rng      *rand.Rand
	q        eventQueue
	seq      uint64
	now      time.Time
	readers  []*simReader
	byReader map[string]*simReader
	studies  map[string]*simStudy
	order    []*simStudy
	res      *Result
}

// Run simulates one scenario under one policy.
func Run(ctx context.Context, opt Options) (*Result, error) {
	wall := time.Now()
	if opt.Policy == "" {
		opt.Policy = assign.PolicyLightbox
	}
	switch opt.Policy {
	case assign.PolicyLightbox, assign.PolicyRoundRobin, assign.PolicySharedPool, PolicyBound:
	default:
		return nil, fmt.Errorf("simulate: unknown policy %q", opt.Policy)
	}
	sc, err := opt.scenario()
	if err != nil {
		return nil, err
	}
	s := &sim{sc: sc, opt: opt, rng: rand.New(rand.NewPCG(opt.Seed, 0x51)), byReader: map[string]*simReader{}, studies: map[string]*simStudy{}}
	s.res = newResult(sc, opt)
	s.res.Label = opt.Variant
	cfg := assign.DefaultConfig()
	cfg.Policy = opt.Policy
	cfg.Rand = rand.New(rand.NewPCG(opt.Seed, 0x9e))
	cfg.Effort = func(_ *model.Reader, st *model.Study) time.Duration { return s.meanRead(st) }
	s.eng = assign.New(cfg)
	if opt.Policy == PolicyBound {
		s.runBound()
	} else if err := s.run(ctx); err != nil {
		return nil, err
	}
	s.res.finish(s)
	s.res.Wall = time.Since(wall)
	return s.res, nil
}

// RunAll runs several simulations, in parallel (one per CPU) when each
// generates its own scenario; runs that share a built scenario go one at
// a time, as the engine annotates the studies it is given. Results come
// back in the order of opts.
func RunAll(ctx context.Context, opts []Options) ([]*Result, error) {
	res := make([]*Result, len(opts))
	errs := make([]error, len(opts))
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for i, o := range opts {
		if o.Built != nil {
			res[i], errs[i] = Run(ctx, o)
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res[i], errs[i] = Run(ctx, o)
		}()
	}
	wg.Wait()
	return res, errors.Join(errs...)
}

// scenario fills in defaults and returns the built scenario, generating
// it from the named parameters when none was given.
func (opt *Options) scenario() (*Scenario, error) {
	if opt.Hours <= 0 {
		opt.Hours = 24
	}
	if opt.Drain == 0 {
		opt.Drain = 4 * time.Hour
	}
	sc := opt.Built
	if sc == nil {
		p, err := LoadParams(cmp.Or(opt.Scenario, "small"))
		if err != nil {
			return nil, err
		}
		if sc, err = Generate(p, opt.Seed, opt.Hours); err != nil {
			return nil, err
		}
	}
	return applyVariant(sc, opt.Variant, opt.Seed, opt.Hours, opt.Drain)
}

func (s *sim) push(at time.Time, k evKind, i int, gen uint64) {
	s.seq++
	heap.Push(&s.q, simEvent{at: at, seq: s.seq, kind: k, i: i, gen: gen})
}

func (s *sim) apply(ev assign.Event) ([]assign.Decision, error) {
	ds, err := s.eng.Apply(ev, s.now)
	s.handle(ds)
	return ds, err
}

func (s *sim) run(ctx context.Context) error {
	start := s.sc.Start
	end := start.Add(time.Duration(s.opt.Hours) * time.Hour)
	stop := end.Add(s.opt.Drain)
	s.now = start
	for _, f := range s.sc.Facilities {
		if _, err := s.eng.Apply(assign.FacilityUpdated{Facility: f}, start); err != nil {
			return err
		}
	}
	for i, r := range s.sc.Readers {
		sr := &simReader{idx: i, r: r}
		for _, b := range r.Blocks {
			lo, hi := maxTime(b.Start, start), minTime(b.End, stop)
			if hi.After(lo) {
				sr.onDuty += hi.Sub(lo)
			}
			if hi = minTime(b.End, end); hi.After(lo) {
				sr.winDuty += hi.Sub(lo)
				if sr.shift == "" {
					sr.shift = b.Type
				}
			}
		}
		s.readers = append(s.readers, sr)
		s.byReader[r.ID] = sr
		if _, err := s.eng.Apply(assign.ReaderUpdated{Reader: r}, start); err != nil {
			return err
		}
	}
	// Readers already on duty connect before the first arrival is seen.
	s.push(start, evHeartbeats, 0, 0)
	for i, a := range s.sc.Arrivals {
		if a.ArrivalTime.Before(end) && !a.ArrivalTime.Before(start) {
			s.push(a.ArrivalTime, evArrival, i, 0)
		}
	}
	for i, o := range s.sc.Outages {
		s.push(o.Start, evOutageStart, i, 0)
		s.push(o.Start.Add(o.Duration), evOutageEnd, i, 0)
	}
	for n := 0; s.q.Len() > 0; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		ev := heap.Pop(&s.q).(simEvent)
		if ev.at.After(stop) {
			break
		}
		s.now = ev.at
		switch ev.kind {
		case evArrival:
			st := s.sc.Arrivals[ev.i]
			ss := &simStudy{s: st}
			s.studies[st.ID] = ss
			s.order = append(s.order, ss)
			if _, err := s.apply(assign.StudyReady{Study: st}); err != nil {
				return err
			}
		case evHeartbeats:
			for _, r := range s.readers {
				if !r.down && (s.loggedIn(r) || r.reading != nil) {
					r.lastHB = s.now
					if _, err := s.apply(assign.Heartbeat{ReaderID: r.r.ID}); err != nil {
						return err
					}
				}
			}
			s.apply(assign.Tick{})
			for _, r := range s.readers {
				s.startNext(r) // readers returning from a break or outage
			}
			if s.now.Before(stop) {
				s.push(s.now.Add(30*time.Second), evHeartbeats, 0, 0)
			}
		case evReadDone:
			r := s.readers[ev.i]
			if r.gen != ev.gen || r.reading == nil {
				continue
			}
			st := r.reading
			r.reading = nil
			r.busy += s.now.Sub(r.readStart)
			kind := st.stage
			// L3: re-check at signature with the same rules, independently.
			if ex := model.Check(r.r, st.s, kind, s.now, model.Signing()); len(ex) > 0 {
				s.res.Violations++
				s.res.ViolationLog = append(s.res.ViolationLog, fmt.Sprintf("%s signature by %s: %v", st.s.ID, r.r.ID, ex))
			}
			s.removeFromQueue(r, st)
			if st.firstRead.IsZero() {
				st.firstRead = s.now
			}
			if kind == model.Final || st.s.Need == model.NeedPrelim {
				st.finalRead, st.done = s.now, true
			} else {
				st.finalStage = true
				s.res.Prelims++
			}
			r.rvu += st.s.WorkRVU // workload credit: prelims count as unbilled work (docs/domain.md §7)
			if s.now.Before(end) {
				r.winRVU += st.s.WorkRVU
				r.winReads++
				if st.s.WorkRVU >= HardRVU {
					r.hard++
				}
			}
			if s.opt.OnSigned != nil {
				s.opt.OnSigned(st.s, r.r.ID, kind, s.now)
			}
			if _, err := s.apply(assign.Signed{StudyID: st.s.ID, ReaderID: r.r.ID, Kind: kind}); err != nil && !errors.Is(err, assign.ErrNotEligible) {
				return err
			}
			s.startNext(r)
		case evOutageStart:
			r := s.byReader[s.sc.Outages[ev.i].ReaderID]
			r.down = true
			if r.reading != nil {
				r.busy += s.now.Sub(r.readStart)
				r.reading = nil
				r.gen++
			}
		case evOutageEnd:
			s.byReader[s.sc.Outages[ev.i].ReaderID].down = false
		}
	}
	s.now = stop
	return nil
}

// loggedIn: readers log in a couple of minutes before their block.
func (s *sim) loggedIn(r *simReader) bool {
	for _, b := range r.r.Blocks {
		if !s.now.Before(b.Start.Add(-2*time.Minute)) && s.now.Before(b.End) {
			return true
		}
	}
	return false
}

func (s *sim) handle(ds []assign.Decision) {
	for _, d := range ds {
		st := s.studies[d.StudyID]
		switch d.Kind {
		case assign.KindAssign:
			r := s.byReader[d.ReaderID]
			if st == nil || r == nil {
				continue
			}
			s.res.Assignments++
			// Independent re-check of every assignment against the hard rules,
			// with what the server could know: schedule and heartbeats. (During
			// the first 60 s of an outage the reader still counts as online.)
			ss := model.ShiftState{OnShift: model.OnShift(r.r, s.now), Presence: model.PresenceAt(r.lastHB, false, s.now)}
			if ex := model.Check(r.r, st.s, d.Stage, s.now, ss); len(ex) > 0 {
				s.res.Violations++
				s.res.ViolationLog = append(s.res.ViolationLog, fmt.Sprintf("%s→%s: %v", st.s.ID, r.r.ID, ex))
			}
			if st.holder != nil {
				s.res.Violations++
				s.res.ViolationLog = append(s.res.ViolationLog, fmt.Sprintf("%s leased twice", st.s.ID))
			}
			st.holder, st.stage = r, d.Stage
			r.queue = append(r.queue, st)
			s.startNext(r)
		case assign.KindUnassign:
			r := s.byReader[d.ReaderID]
			if st == nil || r == nil {
				continue
			}
			s.res.Reassign[d.Code]++
			s.removeFromQueue(r, st)
			if r.reading == st {
				r.busy += s.now.Sub(r.readStart)
				r.reading = nil
				r.gen++
				s.startNext(r)
			}
		case assign.KindUncovered:
			if st != nil && !st.uncovered {
				st.uncovered = true
				s.res.Uncovered++
				if len(s.res.UncoveredExamples) < 5 {
					s.res.UncoveredExamples = append(s.res.UncoveredExamples, d.Reason)
				}
			}
		}
	}
}

func (s *sim) removeFromQueue(r *simReader, st *simStudy) {
	if i := slices.Index(r.queue, st); i >= 0 {
		r.queue = slices.Delete(r.queue, i, i+1)
	}
	if st.holder == r {
		st.holder = nil
	}
}

// startNext opens the most urgent leased study if the reader is free.
func (s *sim) startNext(r *simReader) {
	for r.reading == nil && !r.down && len(r.queue) > 0 {
		best := r.queue[0]
		for _, st := range r.queue[1:] {
			if urgencyLess(st, best) {
				best = st
			}
		}
		if _, err := s.apply(assign.Opened{StudyID: best.s.ID, ReaderID: r.r.ID}); err != nil {
			s.removeFromQueue(r, best)
			continue
		}
		if best.holder != r { // the Opened call's timers re-routed it
			continue
		}
		r.reading, r.readStart = best, s.now
		r.gen++
		n := 0
		if best.finalStage {
			n = 1
		}
		s.push(s.now.Add(readTime(s.sc, s.opt.Seed, best.s, n)), evReadDone, r.idx, r.gen)
	}
}

func urgencyLess(a, b *simStudy) bool {
	ra, rb := a.s.Class().Rank(), b.s.Class().Rank()
	if a.finalStage {
		ra = model.ClassRoutine.Rank()
	}
	if b.finalStage {
		rb = model.ClassRoutine.Rank()
	}
	return cmp.Or(cmp.Compare(ra, rb), a.s.ArrivalTime.Compare(b.s.ArrivalTime), cmp.Compare(a.s.ID, b.s.ID)) < 0
}

// HardRVU is the work RVU from which a case counts as hard (CT
// abdomen/pelvis, CTA, MR) in the hard-case share per reader.
const HardRVU = 1.5

const overhead = 0.3 // minutes to open, hang protocols, dictate the header

// readTime is how long read n of a study takes (0: the first read, 1: the
// final after a prelim). It depends only on the seed, the study and n, not
// on who reads it or when, so every policy and the offline bound face the
// same reading times (common random numbers): differences between them
// are the scheduling, not luck of the draw.
func readTime(sc *Scenario, seed uint64, st *model.Study, n int) time.Duration {
	p, ok := sc.ReadTime[st.CPT]
	if !ok {
		return meanRead(sc, st)
	}
	h := fnv.New64a()
	h.Write([]byte(st.ID))
	rng := rand.New(rand.NewPCG(seed^0x7ead, h.Sum64()+uint64(n)))
	m := p[0]*math.Exp(p[1]*rng.NormFloat64()) + overhead
	if sc.TailShare > 0 && rng.Float64() < sc.TailShare {
		// Long tail: an occasional case takes several times its usual
		// time (a complex comparison, a phone call mid-read).
		m *= 1 + sc.TailFactor*rng.ExpFloat64()
	}
	return time.Duration(m * float64(time.Minute))
}

func (s *sim) meanRead(st *model.Study) time.Duration { return meanRead(s.sc, st) }

func meanRead(sc *Scenario, st *model.Study) time.Duration {
	p, ok := sc.ReadTime[st.CPT]
	if !ok {
		rvu := math.Max(st.WorkRVU, 0.3)
		return time.Duration(rvu / 10 * float64(time.Hour))
	}
	return time.Duration((p[0]*math.Exp(p[1]*p[1]/2) + overhead) * float64(time.Minute))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
