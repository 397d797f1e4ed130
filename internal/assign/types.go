package assign

import (
	"cmp"
	"math/rand/v2"
	"time"

	"lightbox/internal/model"
)

// Policy selects how the engine chooses among eligible readers.
type Policy string

const (
	// PolicyLightbox pushes each study to the best-scored eligible reader
	// and rebalances studies whose deadline is at risk.
	PolicyLightbox Policy = "lightbox"
	// PolicyRoundRobin pushes to eligible readers in turn.
	PolicyRoundRobin Policy = "round-robin"
	// PolicySharedPool pushes nothing: readers Pull from one shared list and
	// pick what they like (quick, high-RVU cases), within eligibility.
	PolicySharedPool Policy = "shared-pool"
)

// Weights tune the lightbox score. Every term is in "minutes of expected
// finish time" so a breakdown reads naturally: a subspecialty match is
// worth waiting SubspecialtyMin minutes longer for.
type Weights struct {
	UrgentTime      float64 // multiplier on expected-finish minutes for stroke/trauma/STAT
	ASAPTime        float64
	RoutineTime     float64
	LatePenalty     float64 // extra per minute projected past the deadline
	QueueRVU        float64 // minutes per queued RVU (spreads load beyond the time estimate)
	SubspecialtyMin float64
	ContinuityMin   float64
	FairnessMin     float64 // at most this many minutes for being behind/ahead of colleagues' pace
	ExtraReadMin    float64 // penalty for a prelim that will need a second (final) read
}

// DefaultWeights are the documented defaults.
func DefaultWeights() Weights {
	return Weights{UrgentTime: 20, ASAPTime: 1.5, RoutineTime: 1, LatePenalty: 2, QueueRVU: 0.5,
		SubspecialtyMin: 8, ContinuityMin: 5, FairnessMin: 20, ExtraReadMin: 15}
}

// Config is the engine configuration. Zero values take defaults.
type Config struct {
	Policy Policy
	Rules  model.Rules
	// Unopened is how long a leased study may sit unopened before it is
	// re-routed, per class.
	Unopened map[model.Class]time.Duration
	// DefaultMaxOpen applies to readers without MaxOpenCases.
	DefaultMaxOpen int
	// UrgentOverflow extra open slots stroke/trauma/STAT may use beyond a
	// reader's cap, so an urgent case is never parked behind a full queue.
	UrgentOverflow int
	// RebalanceGain is how many minutes sooner another reader must finish an
	// at-risk study before it is moved; MaxMoves caps deadline moves per
	// study (anti ping-pong, see README in doc of rebalance).
	RebalanceGain time.Duration
	MaxMoves      int
	// StealGain is how much sooner an idle reader must be able to start an
	// urgent study queued behind someone else's open case to take it;
	// MaxSteals caps such moves per study.
	StealGain time.Duration
	MaxSteals int
	// ReserveIdle readers able to serve a facility are kept idle for
	// urgent work (trunk reservation): a routine or ASAP study is not
	// leased to an idle reader when that would leave fewer, unless its
	// deadline is within ReserveBypass. Negative disables it.
	ReserveIdle int
	// StrokeReserve idle readers able to serve a facility are kept from
	// STAT and trauma studies for stroke, when a busy colleague can queue
	// them instead. Negative disables it.
	StrokeReserve int
	// RoutineAhead caps unopened non-urgent leases per reader: routine work
	// stays in the shared list until someone is about to read it, so
	// whoever frees up first takes it and readers can be idle when an
	// urgent study arrives. Negative disables it.
	RoutineAhead  int
	ReserveBypass time.Duration
	// PrelimFirst lets an urgent study that needs a final go to a
	// prelim-only (e.g. offshore) reader when no final reader is available.
	PrelimFirst bool
	Weights     Weights
	// Effort estimates reading time; default is RVU at the reader's target pace.
	Effort func(r *model.Reader, s *model.Study) time.Duration
	// Rand drives the shared-pool pickers' noise. Required for that policy
	// to be non-trivial; nil means no noise.
	Rand *rand.Rand
}

