package order

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is an order's workflow state.
type Status string

// Statuses.
const (
	StatusRequested       Status = "requested"
	StatusProtocolPending Status = "protocol_pending"
	StatusScheduled       Status = "scheduled"
	StatusInProgress      Status = "in_progress"
	StatusCompleted       Status = "completed"
	StatusDiscontinued    Status = "discontinued"
	StatusCancelled       Status = "cancelled"
	StatusOnHold          Status = "on_hold"
	StatusRejected        Status = "rejected"
)

// Open reports whether s still allows changes (not a terminal state).
func (s Status) Open() bool {
	switch s {
	case StatusCompleted, StatusDiscontinued, StatusCancelled, StatusRejected:
		return false
	}
	return true
}

// ValidStatus reports whether s is a known status.
func ValidStatus(s string) bool {
	switch Status(s) {
	case StatusRequested, StatusProtocolPending, StatusScheduled, StatusInProgress, StatusCompleted,
		StatusDiscontinued, StatusCancelled, StatusOnHold, StatusRejected:
		return true
	}
	return false
}

// Priority is STAT, ASAP or ROUTINE.
type Priority string

// Priorities.
const (
	PrioritySTAT    Priority = "STAT"
	PriorityASAP    Priority = "ASAP"
	PriorityRoutine Priority = "ROUTINE"
)

// PriorityFromHL7 maps a table 0027/0485 code (S, A, R, T, P, C) to a Priority.
// Unknown and empty codes are routine.
func PriorityFromHL7(code string) Priority {
	switch strings.ToUpper(strings.TrimSpace(code)) {
	case "S", "STAT":
		return PrioritySTAT
	case "A", "ASAP", "T": // T = timing critical
		return PriorityASAP
	}
	return PriorityRoutine
}

// HL7 returns the table 0027 code for p.
func (p Priority) HL7() string {
	switch p {
	case PrioritySTAT:
		return "S"
	case PriorityASAP:
		return "A"
	}
	return "R"
}

// Patient is the patient identity as received with an order.
type Patient struct {
	Issuer    string // assigning authority; defaults to the facility ID
	ID        string
	Name      string // DICOM-style Family^Given^Middle
	BirthDate string // YYYYMMDD
	Sex       string // M, F, O, U
}

// Clinician is the ordering provider.
type Clinician struct {
	Name   string
	ID     string // e.g. NPI
	IDType string // e.g. "NPI"
	Phone  string // callback
}

// Protocol is the radiologist's protocol decision plus scheduling.
type Protocol struct {
	Code       string
	Text       string
	Contrast   string // e.g. "none", "with", "with and without"
	ApprovedBy string
	ApprovedAt time.Time
	// Scheduling (optional): default to the order's values.
	Modality    string
	StationAE   string
	ScheduledAt time.Time
}

// Order is one requested imaging procedure.
type Order struct {
	ID              string
	FacilityID      string
	Accession       string
	PlacerOrder     string
	FillerOrder     string
	Patient         Patient
	PatientPK       int64 // 0 when not linked
	ProcedureCode   string
	ProcedureSystem string // e.g. "CPT", "C4", or a facility code system
	ProcedureText   string
	Reason          string
	Priority        Priority
	Stroke          bool
	Trauma          bool
	Ordering        Clinician
	LocationState   string // where the patient is imaged (licensure)
	Medicare        bool
	OrderedAt       time.Time // T0 (ORC-9)
	RequestedAt     time.Time // requested start (TQ1-7 …)
	StudyUID        string
	RequestedProcID string // IPC-2 (MWL 0040,1001); empty = use the accession
	SPSID           string // IPC-4 (MWL 0040,0009); empty = use the order ID
	Modality        string
	StationAE       string
	ScheduledAt     time.Time
	Status          Status
	StatusReason    string
	Protocol        Protocol
	Source          string // "hl7", "fhir", …
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Event is one recorded state change.
type Event struct {
	OrderID string
	From    Status
	To      Status
	Actor   string
	Reason  string
	At      time.Time
}

// Errors returned by Service methods (wrapped).
var (
	ErrNotFound   = errors.New("order: not found")
	ErrTransition = errors.New("order: transition not allowed")
	ErrDuplicate  = errors.New("order: accession already used by another order")
)

// ValidationError names a missing or invalid field of an Order.
type ValidationError struct {
	Field   string // Go field name, e.g. "Accession", "Patient.ID"
	Message string
}

func (e *ValidationError) Error() string { return "order: " + e.Field + ": " + e.Message }

// Validate checks the fields Intake requires.
func (o *Order) Validate() error {
	switch {
	case strings.TrimSpace(o.FacilityID) == "":
		return &ValidationError{"FacilityID", "required"}
	case strings.TrimSpace(o.Accession) == "":
		return &ValidationError{"Accession", "required"}
	case strings.TrimSpace(o.Patient.ID) == "":
		return &ValidationError{"Patient.ID", "required"}
	case strings.TrimSpace(o.ProcedureCode) == "":
		return &ValidationError{"ProcedureCode", "required"}
	}
	switch o.Priority {
	case "", PrioritySTAT, PriorityASAP, PriorityRoutine:
	default:
		return &ValidationError{"Priority", fmt.Sprintf("must be STAT, ASAP or ROUTINE, not %q", o.Priority)}
	}
	return nil
}
