package critical

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lightbox/internal/order"
)

// State is where a loop stands.
type State string

// States. A loop is open until someone is reached (communicated) and the
// communication is documented (closed). Escalated means the ladder moved
// past the ordering clinician with nobody reached; handed_off means a
// coordinator works the loop (the original reader stays accountable).
const (
	StateOpen         State = "open"
	StateEscalated    State = "escalated"
	StateHandedOff    State = "handed_off"
	StateCommunicated State = "communicated"
	StateClosed       State = "closed"
)

// Method is how a communication was attempted.
type Method string

// Methods. Phone and in person are verbal (read-back possible).
const (
	MethodPhone         Method = "phone"
	MethodPage          Method = "page"
	MethodSecureMessage Method = "secure_message"
	MethodInPerson      Method = "in_person"
)

// methodWords is each method as a notification sentence names it; the
// methods listed are the valid ones.
var methodWords = map[Method]string{
	MethodPhone:         "telephone",
	MethodPage:          "pager",
	MethodSecureMessage: "secure message",
	MethodInPerson:      "in person",
}

func (m Method) valid() bool { _, ok := methodWords[m]; return ok }

// Verbal reports whether m allows a read-back.
func (m Method) Verbal() bool { return m == MethodPhone || m == MethodInPerson }

func (m Method) words() string {
	if w, ok := methodWords[m]; ok {
		return w
	}
	return string(m)
}

// Outcome is the result of an attempt.
type Outcome string

// Outcomes.
const (
	OutcomeReached     Outcome = "reached"
	OutcomeNoAnswer    Outcome = "no_answer"
	OutcomeLeftMessage Outcome = "left_message"
	OutcomeWrongNumber Outcome = "wrong_number"
)

func (o Outcome) valid() bool {
	switch o {
	case OutcomeReached, OutcomeNoAnswer, OutcomeLeftMessage, OutcomeWrongNumber:
		return true
	}
	return false
}

// Actor is who does something: a reader or a coordinator (coordinators and
// administrators may act on any loop of a facility they see).
type Actor struct {
	ID          string `json:"id"`
	Display     string `json:"display,omitempty"`
	Coordinator bool   `json:"coordinator,omitempty"`
}

func (a Actor) name() string {
	if a.Display != "" {
		return a.Display
	}
	return a.ID
}

// Finding is what was found: a code (e.g. RadLex) and free text.
type Finding struct {
	Code   string `json:"code,omitempty"`
	System string `json:"system,omitempty"`
	Text   string `json:"text"`
}

// Recipient is who received (or was meant to receive) a communication.
type Recipient struct {
	Name      string `json:"name"`
	Role      string `json:"role,omitempty"`
	Callback  string `json:"callback,omitempty"`
	ContactID string `json:"contact_id,omitempty"`
}

// Candidate is a possible recipient, by ladder rung.
type Candidate struct {
	Rung    int     `json:"rung"`
	Target  string  `json:"target"`
	Contact Contact `json:"contact"`
}

// Attempt is one try to communicate the result.
type Attempt struct {
	Method     Method    `json:"method"`
	To         Recipient `json:"to"`
	Outcome    Outcome   `json:"outcome"`
	AnsweredBy string    `json:"answered_by,omitempty"` // who picked up, when not the intended person
	ReadBack   bool      `json:"read_back"`
	Note       string    `json:"note,omitempty"`
	At         time.Time `json:"at,omitzero"` // zero = now
	By         Actor     `json:"by"`
}

// AttemptRecord is a stored attempt.
type AttemptRecord struct {
	Attempt
	ID         int64     `json:"id"`
	RecordedAt time.Time `json:"recorded_at"`
}