func (c *Config) defaults() {
	c.Policy = cmp.Or(c.Policy, PolicyLightbox)
	c.DefaultMaxOpen = cmp.Or(c.DefaultMaxOpen, 4)
	c.UrgentOverflow = cmp.Or(c.UrgentOverflow, 2)
	c.RebalanceGain = cmp.Or(c.RebalanceGain, 5*time.Minute)
	c.MaxMoves = cmp.Or(c.MaxMoves, 1)
	c.StealGain = cmp.Or(c.StealGain, 30*time.Second)
	c.MaxSteals = cmp.Or(c.MaxSteals, 3)
	c.RoutineAhead = cmp.Or(c.RoutineAhead, 1)
	c.ReserveIdle = cmp.Or(c.ReserveIdle, 1)
	c.StrokeReserve = cmp.Or(c.StrokeReserve, 1)
	c.ReserveBypass = cmp.Or(c.ReserveBypass, 2*time.Hour)
	c.Weights = cmp.Or(c.Weights, DefaultWeights())
	if c.Unopened == nil {
		c.Unopened = map[model.Class]time.Duration{
			model.ClassStroke: 3 * time.Minute, model.ClassTrauma: 3 * time.Minute,
			model.ClassSTAT: 5 * time.Minute, model.ClassASAP: 15 * time.Minute,
			model.ClassRoutine: 30 * time.Minute,
		}
	}
}

// DefaultConfig returns a lightbox configuration with defaults filled in.
func DefaultConfig() Config {
	c := Config{PrelimFirst: true, Rules: model.DefaultRules()}
	c.defaults()
	return c
}

// Event is something that happened. Implementations are the types below.
type Event interface{ event() }

// StudyReady: a study is complete and must be read (ARCHITECTURE step 3).
type StudyReady struct{ Study *model.Study }

// StudyChanged: priority changed or triage (e.g. AI) flagged the study.
type StudyChanged struct {
	StudyID  string
	Priority model.Priority
	Stroke   bool
	Trauma   bool
	Triage   []string
}

// Cancelled: the order was cancelled; the study leaves the worklist.
type Cancelled struct {
	StudyID string
	// Reason replaces "order cancelled" (e.g. a final signed while the
	// lease had moved: the study is read, whoever holds it).
	Reason string
}

// Heartbeat: the reader's client is alive (every ~15 s). Away marks a
// reader who is connected but not taking new work.
type Heartbeat struct {
	ReaderID string
	Away     bool
}

// DisplayChecked: the reader recorded a display check at At (their
// station's daily QC). Under Rules.RequireMammoDisplayCheck a pass makes
// them eligible for mammography for DisplayCheckValid after At; a later
// failure voids it.
type DisplayChecked struct {
	ReaderID string
	At       time.Time
	Passed   bool
}

// DisplayCheckValid is how long a passed display check counts.
const DisplayCheckValid = 24 * time.Hour

// ReaderOffline: explicit log-off (missed heartbeats are detected by time).
type ReaderOffline struct{ ReaderID string }

// Opened: the reader opened the study (T4).
type Opened struct{ StudyID, ReaderID string }

// Released: the reader handed the study back.
type Released struct{ StudyID, ReaderID, Reason string }

// Signed: a prelim or final was signed (T5/T6).
type Signed struct {
	StudyID, ReaderID string
	Kind              model.ReadKind
}

// Tick: time passed; run lease, presence, shift and credential timers.
type Tick struct{}

// Reassign: a coordinator moves a study, to a named reader or (ToReader
// empty) to whoever the policy picks next, with a reason for the log.
type Reassign struct{ StudyID, ToReader, Reason, By string }

// ReaderUpdated adds or replaces a reader (licences, privileges, shifts…).
// A lapse or removal takes affected studies out of the queue at once.
type ReaderUpdated struct{ Reader *model.Reader }

// ReaderRemoved deletes a reader; their studies are re-routed.
type ReaderRemoved struct{ ReaderID string }

