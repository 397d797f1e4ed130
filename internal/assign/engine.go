package assign

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"lightbox/internal/model"
)

// Errors returned by Apply for events that do not fit the current state.
var (
	ErrUnknownStudy    = errors.New("worklist: unknown study")
	ErrUnknownReader   = errors.New("worklist: unknown reader")
	ErrUnknownFacility = errors.New("worklist: unknown facility")
	ErrNoLease         = errors.New("worklist: reader does not hold the lease")
	ErrNotEligible     = errors.New("worklist: reader not eligible")
	ErrDuplicate       = errors.New("worklist: study already on the worklist")
)

type status uint8

const (
	waiting status = iota
	leased
)

type readerState struct {
	r          *model.Reader
	idx        int32
	removed    bool
	lastHB     time.Time
	displayOK  time.Time // last passed display check
	away       bool
	loggedOff  bool
	onShift    bool
	shiftUntil time.Time
	shiftKnown bool
	shiftStart time.Time
	shiftRVU   float64
	recent     []rvuAt // reads finished in the last hour (RVU/hour cap)
	queue      []*studyState
	queuedRVU  float64
	facs       map[string]bool
	states     map[string]bool
	available  bool
	extra      bool // opted in to extra work
}

type rvuAt struct {
	at  time.Time
	rvu float64
}

type studyState struct {
	s            *model.Study
	seq          uint64
	stage        model.ReadKind // kind of the current or next read
	finalStage   bool           // a prelim is done; the final is outstanding
	st           status
	reader       *readerState
	opened       bool
	openedAt     time.Time
	assignedAt   time.Time
	leaseExpires time.Time
	validUntil   time.Time
	moves        int
	steals       int
	avoid        []string
	uncovered    bool
	queued       bool
	deadline     time.Time
	rank         int
}

// urgent reports whether the study is read ahead of routine work.
func (st *studyState) urgent() bool { return !st.finalStage && st.s.Class().Urgent() }

func (st *studyState) class() model.Class {
	if st.finalStage {
		return model.ClassRoutine
	}
	return st.s.Class()
}

// before orders studies by urgency: class, then deadline, then arrival.
func (st *studyState) before(o *studyState) bool { return st.cmp(o) < 0 }

func (st *studyState) cmp(o *studyState) int {
	return cmp.Or(cmp.Compare(st.rank, o.rank), st.deadline.Compare(o.deadline), cmp.Compare(st.seq, o.seq))
}

func (st *studyState) refreshKey() {
	if st.finalStage {
		st.rank = model.ClassRoutine.Rank()
		return
	}
	st.rank = st.s.Class().Rank()
	st.deadline = st.s.Deadline()
}

// Engine is the stateful assignment engine. It is not safe for concurrent
// use; see Safe.
type Engine struct {
	cfg        Config
	now        time.Time
	readers    []*readerState // by idx; idx is stable (append-only, removed flagged)
	byID       map[string]*readerState
	facilities map[string]*model.Facility
	byFacility map[string][]int32 // sorted reader idx with any privilege record
	byState    map[string][]int32 // sorted reader idx with any licence record
	studies    map[string]*studyState
	waiting    []*studyState // sorted by urgency
	related    map[string]string
	seq        uint64
	rr         int32
	nextWake   time.Time
	nextHeld   time.Time
	heldBack   bool    // the reserve held work back since the last look
	peerPace   float64 // mean pace of available readers, refreshed by sweep
	active     int
}