// Event is one entry of a loop's history.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Level  int       `json:"level"`
	By     string    `json:"by,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Result is one critical result communication loop (CR1).
type Result struct {
	ID               string          `json:"id"`
	FacilityID       string          `json:"facility_id"`
	StudyUID         string          `json:"study_uid"`
	Accession        string          `json:"accession,omitempty"`
	OrderID          string          `json:"order_id,omitempty"`
	Finding          Finding         `json:"finding"`
	Category         string          `json:"category"`
	CategoryLabel    string          `json:"category_label,omitempty"`
	Colour           string          `json:"colour,omitempty"`
	Verbal           bool            `json:"verbal"`
	IdentifiedAt     time.Time       `json:"identified_at"`
	DeadlineAt       time.Time       `json:"deadline_at"`
	State            State           `json:"state"`
	EscalationLevel  int             `json:"escalation_level"`
	Overdue          bool            `json:"overdue"`
	NextDueAt        time.Time       `json:"next_due_at,omitzero"`
	Communicator     string          `json:"communicator"` // the accountable reader
	CommunicatorName string          `json:"communicator_name,omitempty"`
	HandedOffTo      string          `json:"handed_off_to,omitempty"`
	HandedOffBy      string          `json:"handed_off_by,omitempty"`
	HandedOffAt      time.Time       `json:"handed_off_at,omitzero"`
	Recipient        Recipient       `json:"recipient,omitzero"`
	Method           Method          `json:"method,omitempty"`
	CommunicatedAt   time.Time       `json:"communicated_at,omitzero"`
	CommunicatedBy   string          `json:"communicated_by,omitempty"`
	ReadBack         bool            `json:"read_back"`
	AckAt            time.Time       `json:"ack_at,omitzero"`
	AckBy            string          `json:"ack_by,omitempty"`
	ClosedAt         time.Time       `json:"closed_at,omitzero"`
	ClosedBy         string          `json:"closed_by,omitempty"`
	Candidates       []Candidate     `json:"candidates"`
	AddendumText     string          `json:"addendum_text,omitempty"`
	AddendumAt       time.Time       `json:"addendum_at,omitzero"`
	Attempts         []AttemptRecord `json:"attempts,omitempty"`
	Events           []Event         `json:"events,omitempty"`
	Version          int             `json:"version"`

	communicatedByName string
	warnAt             time.Time
	step               time.Duration
	maxLevel           int
	overdueNotified    bool
	addendumDue        time.Time
	addendumTries      int
}

// Notification asks the Notifier to reach people: the contacts of a ladder
// rung (with an acknowledgement link), or the team (overdue, handoff).
// Summary holds no patient identifiers.
type Notification struct {
	Kind          string    `json:"kind"` // "opened", "escalated", "overdue", "handoff", "ack_request"
	ResultID      string    `json:"result_id"`
	FacilityID    string    `json:"facility_id"`
	StudyUID      string    `json:"study_uid"`
	Accession     string    `json:"accession,omitempty"`
	Category      string    `json:"category"`
	CategoryLabel string    `json:"category_label,omitempty"`
	Level         int       `json:"level"`
	Rung          string    `json:"rung,omitempty"`
	Targets       []Contact `json:"targets,omitempty"`
	AckURL        string    `json:"ack_url,omitempty"`
	Reader        string    `json:"reader"`                // accountable reader (user ID)
	Coordinator   string    `json:"coordinator,omitempty"` // handed-off coordinator
	DeadlineAt    time.Time `json:"deadline_at"`
	Summary       string    `json:"summary"`
}

// Notifier delivers notifications (pager, secure message, e-mail, HL7 …).
// It is called after the change is committed; errors are logged and
// recorded on the loop, never retried automatically.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Signer is who signs the communication addendum.
type Signer struct {
	ReaderID string
	Display  string
}

// AddendumWriter appends the communication statement to the study's report
// (report.Service.Addendum, adapted by the caller).
type AddendumWriter interface {
	Addendum(ctx context.Context, studyUID, text string, by Signer) error
}

// HolderFunc returns the reader currently holding a study ("" = nobody).
type HolderFunc func(studyUID string) string

// Orders finds the order behind a study; *order.Service satisfies it.
type Orders interface {
	Get(ctx context.Context, id string) (order.Order, error)
	ByAccession(ctx context.Context, facilityID, accession string) (order.Order, error)
	LatestForStudy(ctx context.Context, studyUID, facilityID string) (order.Order, error)
}

// Errors (wrapped; test with errors.Is).
var (
	ErrNotFound     = errors.New("critical: result not found")
	ErrNotHolder    = errors.New("critical: only the reader holding the study, or a coordinator, may open a critical result on it")
	ErrForbidden    = errors.New("critical: only the accountable reader, the handed-off coordinator or a coordinator may act on this result")
	ErrClosed       = errors.New("critical: result already closed")
	ErrRefused      = errors.New("critical: refused")
	ErrConflict     = errors.New("critical: concurrent change, try again")
	ErrTokenInvalid = errors.New("critical: acknowledgement link not valid")
	ErrTokenUsed    = errors.New("critical: acknowledgement link already used")
	ErrTokenExpired = errors.New("critical: acknowledgement link expired")
)

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}
