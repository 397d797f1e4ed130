package report

import (
	"errors"
	"strings"
	"time"

	"lightbox/internal/model"
)

// Content is the body of a report version.
type Content struct {
	TemplateID      string            `json:"template_id,omitempty"`
	ClinicalHistory string            `json:"clinical_history,omitempty"`
	Technique       string            `json:"technique,omitempty"`
	Comparison      string            `json:"comparison,omitempty"`
	Findings        string            `json:"findings,omitempty"`
	Impression      string            `json:"impression,omitempty"`
	Fields          map[string]string `json:"fields,omitempty"` // structured fields (pick-list values), e.g. birads, density
}

// Kind is the kind of a report version.
type Kind string

// Version kinds.
const (
	KindDraft      Kind = "draft"
	KindPrelim     Kind = "prelim"
	KindFinal      Kind = "final"
	KindAddendum   Kind = "addendum"
	KindCorrection Kind = "correction"
)

// Signed reports whether versions of this kind carry a signature.
func (k Kind) Signed() bool { return k != KindDraft && k != "" }

// Report statuses (Report.Status), named as FHIR DiagnosticReport.status.
const (
	StatusRegistered  = "registered"  // drafts only
	StatusPreliminary = "preliminary" // a prelim signed
	StatusFinal       = "final"
	StatusAmended     = "amended"  // corrected after the final
	StatusAppended    = "appended" // an addendum after the final (or prelim)
)

// Signer is who signs a version and where they physically are (docs/domain.md §1
// L6: the location, not the licence, decides what they may sign).
type Signer struct {
	ReaderID string         `json:"reader_id"`
	Display  string         `json:"display,omitempty"` // printed name; default the roster name
	Location model.Location `json:"location"`          // default the roster location
}

// Version is one row of a report's history.
type Version struct {
	Seq     int     `json:"seq"`
	Kind    Kind    `json:"kind"`
	Author  string  `json:"author"` // reader ID
	Content Content `json:"content"`
	// Text is the addendum text (addenda only).
	Text            string    `json:"text,omitempty"`
	Reason          string    `json:"reason,omitempty"` // corrections
	SignedAt        time.Time `json:"signed_at,omitzero"`
	Signer          *Signer   `json:"signer,omitempty"`
	SystemGenerated bool      `json:"system_generated,omitempty"`
	// Communicated is set on a prelim that was sent to the facility (an
	// ORU enqueued) or communicated verbally at signing.
	Communicated bool      `json:"communicated,omitempty"`
	CPT          string    `json:"cpt,omitempty"`
	WorkRVU      float64   `json:"work_rvu,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// ResultStatus is the HL7 OBR-25 / OBX-11 code of a signed version;
// addendumStatus is the facility's choice for addenda ("C" or "A").
func (v Version) ResultStatus(addendumStatus string) string {
	switch v.Kind {
	case KindPrelim:
		return "P"
	case KindFinal:
		return "F"
	case KindCorrection:
		return "C"
	case KindAddendum:
		if addendumStatus == "A" {
			return "A"
		}
		return "C"
	}
	return "R"
}

// FHIRStatus is the DiagnosticReport.status the report has once this
// version is the latest signed one.
func (v Version) FHIRStatus() string {
	switch v.Kind {
	case KindPrelim:
		return StatusPreliminary
	case KindFinal:
		return StatusFinal
	case KindCorrection:
		return StatusAmended
	case KindAddendum:
		return StatusAppended
	}
	return StatusRegistered
}

// Report is a study's report with its current state.
type Report struct {
	ID         string `json:"id"`
	StudyUID   string `json:"study_uid"`
	FacilityID string `json:"facility_id"`
	Accession  string `json:"accession"`
	PatientPK  int64  `json:"patient_pk"`
	OrderID    string `json:"order_id,omitempty"`
	Status     string `json:"status"`
	// Base is the latest signed prelim, final or correction: the body the
	// addenda after it are appended to.
	Base *Version `json:"base,omitempty"`
	// Addenda are the addenda signed after Base, oldest first.
	Addenda []Version `json:"addenda,omitempty"`
	// Draft is the latest unsigned draft newer than every signed version.
	Draft     *Version  `json:"draft,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Discrepancy is a material difference between a prelim and the final
// signed over it (docs/domain.md §5 CR4).
type Discrepancy struct {
	ID                 int64     `json:"id"`
	ReportID           string    `json:"report_id"`
	StudyUID           string    `json:"study_uid"`
	FacilityID         string    `json:"facility_id"`
	PrelimSeq          int       `json:"prelim_seq"`
	FinalSeq           int       `json:"final_seq"`
	PrelimReader       string    `json:"prelim_reader"`
	FinalReader        string    `json:"final_reader"`
	ImpressionChanged  bool      `json:"impression_changed"`
	Flagged            bool      `json:"flagged"` // set by the final signer
	Note               string    `json:"note,omitempty"`
	PrelimCommunicated bool      `json:"prelim_communicated"`
	At                 time.Time `json:"at"`
}

// Errors. Handlers map them to HTTP statuses (see API).
var (
	ErrUnknownStudy    = errors.New("report: unknown study")
	ErrNotFound        = errors.New("report: no report for this study")
	ErrEmptyImpression = errors.New("report: the impression is empty")
	ErrNotAuthor       = errors.New("report: the draft belongs to another reader; its author must sign it")
	ErrSigned          = errors.New("report: the report is signed; use an addendum or a correction")
	ErrNotSigned       = errors.New("report: nothing signed yet")
	ErrReasonRequired  = errors.New("report: a reason is required")
	ErrReauth          = errors.New("report: re-authentication required before signing")
	ErrUnknownReader   = errors.New("report: signer is not a known reader")
	ErrInvalid         = errors.New("report: invalid")
	ErrConflict        = errors.New("report: changed concurrently; retry")
)

// IneligibleError is a refusal by the eligibility re-check at signing
// (docs/domain.md §1 L3, L8; model.Check). Its message lists the reasons.
type IneligibleError struct {
	Kind       model.ReadKind
	Exclusions []model.Exclusion
}

func (e *IneligibleError) Error() string {
	rs := make([]string, len(e.Exclusions))
	for i, x := range e.Exclusions {
		rs[i] = x.Reason
	}
	return "report: may not sign " + e.Kind.String() + ": " + strings.Join(rs, "; ")
}

// Codes returns the exclusion codes.
func (e *IneligibleError) Codes() []model.Code {
	out := make([]model.Code, len(e.Exclusions))
	for i, x := range e.Exclusions {
		out[i] = x.Code
	}
	return out
}

// normImpression is the impression as compared for material change:
// case and whitespace do not matter.
func normImpression(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
