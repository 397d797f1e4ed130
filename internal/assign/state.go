package assign

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"lightbox/internal/model"
)

// Lease is the persisted form of an assignment.
type Lease struct {
	StudyID      string         `json:"study_id"`
	ReaderID     string         `json:"reader_id"`
	Stage        model.ReadKind `json:"stage"`
	FinalStage   bool           `json:"final_stage,omitempty"` // prelim already signed
	Opened       bool           `json:"opened"`
	AssignedAt   time.Time      `json:"assigned_at"`
	LeaseExpires time.Time      `json:"lease_expires"`
	Moves        int            `json:"moves,omitempty"`
}

// Snapshot is what a server persists to rebuild the engine after a
// restart (readers, facilities and study rows live in the database
// already): the leases, the studies still waiting, and heartbeats.
type Snapshot struct {
	At         time.Time            `json:"at"`
	Leases     []Lease              `json:"leases"`
	Waiting    []string             `json:"waiting"`     // study IDs, most urgent first
	FinalStage []string             `json:"final_stage"` // waiting studies whose prelim is signed
	Heartbeats map[string]time.Time `json:"heartbeats"`
}

// Snapshot exports the dynamic state, sorted for stable output.
func (e *Engine) Snapshot() Snapshot {
	s := Snapshot{At: e.now, Heartbeats: map[string]time.Time{}}
	for _, rs := range e.readers {
		if rs.removed {
			continue
		}
		if !rs.lastHB.IsZero() {
			s.Heartbeats[rs.r.ID] = rs.lastHB
		}
		for _, st := range rs.queue {
			s.Leases = append(s.Leases, Lease{StudyID: st.s.ID, ReaderID: rs.r.ID, Stage: st.stage, FinalStage: st.finalStage,
				Opened: st.opened, AssignedAt: st.assignedAt, LeaseExpires: st.leaseExpires, Moves: st.moves})
		}
	}
	slices.SortFunc(s.Leases, func(a, b Lease) int { return cmp.Compare(a.StudyID, b.StudyID) })
	for _, st := range e.waiting {
		s.Waiting = append(s.Waiting, st.s.ID)
		if st.finalStage {
			s.FinalStage = append(s.FinalStage, st.s.ID)
		}
	}
	return s
}

// Restore is the event that reinstates a persisted lease after a restart.
// Send ReaderUpdated and FacilityUpdated first, then Restore for leased
// studies, then StudyReady for waiting ones. The lease is re-checked
// against Check on the same call, so a credential that lapsed while the
// server was down does not survive the restart.
type Restore struct {
	Study *model.Study
	Lease Lease
}

func (Restore) event() {}

func (e *Engine) restore(ev Restore, out *decisions) error {
	if err := e.studyReadyNoPlace(ev.Study); err != nil {
		return err
	}
	st := e.studies[ev.Study.ID]
	rs := e.byID[ev.Lease.ReaderID]
	if rs == nil {
		e.place(st, out)
		return nil
	}
	if ev.Lease.FinalStage {
		st.finalStage = true
		st.deadline = e.now.Add(st.s.Facility.FinalWithin())
		st.refreshKey()
	}
	e.removeWaiting(st)
	st.st, st.reader, st.stage, st.opened = leased, rs, ev.Lease.Stage, ev.Lease.Opened
	st.assignedAt, st.leaseExpires, st.moves = ev.Lease.AssignedAt, ev.Lease.LeaseExpires, ev.Lease.Moves
	st.validUntil = e.now
	rs.queue = append(rs.queue, st)
	rs.queuedRVU += st.s.WorkRVU
	e.nextWake = e.now
	return nil
}

func (e *Engine) studyReadyNoPlace(s *model.Study) error {
	if s == nil {
		return fmt.Errorf("%w: nil", ErrUnknownStudy)
	}
	if _, dup := e.studies[s.ID]; dup {
		return fmt.Errorf("%w: %s", ErrDuplicate, s.ID)
	}
	f := e.facilities[s.FacilityID]
	if f == nil {
		return fmt.Errorf("%w %s", ErrUnknownFacility, s.FacilityID)
	}
	e.admit(s, f)
	return nil
}

// Stats is a cheap summary for dashboards and tests.
type Stats struct {
	Readers, Online, Studies, Waiting, Leased int
}

// Stats counts readers and studies.
func (e *Engine) Stats() Stats {
	s := Stats{Studies: len(e.studies), Waiting: len(e.waiting)}
	for _, rs := range e.readers {
		if rs.removed {
			continue
		}
		s.Readers++
		if rs.available {
			s.Online++
		}
		s.Leased += len(rs.queue)
	}
	return s
}

// Queue returns the study IDs leased to a reader, in reading order (most
// urgent first) — what the reader's worklist shows.
func (e *Engine) Queue(readerID string) []string {
	rs := e.byID[readerID]
	if rs == nil {
		return nil
	}
	q := slices.Clone(rs.queue)
	slices.SortFunc(q, (*studyState).cmp)
	ids := make([]string, len(q))
	for i, st := range q {
		ids[i] = st.s.ID
	}
	return ids
}

// Holder returns the reader holding a study's lease ("" when waiting) and
// whether the study is on the worklist at all.
func (e *Engine) Holder(studyID string) (string, bool) {
	st := e.studies[studyID]
	if st == nil {
		return "", false
	}
	if st.reader == nil {
		return "", true
	}
	return st.reader.r.ID, true
}

// Safe is an Engine behind a mutex for servers that feed events from
// several goroutines. Decisions stay deterministic for a given order of
// events; the order is whatever the lock admits.
type Safe struct {
	mu sync.Mutex
	e  *Engine
}

// NewSafe wraps an engine.
func NewSafe(e *Engine) *Safe { return &Safe{e: e} }

// Apply is Engine.Apply under the lock.
func (s *Safe) Apply(ev Event, now time.Time) ([]Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.e.Apply(ev, now)
}

// Do runs f with exclusive access to the engine (for Snapshot, Explain…).
func (s *Safe) Do(f func(*Engine)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.e)
}

// ShiftStates returns every reader's shift and presence as Check sees
// them now (the reading room and second-opinion routing, internal/consult).
func (e *Engine) ShiftStates() map[string]model.ShiftState {
	out := make(map[string]model.ShiftState, len(e.readers))
	for _, rs := range e.readers {
		if !rs.removed {
			out[rs.r.ID] = e.shiftState(rs)
		}
	}
	return out
}
