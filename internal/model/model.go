package model

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ReadKind is the kind of interpretation being produced (docs/domain.md §1 L7).
type ReadKind uint8

const (
	Prelim ReadKind = iota + 1
	Final
)

func (k ReadKind) String() string {
	switch k {
	case Prelim:
		return "prelim"
	case Final:
		return "final"
	}
	return "unknown"
}

// Priority is the ordered urgency from TQ1-9/OBR-27 (docs/domain.md §4 TAT3).
type Priority uint8

const (
	Routine Priority = iota
	ASAP
	STAT
)

func (p Priority) String() string {
	switch p {
	case STAT:
		return "stat"
	case ASAP:
		return "asap"
	}
	return "routine"
}

// ParsePriority accepts S/A/R and the spelled-out names.
func ParsePriority(s string) (Priority, error) {
	switch strings.ToLower(s) {
	case "s", "stat":
		return STAT, nil
	case "a", "asap", "urgent":
		return ASAP, nil
	case "r", "routine", "":
		return Routine, nil
	}
	return Routine, fmt.Errorf("credential: unknown priority %q", s)
}

// Class is the SLA class of a study: stroke and trauma protocol flags
// override the ordered priority (TAT3).
type Class string

const (
	ClassStroke  Class = "stroke"
	ClassTrauma  Class = "trauma"
	ClassSTAT    Class = "stat"
	ClassASAP    Class = "asap"
	ClassRoutine Class = "routine"
)

// Classes lists SLA classes from most to least urgent.
var Classes = [...]Class{ClassStroke, ClassTrauma, ClassSTAT, ClassASAP, ClassRoutine}

// Rank orders classes; lower is more urgent.
func (c Class) Rank() int {
	for i, x := range Classes {
		if x == c {
			return i
		}
	}
	return len(Classes)
}

// Urgent reports whether the class is read ahead of everything routine.
func (c Class) Urgent() bool { return c == ClassStroke || c == ClassTrauma || c == ClassSTAT }

// Presence is a reader's live connection state.
type Presence uint8

const (
	Offline Presence = iota
	Away
	Online
)

func (p Presence) String() string {
	switch p {
	case Online:
		return "online"
	case Away:
		return "away"
	}
	return "offline"
}

// Workstation is the reader's diagnostic display class (docs/domain.md §3 M4).
type Workstation string

const (
	WS3MP Workstation = "3MP"
	WS5MP Workstation = "5MP"
)

// Location is where a reader physically sits. Country is ISO 3166 alpha-2;
// State is the US postal code when Country is "US".
type Location struct {
	Country string `json:"country"`
	State   string `json:"state,omitempty"`
}

// InUS reports whether the reader is physically in the United States
// (the L6 test is location, not licence).
func (l Location) InUS() bool { return l.Country == "US" || (l.Country == "" && l.State != "") }

func (l Location) String() string {
	if l.InUS() {
		return "US-" + l.State
	}
	return l.Country
}

// LicenceStatus is the board's status for a licence.
type LicenceStatus string

const (
	LicenceActive     LicenceStatus = "active"
	LicenceInactive   LicenceStatus = "inactive"
	LicenceRestricted LicenceStatus = "restricted"
)

// License is one state medical licence (docs/domain.md §1 L4). Licences issued
// through the IMLC are still separate state licences with their own expiry.
type License struct {
	State        string        `json:"state"`
	Number       string        `json:"number"`
	Type         string        `json:"type,omitempty"`
	Status       LicenceStatus `json:"status"`
	Expires      Date          `json:"expires"`
	Restrictions []string      `json:"restrictions,omitempty"`
	IMLC         bool          `json:"imlc,omitempty"`
	VerifiedAt   time.Time     `json:"verified_at"`
	Source       string        `json:"source,omitempty"`
}

// Basis says how a privilege was granted (docs/domain.md §2 C2).
type Basis string