// New returns an empty engine.
func New(cfg Config) *Engine {
	cfg.defaults()
	return &Engine{cfg: cfg, byID: map[string]*readerState{}, facilities: map[string]*model.Facility{},
		byFacility: map[string][]int32{}, byState: map[string][]int32{}, studies: map[string]*studyState{},
		related: map[string]string{}, rr: -1}
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

type decisions struct{ d []Decision }

func (o *decisions) add(d Decision) { o.d = append(o.d, d) }

// Apply feeds one event at time now and returns the decisions it caused.
// now must not go backwards between calls.
func (e *Engine) Apply(ev Event, now time.Time) ([]Decision, error) {
	if now.Before(e.now) {
		now = e.now
	}
	e.now = now
	var out decisions
	if hb, ok := ev.(Heartbeat); ok {
		// A heartbeat first refreshes presence, so the sweep does not treat
		// a reader who just checked in as gone.
		rs, err := e.reader(hb.ReaderID)
		if err != nil {
			return nil, err
		}
		rs.lastHB, rs.away, rs.loggedOff = now, hb.Away, false
		if e.nextWake.IsZero() || e.nextWake.After(now) {
			if !rs.available && e.shiftState(rs).Presence == model.Online && rs.onShift {
				e.nextWake = now
			}
		}
	}
	if !now.Before(e.nextWake) {
		e.sweep(&out)
	}
	err := e.handle(ev, &out)
	if !now.Before(e.nextWake) {
		e.sweep(&out)
	}
	return out.d, err
}

func (e *Engine) handle(ev Event, out *decisions) error {
	now := e.now
	switch ev := ev.(type) {
	case StudyReady:
		return e.studyReady(ev.Study, out)
	case StudyChanged:
		st, err := e.study(ev.StudyID)
		if err != nil {
			return err
		}
		if st.st == waiting {
			e.removeWaiting(st)
		}
		st.s.Priority, st.s.Stroke, st.s.Trauma = ev.Priority, ev.Stroke, ev.Trauma
		st.s.Triage = slices.Clone(ev.Triage)
		st.refreshKey()
		if st.st == waiting {
			e.insertWaiting(st)
			e.place(st, out)
		} else {
			e.nextWake = now // let rebalance look at it now
		}
	case Cancelled:
		st, err := e.study(ev.StudyID)
		if err != nil {
			return err
		}
		rs := st.reader
		reason := "order cancelled"
		if ev.Reason != "" {
			reason = ev.Reason
		}
		if rs != nil {
			e.unassign(st, ReasonCancelled, reason, out)
		}
		e.removeWaiting(st)
		delete(e.studies, st.s.ID)
		out.add(Decision{Kind: KindDone, At: now, StudyID: st.s.ID, Code: ReasonCancelled, Reason: reason})
		if rs != nil {
			e.fill(rs, out)
		}
	case Heartbeat:
		// handled in Apply
	case ReaderOffline:
		rs, err := e.reader(ev.ReaderID)
		if err != nil {
			return err
		}
		rs.loggedOff = true
		e.nextWake = now
	case Opened:
		st, rs, err := e.lease(ev.StudyID, ev.ReaderID)
		if err != nil {
			return err
		}
		_ = rs
		st.opened, st.openedAt = true, now
	case Released:
		st, rs, err := e.lease(ev.StudyID, ev.ReaderID)
		if err != nil {
			return err
		}
		reason := "released by reader"
		if ev.Reason != "" {
			reason += ": " + ev.Reason
		}
		st.avoid = append(st.avoid, rs.r.ID)
		e.unassign(st, ReasonReleased, reason, out)
		e.place(st, out)
		e.fill(rs, out)
	case Signed:
		return e.signed(ev, out)
	case Tick:
		e.nextWake = now
	case Reassign:
		return e.reassign(ev, out)
	case ReaderUpdated:
		return e.upsertReader(ev.Reader, out)
	case ReaderRemoved:
		rs, err := e.reader(ev.ReaderID)
		if err != nil {
			return err
		}
		e.unindex(rs)
		rs.removed = true
		delete(e.byID, ev.ReaderID)
		e.active--
		e.requeueAll(rs, ReasonRemoved, "reader removed", false, out)
	case FacilityUpdated:
		f := ev.Facility
		if f.Loc == nil {
			if err := f.Resolve(); err != nil {
				return err
			}
		}
		e.facilities[f.ID] = f
		// Facility terms (Medicare, read type) feed Check: re-check leases now.
		for _, rs := range e.readers {
			for _, st := range rs.queue {
				if st.s.FacilityID == f.ID {
					st.validUntil = now
				}
			}
		}
		for _, st := range e.studies {
			if st.s.FacilityID == f.ID {
				st.s.Facility = f
			}
		}
		e.nextWake = now
	case Restore:
		return e.restore(ev, out)
	case DisplayChecked:
		rs, err := e.reader(ev.ReaderID)
		if err != nil {
			return err
		}
		switch {
		case ev.Passed && ev.At.After(rs.displayOK):
			rs.displayOK = ev.At
		case !ev.Passed && !ev.At.Before(rs.displayOK):
			rs.displayOK = time.Time{}
		}
		// Mammography that waited for this reader may now go to them.
		e.fill(rs, out)
	case Pull:
		rs, err := e.reader(ev.ReaderID)
		if err != nil {
			return err
		}
		e.fill(rs, out)
	default:
		return fmt.Errorf("worklist: unknown event %T", ev)
	}
	return nil
}

// study returns a study on the worklist, or ErrUnknownStudy.
func (e *Engine) study(id string) (*studyState, error) {
	if st := e.studies[id]; st != nil {
		return st, nil
	}
	return nil, fmt.Errorf("%w %s", ErrUnknownStudy, id)
}

// reader returns a known reader, or ErrUnknownReader.
func (e *Engine) reader(id string) (*readerState, error) {
	if rs := e.byID[id]; rs != nil {
		return rs, nil
	}
	return nil, fmt.Errorf("%w %s", ErrUnknownReader, id)
}

func (e *Engine) lease(studyID, readerID string) (*studyState, *readerState, error) {
	st, err := e.study(studyID)
	if err != nil {
		return nil, nil, err
	}
	rs, err := e.reader(readerID)
	if err != nil {
		return nil, nil, err
	}
	if st.reader != rs {
		return nil, nil, fmt.Errorf("%w: %s on %s", ErrNoLease, readerID, studyID)
	}
	return st, rs, nil
}

func (e *Engine) studyReady(s *model.Study, out *decisions) error {
	if s == nil || s.ID == "" {
		return errors.New("worklist: study without ID")
	}
	if _, dup := e.studies[s.ID]; dup {
		return fmt.Errorf("%w: %s", ErrDuplicate, s.ID)
	}
	if s.FacilityID == "" && s.Facility != nil {
		s.FacilityID = s.Facility.ID
	}
	f := e.facilities[s.FacilityID]
	if f == nil {
		if s.Facility == nil {
			return fmt.Errorf("%w %s", ErrUnknownFacility, s.FacilityID)
		}
		f = s.Facility
		if f.Loc == nil {
			if err := f.Resolve(); err != nil {
				return err
			}
		}
		e.facilities[f.ID] = f
	}
	e.place(e.admit(s, f), out)
	return nil
}

// admit files s, whose facility is f, as a new waiting study.
func (e *Engine) admit(s *model.Study, f *model.Facility) *studyState {
	s.Facility = f
	if s.ArrivalTime.IsZero() {
		s.ArrivalTime = e.now
	}
	e.seq++
	st := &studyState{s: s, seq: e.seq, stage: firstStage(s)}
	st.refreshKey()
	e.studies[s.ID] = st
	e.insertWaiting(st)
	return st
}

func firstStage(s *model.Study) model.ReadKind {
	if s.Need == model.NeedPrelim {
		return model.Prelim
	}
	return model.Final
}

func (e *Engine) signed(ev Signed, out *decisions) error {
	st, rs, err := e.lease(ev.StudyID, ev.ReaderID)
	if err != nil {
		return err
	}
	kind := ev.Kind
	if kind == 0 {
		kind = st.stage
	}
	// L3: the same rule set again at signature.
	if ex := e.cfg.Rules.Check(rs.r, st.s, kind, e.now, model.Signing()); len(ex) > 0 {
		return fmt.Errorf("%w: %s", ErrNotEligible, joinEx(ex))
	}
	e.dropFromQueue(rs, st)
	rs.shiftRVU += st.s.WorkRVU
	rs.recent = append(rs.recent, rvuAt{e.now, st.s.WorkRVU})
	st.reader, st.opened = nil, false
	if kind == model.Prelim && st.s.Need != model.NeedPrelim {
		// Two-stage read: the prelim is out; a US-located reader signs the final.
		st.finalStage, st.stage = true, model.Final
		st.deadline = e.now.Add(st.s.Facility.FinalWithin())
		st.refreshKey()
		st.avoid, st.moves, st.uncovered, st.queued = nil, 0, false, false
		st.st = waiting
		e.insertWaiting(st)
		out.add(Decision{Kind: KindDone, At: e.now, StudyID: st.s.ID, ReaderID: rs.r.ID, Stage: model.Prelim, Reason: "prelim signed; final outstanding"})
		e.place(st, out)
	} else {
		delete(e.studies, st.s.ID)
		out.add(Decision{Kind: KindDone, At: e.now, StudyID: st.s.ID, ReaderID: rs.r.ID, Stage: kind, Reason: kind.String() + " signed"})
	}
	e.fill(rs, out)
	return nil
}

func (e *Engine) reassign(ev Reassign, out *decisions) error {
	st, err := e.study(ev.StudyID)
	if err != nil {
		return err
	}
	reason := "reassigned"
	if ev.By != "" {
		reason += " by " + ev.By
	}
	if ev.Reason != "" {
		reason += ": " + ev.Reason
	}
	if ev.ToReader != "" {
		to, err := e.reader(ev.ToReader)
		if err != nil {
			return err
		}
		kind, ex := e.eligibleKind(to, st, e.shiftState(to))
		if len(ex) > 0 {
			// A coordinator may override caps and scores, never hard rules.
			return fmt.Errorf("%w: %s", ErrNotEligible, joinEx(ex))
		}
		if st.reader == to {
			return nil
		}
		if st.reader != nil {
			e.unassign(st, ReasonReassigned, reason, out)
		}
		sc := e.score(to, st, kind)
		e.assign(st, to, kind, &sc, nil, nil, reason, out)
		return nil
	}
	if st.reader != nil {
		from := st.reader
		st.avoid = append(st.avoid, from.r.ID)
		e.unassign(st, ReasonReassigned, reason, out)
		e.place(st, out)
		e.fill(from, out)
		return nil
	}
	e.place(st, out)
	return nil
}

// shiftState computes the reader's live availability, refreshing the
// cached shift window when it has run out.
func (e *Engine) shiftState(rs *readerState) model.ShiftState {
	e.refreshShift(rs)
	p := model.PresenceAt(rs.lastHB, rs.away, e.now)
	if rs.loggedOff {
		p = model.Offline
	}
	return model.ShiftState{OnShift: rs.onShift, Presence: p,
		NoDisplayCheck: rs.displayOK.IsZero() || e.now.Sub(rs.displayOK) > DisplayCheckValid}
}

func (e *Engine) refreshShift(rs *readerState) {
	if rs.shiftKnown && e.now.Before(rs.shiftUntil) {
		return
	}
	on, until := model.ShiftWindow(rs.r, e.now)
	if until.IsZero() {
		until = e.now.Add(24 * time.Hour)
	}
	if on && !rs.onShift {
		rs.shiftStart, rs.shiftRVU = e.now, 0
	}
	rs.onShift, rs.shiftUntil, rs.shiftKnown = on, until, true
}

// sweep runs every timer that is due: presence, shift ends, unopened
// leases, credential lapses; then re-routes, fills newly available
// readers and rebalances at-risk studies.
func (e *Engine) sweep(out *decisions) {
	now := e.now
	next := now.Add(time.Hour)
	var fresh, gone []*readerState
	for _, rs := range e.readers {
		if rs.removed {
			continue
		}
		ss := e.shiftState(rs)
		if rs.shiftUntil.Before(next) {
			next = rs.shiftUntil
		}
		if ss.Presence == model.Offline {
			if len(rs.queue) > 0 {
				reason := "reader offline: no heartbeat for 60 s"
				if rs.loggedOff {
					reason = "reader logged off"
				}
				e.requeueAll(rs, ReasonOffline, reason, false, out)
			}
		} else {
			if hb := rs.lastHB.Add(model.OfflineAfter); hb.Before(next) {
				next = hb
			}
			if !rs.onShift && len(rs.queue) > 0 {
				e.requeueAll(rs, ReasonShiftEnded, "shift ended", true, out)
			}
		}
		for i := 0; i < len(rs.queue); i++ {
			st := rs.queue[i]
			if !st.opened && !now.Before(st.leaseExpires) && busyReading(rs) {
				// The reader is working through an opened case: the study is
				// queued behind it, not ignored. Deadline risk is rebalance's job.
				st.leaseExpires = now.Add(e.cfg.Unopened[st.class()])
			}
			if !st.opened && !now.Before(st.leaseExpires) {
				st.avoid = append(st.avoid, rs.r.ID)
				e.unassign(st, ReasonUnopened, fmt.Sprintf("not opened within %v", st.leaseExpires.Sub(st.assignedAt)), out)
				e.place(st, out)
				i--
				continue
			}
			if !st.validUntil.IsZero() && !now.Before(st.validUntil) {
				if ex := e.cfg.Rules.Check(rs.r, st.s, st.stage, now, model.Signing()); len(ex) > 0 {
					e.unassign(st, ReasonIneligible, joinEx(ex), out)
					e.place(st, out)
					i--
					continue
				}
				st.validUntil = model.ValidUntil(rs.r, st.s, st.stage, now)
			}
			if !st.opened && st.leaseExpires.Before(next) {
				next = st.leaseExpires
			}
			if !st.validUntil.IsZero() && st.validUntil.Before(next) {
				next = st.validUntil
			}
		}
		avail := ss.Presence == model.Online && rs.onShift
		if avail && !rs.available {
			fresh = append(fresh, rs)
		}
		if !avail && rs.available {
			gone = append(gone, rs)
		}
		rs.available = avail
	}
	paceSum, paceN := 0.0, 0
	for _, rs := range e.readers {
		if rs.available && !rs.removed {
			paceSum += e.pace(rs)
			paceN++
		}
	}
	e.peerPace = 0
	if paceN > 0 {
		e.peerPace = paceSum / float64(paceN)
	}
	for _, rs := range fresh {
		e.fill(rs, out)
	}
	if e.cfg.Policy != PolicySharedPool && !now.Before(e.nextHeld) && len(e.waiting) > 0 {
		// Idle readers look at the list again: work held back by the
		// reserve goes out once it allows (every half minute), and work
		// waiting for a cap that time has lifted (an hour's RVU) at least
		// every two minutes, as no event would bring it otherwise.
		e.nextHeld = now.Add(2 * time.Minute)
		if e.heldBack {
			e.nextHeld = now.Add(30 * time.Second)
		}
		e.heldBack = false
		for _, rs := range e.readers {
			if rs.available && len(rs.queue) == 0 && len(e.waiting) > 0 {
				e.fillFrom(rs, true, out)
			}
		}
	}
	// Studies already waiting may have just lost their last eligible
	// reader: re-evaluate those the departed readers could have read, so
	// "uncovered" is raised at once rather than when something else moves.
	if len(gone) > 0 {
		for _, st := range slices.Clone(e.waiting) {
			if st.uncovered || st.st != waiting {
				continue
			}
			for _, rs := range gone {
				if rs.facs[st.s.FacilityID] && rs.states[st.s.State()] {
					e.place(st, out)
					break
				}
			}
		}
	}
	if e.cfg.Policy == PolicyLightbox {
		e.rebalance(out)
		if len(e.studies) > len(e.waiting) && now.Add(time.Minute).Before(next) {
			next = now.Add(time.Minute) // look at deadlines at least once a minute
		}
	}
	e.nextWake = next
}

func busyReading(rs *readerState) bool {
	for _, st := range rs.queue {
		if st.opened {
			return true
		}
	}
	return false
}

// requeueAll takes studies back from a reader (all, or only unopened).
func (e *Engine) requeueAll(rs *readerState, code, reason string, unopenedOnly bool, out *decisions) {
	var back []*studyState
	for _, st := range slices.Clone(rs.queue) {
		if unopenedOnly && st.opened {
			continue
		}
		e.unassign(st, code, reason, out)
		back = append(back, st)
	}
	slices.SortFunc(back, (*studyState).cmp)
	for _, st := range back {
		e.place(st, out)
	}
}

// NextWake is the earliest time a Tick would change something. Servers
// may arm a timer for it; ticking more often is harmless.
func (e *Engine) NextWake() time.Time { return e.nextWake }

func (e *Engine) insertWaiting(st *studyState) {
	st.st = waiting
	i, _ := slices.BinarySearchFunc(e.waiting, st, (*studyState).cmp)
	e.waiting = slices.Insert(e.waiting, i, st)
}

func (e *Engine) removeWaiting(st *studyState) {
	if i, ok := slices.BinarySearchFunc(e.waiting, st, (*studyState).cmp); ok {
		e.waiting = slices.Delete(e.waiting, i, i+1)
	}
}

func (e *Engine) dropFromQueue(rs *readerState, st *studyState) {
	if i := slices.Index(rs.queue, st); i >= 0 {
		rs.queue = slices.Delete(rs.queue, i, i+1)
		rs.queuedRVU -= st.s.WorkRVU
		if len(rs.queue) == 0 {
			rs.queuedRVU = 0 // no float drift
		}
	}
}

func (e *Engine) unassign(st *studyState, code, reason string, out *decisions) {
	rs := st.reader
	if rs == nil {
		return
	}
	e.dropFromQueue(rs, st)
	st.reader, st.opened = nil, false
	st.queued, st.uncovered = false, false
	e.insertWaiting(st)
	out.add(Decision{Kind: KindUnassign, At: e.now, StudyID: st.s.ID, ReaderID: rs.r.ID, Stage: st.stage, Code: code, Reason: reason, Policy: e.cfg.Policy})
}

func (e *Engine) assign(st *studyState, rs *readerState, kind model.ReadKind, sc *Score, others []Candidate, filtered []Filtered, reason string, out *decisions) {
	if st.reader != nil {
		panic("worklist: double lease of " + st.s.ID) // invariant; unassign first
	}
	e.removeWaiting(st)
	st.st, st.reader, st.stage, st.opened = leased, rs, kind, false
	st.assignedAt = e.now
	st.leaseExpires = e.now.Add(e.cfg.Unopened[st.class()])
	st.validUntil = model.ValidUntil(rs.r, st.s, kind, e.now)
	st.queued, st.uncovered = false, false
	rs.queue = append(rs.queue, st)
	rs.queuedRVU += st.s.WorkRVU
	if k := st.s.RelatedKey; k != "" {
		e.related[k] = rs.r.ID
	}
	if st.leaseExpires.Before(e.nextWake) {
		e.nextWake = st.leaseExpires
	}
	if !st.validUntil.IsZero() && st.validUntil.Before(e.nextWake) {
		e.nextWake = st.validUntil
	}
	out.add(Decision{Kind: KindAssign, At: e.now, StudyID: st.s.ID, ReaderID: rs.r.ID, Stage: kind,
		LeaseExpires: st.leaseExpires, Reason: reason, Policy: e.cfg.Policy, Score: sc, Others: others, Filtered: filtered})
}

func joinEx(ex []model.Exclusion) string {
	parts := make([]string, len(ex))
	for i, x := range ex {
		parts[i] = x.Reason
	}
	return strings.Join(parts, "; ")
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