// FacilityUpdated adds or replaces a facility.
type FacilityUpdated struct{ Facility *model.Facility }

// Pull: an idle reader asks for work (shared-pool's only way to assign;
// for push policies a top-up).
type Pull struct{ ReaderID string }

func (StudyReady) event()      {}
func (StudyChanged) event()    {}
func (Cancelled) event()       {}
func (Heartbeat) event()       {}
func (DisplayChecked) event()  {}
func (ReaderOffline) event()   {}
func (Opened) event()          {}
func (Released) event()        {}
func (Signed) event()          {}
func (Tick) event()            {}
func (Reassign) event()        {}
func (ReaderUpdated) event()   {}
func (ReaderRemoved) event()   {}
func (FacilityUpdated) event() {}
func (Pull) event()            {}

// Kind is a decision kind.
type Kind string

const (
	KindAssign    Kind = "assign"
	KindUnassign  Kind = "unassign"
	KindUncovered Kind = "uncovered"
	KindQueued    Kind = "queued" // eligible readers exist but all are at their caps
	KindAlert     Kind = "alert"
	KindDone      Kind = "done"
)

// Unassign reason codes.
const (
	ReasonOffline    = "reader.offline"
	ReasonShiftEnded = "reader.shift_ended"
	ReasonUnopened   = "lease.unopened_timeout"
	ReasonReleased   = "reader.released"
	ReasonIneligible = "credential.lapsed"
	ReasonDeadline   = "deadline.at_risk"
	ReasonStolen     = "urgent.starts_sooner"
	ReasonReassigned = "coordinator.reassign"
	ReasonRemoved    = "reader.removed"
	ReasonCancelled  = "study.cancelled"
)

// Score is the lightbox score breakdown (higher is better). Terms are in
// minutes-equivalent; Total is their sum.
type Score struct {
	Total          float64   `json:"total"`
	Time           float64   `json:"time"`     // −weight × minutes until expected finish
	Late           float64   `json:"late"`     // −penalty × minutes projected past the deadline
	Queue          float64   `json:"queue"`    // −weight × queued RVU
	Subspec        float64   `json:"subspec"`  // subspecialty match bonus
	Fairness       float64   `json:"fairness"` // behind RVU target → bonus
	Continuity     float64   `json:"continuity"`
	ExtraRead      float64   `json:"extra_read"` // prelim that will need a final
	ExpectedStart  time.Time `json:"expected_start"`
	ExpectedFinish time.Time `json:"expected_finish"`
	SlackMin       float64   `json:"slack_min"`
}

// Candidate records why a reader was not chosen.
type Candidate struct {
	ReaderID   string            `json:"reader_id"`
	Exclusions []model.Exclusion `json:"exclusions,omitempty"` // hard: not eligible
	AtCap      string            `json:"at_cap,omitempty"`     // eligible but at a cap
	Limits     string            `json:"limits,omitempty"`     // the reader's caps, target and opt-in (Explain)
	Kind       model.ReadKind    `json:"kind,omitempty"`
	Score      *Score            `json:"score,omitempty"` // eligible, ranked lower
	Rank       int               `json:"rank,omitempty"`
}

// Filtered counts readers dropped by the licence/privilege index before
// Check ran (they lack any licence record for the state or any privilege
// record at the facility). Engine.Explain lists them individually.
type Filtered struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// Decision is one output of Apply.
type Decision struct {
	Kind         Kind           `json:"kind"`
	At           time.Time      `json:"at"`
	StudyID      string         `json:"study_id,omitempty"`
	ReaderID     string         `json:"reader_id,omitempty"`
	Stage        model.ReadKind `json:"stage,omitempty"`
	LeaseExpires time.Time      `json:"lease_expires,omitzero"`
	Code         string         `json:"code,omitempty"`
	Reason       string         `json:"reason,omitempty"`
	Policy       Policy         `json:"policy,omitempty"`
	Score        *Score         `json:"score,omitempty"`
	Others       []Candidate    `json:"others,omitempty"`
	Filtered     []Filtered     `json:"filtered,omitempty"`
}