const (
	Direct Basis = "direct"
	Proxy  Basis = "proxy"
)

// Scope limits a privilege. Empty Modalities or BodyRegions mean
// unrestricted general radiology; mammography and paediatrics are always
// explicit because facilities grant them separately.
type Scope struct {
	Modalities  []string `json:"modalities,omitempty"`
	BodyRegions []string `json:"body_regions,omitempty"`
	Mammography bool     `json:"mammography,omitempty"`
	Paediatrics bool     `json:"paediatrics,omitempty"`
}

// Privilege is a facility's grant to a reader (docs/domain.md §2 C5).
type Privilege struct {
	Facility    string `json:"facility"`
	Scope       Scope  `json:"scope"`
	Basis       Basis  `json:"basis"`
	DistantSite string `json:"distant_site,omitempty"`
	AgreementID string `json:"agreement_id,omitempty"`
	Granted     Date   `json:"granted"`
	Expires     Date   `json:"expires"`
}

// Enrolment is a payer enrolment; today only Medicare matters for
// eligibility (finals on Medicare facilities).
type Enrolment struct {
	Payer     string `json:"payer"`
	Active    bool   `json:"active"`
	Effective Date   `json:"effective,omitempty"`
	Expires   Date   `json:"expires,omitempty"`
}

// PayerMedicare is the payer key for Medicare enrolment.
const PayerMedicare = "medicare"

// Malpractice is one professional-liability policy.
type Malpractice struct {
	Carrier      string   `json:"carrier"`
	States       []string `json:"states"`
	Telemedicine bool     `json:"telemedicine"`
	Expires      Date     `json:"expires"`
}

// MQSA is a reader's mammography interpreting-physician status (docs/domain.md §3).
// Qualified is the medical-staff office's determination; QualifiedUntil and
// Last24Months let the check also block a count that has fallen below 960.
type MQSA struct {
	Qualified      bool `json:"qualified"`
	QualifiedUntil Date `json:"qualified_until,omitempty"`
	Last24Months   int  `json:"last_24_months"`
	Initial        bool `json:"initial,omitempty"` // in the initial-qualification period: the 960 rule does not apply yet
	DBT            bool `json:"dbt,omitempty"`     // 8 h of DBT training done
}

// MQSAContinuing is the continuing-experience threshold (exams per 24 months).
const MQSAContinuing = 960

// Reader is a radiologist with everything eligibility needs.
type Reader struct {
	ID             string      `json:"id"`
	Name           string      `json:"name"`
	Subspecialties []string    `json:"subspecialties,omitempty"`
	Modalities     []string    `json:"modalities"`
	MQSA           MQSA        `json:"mqsa"`
	Workstation    Workstation `json:"workstation"`
	Location       Location    `json:"location"`
	TimeZone       string      `json:"time_zone"`
	// RVUTargetPerHour is the fairness target; MaxRVUPerHour and
	// MaxOpenCases are caps (0 = no cap).
	RVUTargetPerHour float64 `json:"rvu_target_per_hour"`
	MaxRVUPerHour    float64 `json:"max_rvu_per_hour,omitempty"`
	MaxOpenCases     int     `json:"max_open_cases,omitempty"`
	// ExtraWork is the reader's own opt-in to more work than the fair
	// share: one more routine case ahead, and being ahead of colleagues
	// no longer lowers their score. Their caps still hold.
	ExtraWork   bool          `json:"extra_work,omitempty"`
	Licenses    []License     `json:"licenses"`
	Privileges  []Privilege   `json:"privileges"`
	Enrolments  []Enrolment   `json:"enrolments,omitempty"`
	Malpractice []Malpractice `json:"malpractice,omitempty"`
	Shifts      []Shift       `json:"shifts,omitempty"`
	Blocks      []Block       `json:"blocks,omitempty"`
	// Away are one-off absences (vacation, a shift given away in a swap)
	// cut out of the weekly pattern and the blocks.
	Away []Absence `json:"away,omitempty"`

	// Loc caches the loaded TimeZone; set it with Resolve.
	Loc *time.Location `json:"-"`

	// privIdx indexes Privileges by facility (built by Resolve). Lookups
	// verify every hit and fall back to a scan on a miss, so a stale index
	// costs speed, never correctness.
	privIdx map[string][]int32
}

// Resolve loads the reader's time zone and indexes privileges by facility.
// Call it after loading or editing a reader: time.LoadLocation reads the
// zoneinfo database on every call, and a 175-privilege linear scan per
// Check is the engine's hottest path otherwise.
func (r *Reader) Resolve() error {
	r.privIdx = make(map[string][]int32, len(r.Privileges))
	for i, p := range r.Privileges {
		r.privIdx[p.Facility] = append(r.privIdx[p.Facility], int32(i))
	}
	loc, err := zone("reader", r.ID, r.TimeZone)
	if err == nil {
		r.Loc = loc
	}
	return err
}

func (r *Reader) location() *time.Location { return zoneOr(r.Loc, r.TimeZone) }

// zone loads the IANA zone name of a reader's or facility's Resolve ("" is
// UTC).
func zone(what, id, name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("credential: %s %s: %w", what, id, err)
	}
	return loc, nil
}

// zoneOr is the resolved zone loc, else name loaded now, else UTC.
func zoneOr(loc *time.Location, name string) *time.Location {
	if loc != nil {
		return loc
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// HasSubspecialty reports whether the reader lists sub.
func (r *Reader) HasSubspecialty(sub string) bool { return slices.Contains(r.Subspecialties, sub) }

// Privilege returns the reader's privilege at a facility. When several
// exist it prefers the one that expires last, so a renewed grant wins.
func (r *Reader) Privilege(facility string) (Privilege, bool) {
	var best Privilege
	found := false
	if ix, ok := r.privIdx[facility]; ok {
		for _, i := range ix {
			if int(i) >= len(r.Privileges) || r.Privileges[i].Facility != facility {
				found = false
				break // stale index: scan
			}
			if p := r.Privileges[i]; !found || laterExpiry(p.Expires, best.Expires) {
				best, found = p, true
			}
		}
		if found {
			return best, true
		}
	}
	for _, p := range r.Privileges {
		if p.Facility == facility && (!found || laterExpiry(p.Expires, best.Expires)) {
			best, found = p, true
		}
	}
	return best, found
}

// Licence returns the reader's best licence for a state: an active one
// first, then the one expiring last.
func (r *Reader) Licence(state string) (License, bool) {
	var best License
	found := false
	for _, l := range r.Licenses {
		if l.State != state {
			continue
		}
		if !found || (l.Status == LicenceActive && best.Status != LicenceActive) ||
			(l.Status == best.Status && laterExpiry(l.Expires, best.Expires)) {
			best, found = l, true
		}
	}
	return best, found
}

// laterExpiry orders expiry dates with "no expiry" last.
func laterExpiry(a, b Date) bool {
	if a.IsZero() {
		return !b.IsZero()
	}
	return !b.IsZero() && a > b
}

// ReadType is what a facility buys.
type ReadType string

const (
	ReadPrelimOnly       ReadType = "prelim-only"
	ReadFinalType        ReadType = "final"
	ReadFinalRequiresUS  ReadType = "final-requires-us-reader"
	defaultFinalAfterPre          = 12 * time.Hour
)

// StartEvent names the timestamp an SLA clock starts from (docs/domain.md §4 TAT1).
type StartEvent string

const (
	StartOrdered      StartEvent = "ordered"       // T0
	StartExamComplete StartEvent = "exam-complete" // T2
	StartReceived     StartEvent = "received"      // T3
)

// SLA is one contracted target.
type SLA struct {
	Within time.Duration `json:"within"`
	From   StartEvent    `json:"from"`
}

// Facility is a client site.
type Facility struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	State    string            `json:"state"`
	TimeZone string            `json:"time_zone"`
	Medicare bool              `json:"medicare"`
	ReadType ReadType          `json:"read_type"`
	SLA      map[Class]SLA     `json:"sla"`
	FinalSLA time.Duration     `json:"final_sla,omitempty"` // final after an offshore prelim, from the prelim
	Codes    map[string]string `json:"codes,omitempty"`     // local procedure code -> CPT

	Loc *time.Location `json:"-"`
}

// Resolve loads the facility's IANA zone (see Reader.Resolve).
func (f *Facility) Resolve() error {
	loc, err := zone("facility", f.ID, f.TimeZone)
	if err == nil {
		f.Loc = loc
	}
	return err
}

func (f *Facility) location() *time.Location {
	if f == nil {
		return time.UTC
	}
	return zoneOr(f.Loc, f.TimeZone)
}

// DefaultSLA is used for classes a facility has not contracted. The values
// are the public norms of docs/domain.md §4 (vRad stroke <20 min, trauma
// average <12 min so 20 min target, STAT ≤30 min, urgent 12 h → ASAP
// 4 h here as a tighter teleradiology contract, routine 24 h).
func DefaultSLA(c Class) SLA {
	switch c {
	case ClassStroke:
		return SLA{20 * time.Minute, StartReceived}
	case ClassTrauma:
		return SLA{20 * time.Minute, StartReceived}
	case ClassSTAT:
		return SLA{30 * time.Minute, StartReceived}
	case ClassASAP:
		return SLA{4 * time.Hour, StartReceived}
	}
	return SLA{24 * time.Hour, StartReceived}
}

// SLAFor returns the facility's SLA for a class, falling back to DefaultSLA.
func (f *Facility) SLAFor(c Class) SLA {
	if f != nil {
		if s, ok := f.SLA[c]; ok && s.Within > 0 {
			return s
		}
	}
	return DefaultSLA(c)
}

// FinalWithin is the final-after-prelim target.
func (f *Facility) FinalWithin() time.Duration {
	if f != nil && f.FinalSLA > 0 {
		return f.FinalSLA
	}
	return defaultFinalAfterPre
}

// ProcedureMap maps one facility's local procedure codes to CPT.
type ProcedureMap struct {
	Facility string            `json:"facility"`
	Codes    map[string]string `json:"codes"`
}

// CPT resolves a local code; a code that already looks like a CPT/HCPCS
// code and is not mapped is returned unchanged.
func (m ProcedureMap) CPT(local string) (string, bool) {
	if c, ok := m.Codes[local]; ok {
		return c, true
	}
	if len(local) == 5 {
		return local, true
	}
	return "", false
}

// ReadNeed is what a study requires before it is done.
type ReadNeed uint8

const (
	// NeedFinal: one final read (a prelim first is allowed only as the
	// two-stage fallback for urgent studies, see worklist).
	NeedFinal ReadNeed = iota
	// NeedPrelim: a preliminary read is all the facility buys.
	NeedPrelim
	// NeedPrelimThenFinal: a prelim now, a final from a US reader later.
	NeedPrelimThenFinal
)

// Study is one study waiting to be read.
type Study struct {
	ID           string    `json:"id"`
	Facility     *Facility `json:"-"`
	FacilityID   string    `json:"facility"`
	PatientState string    `json:"patient_state,omitempty"` // default: facility state (L1)
	OrderTime    time.Time `json:"order_time,omitempty"`    // T0
	ExamTime     time.Time `json:"exam_time"`               // T2
	ArrivalTime  time.Time `json:"arrival_time"`            // T3
	Modality     string    `json:"modality"`
	BodyPart     string    `json:"body_part,omitempty"`
	CPT          string    `json:"cpt,omitempty"`
	SOPClasses   []string  `json:"sop_classes,omitempty"`
	// Subspecialty is preferred; when SubspecialtyRequired it is a hard rule.
	Subspecialty         string   `json:"subspecialty,omitempty"`
	SubspecialtyRequired bool     `json:"subspecialty_required,omitempty"`
	Priority             Priority `json:"priority"`
	Stroke               bool     `json:"stroke,omitempty"`
	Trauma               bool     `json:"trauma,omitempty"`
	Paediatric           bool     `json:"paediatric,omitempty"`
	Need                 ReadNeed `json:"need"`
	WorkRVU              float64  `json:"work_rvu"`
	RelatedKey           string   `json:"related_key,omitempty"`
	Triage               []string `json:"triage,omitempty"`
}

// State is the patient's state at the time of the exam (L1).
func (s *Study) State() string {
	if s.PatientState != "" {
		return s.PatientState
	}
	if s.Facility != nil {
		return s.Facility.State
	}
	return ""
}

// Class is the SLA class: stroke and trauma override the priority.
func (s *Study) Class() Class {
	switch {
	case s.Stroke:
		return ClassStroke
	case s.Trauma:
		return ClassTrauma
	case s.Priority == STAT:
		return ClassSTAT
	case s.Priority == ASAP:
		return ClassASAP
	}
	return ClassRoutine
}

// mammoCPT are the MQSA mammography codes of docs/domain.md §3.
var mammoCPT = map[string]bool{"77061": true, "77062": true, "77063": true, "77065": true, "77066": true, "77067": true, "G0279": true}

// dbtCPT are the tomosynthesis codes (need the 8 h DBT training).
var dbtCPT = map[string]bool{"77061": true, "77062": true, "77063": true, "G0279": true}

// Mammography SOP classes (docs/domain.md §3).
const (
	SOPDigitalMammo      = "1.2.840.10008.5.1.4.1.1.1.2"
	SOPDigitalMammoProc  = "1.2.840.10008.5.1.4.1.1.1.2.1"
	SOPBreastTomo        = "1.2.840.10008.5.1.4.1.1.13.1.3"
	SOPBreastProjection  = "1.2.840.10008.5.1.4.1.1.13.1.4"
	SOPBreastProjectionP = "1.2.840.10008.5.1.4.1.1.13.1.5"
)

var mammoSOP = map[string]bool{SOPDigitalMammo: true, SOPDigitalMammoProc: true, SOPBreastTomo: true, SOPBreastProjection: true, SOPBreastProjectionP: true}

// IsMammography reports whether the study is MQSA mammography (docs/domain.md §3):
// a mammography CPT, modality MG, or a mammography SOP class. Breast US and
// MRI are not MQSA and do not match.
func (s *Study) IsMammography() bool {
	if mammoCPT[s.CPT] || strings.EqualFold(s.Modality, "MG") {
		return true
	}
	for _, c := range s.SOPClasses {
		if mammoSOP[c] {
			return true
		}
	}
	return false
}

// IsDBT reports whether the study is breast tomosynthesis.
func (s *Study) IsDBT() bool {
	if dbtCPT[s.CPT] {
		return true
	}
	return slices.Contains(s.SOPClasses, SOPBreastTomo)
}

// SLAStart is the timestamp the facility's SLA for this class counts from.
func (s *Study) SLAStart() time.Time {
	switch s.Facility.SLAFor(s.Class()).From {
	case StartOrdered:
		if !s.OrderTime.IsZero() {
			return s.OrderTime
		}
	case StartExamComplete:
		if !s.ExamTime.IsZero() {
			return s.ExamTime
		}
	}
	if !s.ArrivalTime.IsZero() {
		return s.ArrivalTime
	}
	return s.ExamTime
}

// Deadline is when the first interpretation is due under the facility SLA.
func (s *Study) Deadline() time.Time {
	return s.SLAStart().Add(s.Facility.SLAFor(s.Class()).Within)
}
