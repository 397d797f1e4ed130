package audit

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"lightbox/internal/dcm"
)

// DCMSystem is the coding scheme of every EventID and EventTypeCode here.
const DCMSystem = "DCM"

// EventID is a DICOM audit event ID (CID 400), stored as its DCM code value.
type EventID string

// Audit event IDs (DICOM CID 400) and where Lightbox emits them (docs/domain.md §10).
const (
	ApplicationActivity  EventID = "110100" // start / stop
	AuditLogUsed         EventID = "110101" // audit log viewed or exported
	BeginTransferring    EventID = "110102" // retrieve or send started
	InstancesAccessed    EventID = "110103" // study opened, modified or deleted
	InstancesTransferred EventID = "110104" // retrieve, send or receive done
	StudyDeleted         EventID = "110105" // purge
	Export               EventID = "110106" // download, media, external share
	Import               EventID = "110107" // ingest
	OrderRecord          EventID = "110109" // order read or changed
	PatientRecord        EventID = "110110" // report / patient record read or changed
	ProcedureRecord      EventID = "110111" // procedure read or changed
	Query                EventID = "110112" // C-FIND, QIDO, worklist search
	SecurityAlert        EventID = "110113" // break-glass, permission change
	UserAuthentication   EventID = "110114" // login, logout, failed login
)

// Display is the code meaning ("" for an unknown code).
func (id EventID) Display() string {
	switch id {
	case ApplicationActivity:
		return "Application Activity"
	case AuditLogUsed:
		return "Audit Log Used"
	case BeginTransferring:
		return "Begin Transferring DICOM Instances"
	case InstancesAccessed:
		return "DICOM Instances Accessed"
	case InstancesTransferred:
		return "DICOM Instances Transferred"
	case StudyDeleted:
		return "DICOM Study Deleted"
	case Export:
		return "Export"
	case Import:
		return "Import"
	case OrderRecord:
		return "Order Record"
	case PatientRecord:
		return "Patient Record"
	case ProcedureRecord:
		return "Procedure Record"
	case Query:
		return "Query"
	case SecurityAlert:
		return "Security Alert"
	case UserAuthentication:
		return "User Authentication"
	}
	return ""
}

// EventType is a DICOM audit event type code (CID 401), e.g. Login.
type EventType string

// Audit event type codes (DICOM CID 401 / 403).
const (
	ApplicationStart                EventType = "110120"
	ApplicationStop                 EventType = "110121"
	Login                           EventType = "110122"
	Logout                          EventType = "110123"
	NodeAuthentication              EventType = "110126"
	EmergencyOverrideStarted        EventType = "110127"
	NetworkConfiguration            EventType = "110128"
	SecurityConfiguration           EventType = "110129"
	HardwareConfiguration           EventType = "110130"
	SoftwareConfiguration           EventType = "110131"
	UseOfRestrictedFunction         EventType = "110132"
	AuditRecordingStopped           EventType = "110133"
	AuditRecordingStarted           EventType = "110134"
	ObjectSecurityAttributesChanged EventType = "110135"
	SecurityRolesChanged            EventType = "110136"
	UserSecurityAttributesChanged   EventType = "110137"
	EmergencyOverrideStopped        EventType = "110138"
	RemoteServiceOperationStarted   EventType = "110139"
	RemoteServiceOperationStopped   EventType = "110140"
	LocalServiceOperationStarted    EventType = "110141"
	LocalServiceOperationStopped    EventType = "110142"
	AuthenticationDecision          EventType = "110143"
	AuthorizationDecision           EventType = "110144"
	SessionStart                    EventType = "110145"
	SessionStop                     EventType = "110146"
	AccessControlDecision           EventType = "110147"
)

// Display is the code meaning ("" for an unknown code).
func (t EventType) Display() string {
	switch t {
	case ApplicationStart:
		return "Application Start"
	case ApplicationStop:
		return "Application Stop"
	case Login:
		return "Login"
	case Logout:
		return "Logout"
	case NodeAuthentication:
		return "Node Authentication"
	case EmergencyOverrideStarted:
		return "Emergency Override Started"
	case NetworkConfiguration:
		return "Network Configuration"
	case SecurityConfiguration:
		return "Security Configuration"
	case HardwareConfiguration:
		return "Hardware Configuration"
	case SoftwareConfiguration:
		return "Software Configuration"
	case UseOfRestrictedFunction:
		return "Use of Restricted Function"
	case AuditRecordingStopped:
		return "Audit Recording Stopped"
	case AuditRecordingStarted:
		return "Audit Recording Started"
	case ObjectSecurityAttributesChanged:
		return "Object Security Attributes Changed"
	case SecurityRolesChanged:
		return "Security Roles Changed"
	case UserSecurityAttributesChanged:
		return "User Security Attributes Changed"
	case EmergencyOverrideStopped:
		return "Emergency Override Stopped"
	case RemoteServiceOperationStarted:
		return "Remote Service Operation Started"
	case RemoteServiceOperationStopped:
		return "Remote Service Operation Stopped"
	case LocalServiceOperationStarted:
		return "Local Service Operation Started"
	case LocalServiceOperationStopped:
		return "Local Service Operation Stopped"
	case AuthenticationDecision:
		return "Authentication Decision"
	case AuthorizationDecision:
		return "Authorization Decision"
	case SessionStart:
		return "Session start"
	case SessionStop:
		return "Session stop"
	case AccessControlDecision:
		return "Access Control Decision"
	}
	return ""
}

// Action is the ATNA EventActionCode.
type Action string

// Action codes.
const (
	Create  Action = "C"
	Read    Action = "R"
	Update  Action = "U"
	Delete  Action = "D"
	Execute Action = "E"
)

// Outcome is the ATNA EventOutcomeIndicator.
type Outcome int

// Outcomes.
const (
	Success        Outcome = 0  // nominal success
	MinorFailure   Outcome = 4  // action restarted, e.g. a retry
	SeriousFailure Outcome = 8  // action terminated, e.g. refused, bad credentials
	MajorFailure   Outcome = 12 // action made unavailable
)

// Interface is the edge an event came through.
type Interface string

// Interfaces. The empty Interface means the node itself (start/stop,
// background jobs).
const (
	HTTP  Interface = "http"
	DICOM Interface = "dicom"
	HL7   Interface = "hl7"
	CLI   Interface = "cli"
)

// Actor is who did something and from where: the "who" of an event and the
// "by" of an audit-log query. Build it from the authenticated principal and
// the connection (auth.Principal.Username / Role, the remote IP or the
// calling AE's host).
type Actor struct {
	UserID      string    // user name, AE title or integration name; required
	Role        string    // e.g. auth.Role ("radiologist"); informative
	NetworkAddr string    // IP address or host name of the requesting side
	Interface   Interface // http, dicom, hl7, cli
	FacilityID  string    // the facility the action concerns, when one
}

// Event is one audited action.
//
// Detail is free text for codes and reasons ("break-glass: ED trauma",
// "C-FIND STUDY level", "bad password") and must never hold PHI: no patient
// names, birth dates, accession text or report text. Patient identity goes
// only in PatientIssuer/PatientID, studies only in StudyUIDs, so the trail
// can be searched and the ATNA/FHIR exports carry them as coded objects.
type Event struct {
	Time      time.Time // when it happened (UTC, millisecond precision); zero = now
	EventID   EventID   // required
	EventType EventType // optional: Login / Logout / Emergency Override Started ...
	Action    Action    // C/R/U/D/E; required
	Outcome   Outcome   // 0/4/8/12

	UserID          string    // who; required
	UserRole        string    // their role
	UserIsRequestor bool      // they initiated the action (false for e.g. a peer pushing to us)
	NetworkAddr     string    // network access point: IP or host name
	Interface       Interface // http, dicom, hl7, cli, "" (the node itself)
	PeerID          string    // the other system in a transfer: AE title, HL7 application, host

	PatientIssuer string   // issuer of patient ID
	PatientID     string   // patient ID (MRN)
	StudyUIDs     []string // study instance UIDs
	ObjectType    string   // what kind of thing: "study", "report", "order", "user", "audit-log"

	Detail     string // codes and reasons only, never PHI (see above)
	FacilityID string // the facility the data belongs to

	// Set when the event is recorded; read back from the store.
	Seq        int64     // position in the chain, from 1
	RecordedAt time.Time // when it was written
	SourceID   string    // the recording node (Logger.SourceID): ATNA AuditSourceID
	PrevHash   string    // hash of the previous link (hex)
	Hash       string    // this link's hash (hex)
}

// ms truncates to the millisecond precision timestamps are stored with.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// normalize fills defaults and validates an event before it is recorded.
func (e *Event) normalize(now time.Time) error {
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = ms(e.Time)
	if e.EventID.Display() == "" {
		return fmt.Errorf("audit: unknown event ID %q", e.EventID)
	}
	if e.EventType != "" && e.EventType.Display() == "" {
		return fmt.Errorf("audit: unknown event type code %q", e.EventType)
	}
	switch e.Action {
	case Create, Read, Update, Delete, Execute:
	default:
		return fmt.Errorf("audit: invalid action code %q (C, R, U, D, E)", e.Action)
	}
	switch e.Outcome {
	case Success, MinorFailure, SeriousFailure, MajorFailure:
	default:
		return fmt.Errorf("audit: invalid outcome %d (0, 4, 8, 12)", e.Outcome)
	}
	switch e.Interface {
	case "", HTTP, DICOM, HL7, CLI:
	default:
		return fmt.Errorf("audit: invalid interface %q (http, dicom, hl7, cli)", e.Interface)
	}
	if e.UserID == "" {
		return errors.New("audit: user ID is required")
	}
	if e.PatientID == "" && e.PatientIssuer != "" {
		return errors.New("audit: patient issuer without patient ID")
	}
	for _, u := range e.StudyUIDs {
		if !dcm.ValidUID(u) {
			return fmt.Errorf("audit: invalid study instance UID %q", u)
		}
	}
	for _, s := range []string{e.UserID, e.UserRole, e.NetworkAddr, e.PeerID, e.PatientIssuer, e.PatientID, e.ObjectType, e.Detail, e.FacilityID} {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return errors.New("audit: text fields must be valid UTF-8 without NUL")
		}
	}
	return nil
}

// who fills the participant fields of e from a.
func (e Event) who(a Actor) Event {
	e.UserID, e.UserRole, e.NetworkAddr, e.Interface, e.UserIsRequestor = a.UserID, a.Role, a.NetworkAddr, a.Interface, true
	if e.FacilityID == "" {
		e.FacilityID = a.FacilityID
	}
	return e
}

// Constructors for the common events. Each returns an Event the caller may
// adjust (Outcome, Detail, ObjectType ...) before Logger.Record.

// LoginEvent is a login attempt (110114 / 110122); outcome SeriousFailure for
// a refused one, with the reason code in detail ("bad-password", "locked").
func LoginEvent(a Actor, outcome Outcome, detail string) Event {
	return Event{EventID: UserAuthentication, EventType: Login, Action: Execute, Outcome: outcome, Detail: detail, ObjectType: "user"}.who(a)
}

// LogoutEvent is a logout or session expiry (110114 / 110123).
func LogoutEvent(a Actor, detail string) Event {
	return Event{EventID: UserAuthentication, EventType: Logout, Action: Execute, Detail: detail, ObjectType: "user"}.who(a)
}

// QueryEvent is a search: C-FIND, QIDO-RS, worklist (110112). Detail should
// name the query level or keys, not their values when those are PHI; put a
// patient searched for in issuer/patientID.
func QueryEvent(a Actor, issuer, patientID, detail string) Event {
	return Event{EventID: Query, Action: Execute, PatientIssuer: issuer, PatientID: patientID, Detail: detail}.who(a)
}

// AccessEvent is a study opened (Read), modified (Update) or deleted (Delete)
// (110103).
func AccessEvent(a Actor, action Action, issuer, patientID string, studyUIDs ...string) Event {
	return Event{EventID: InstancesAccessed, Action: action, PatientIssuer: issuer, PatientID: patientID, StudyUIDs: studyUIDs, ObjectType: "study"}.who(a)
}

// StoreEvent is instances received and stored (110104, Create), e.g. a
// C-STORE or STOW-RS from peer (the sending AE or client).
func StoreEvent(a Actor, peer, issuer, patientID string, studyUIDs ...string) Event {
	return Event{EventID: InstancesTransferred, Action: Create, PeerID: peer, PatientIssuer: issuer, PatientID: patientID, StudyUIDs: studyUIDs, ObjectType: "study"}.who(a)
}

// SendEvent is instances sent or retrieved to peer (110104, Read).
func SendEvent(a Actor, peer, issuer, patientID string, studyUIDs ...string) Event {
	return Event{EventID: InstancesTransferred, Action: Read, PeerID: peer, PatientIssuer: issuer, PatientID: patientID, StudyUIDs: studyUIDs, ObjectType: "study"}.who(a)
}

// ImportEvent is an ingest from media or a bulk import (110107).
func ImportEvent(a Actor, source, issuer, patientID string, studyUIDs ...string) Event {
	return Event{EventID: Import, Action: Create, PeerID: source, PatientIssuer: issuer, PatientID: patientID, StudyUIDs: studyUIDs, ObjectType: "study"}.who(a)
}

// ExportEvent is a download, media export or external share to dest (110106).
func ExportEvent(a Actor, dest, issuer, patientID string, studyUIDs ...string) Event {
	return Event{EventID: Export, Action: Read, PeerID: dest, PatientIssuer: issuer, PatientID: patientID, StudyUIDs: studyUIDs, ObjectType: "study"}.who(a)
}

// RecordEvent is a patient record / report (110110), order (110109) or
// procedure (110111) read or changed; id must be one of those three.
func RecordEvent(a Actor, id EventID, action Action, objectType, issuer, patientID string, studyUIDs ...string) Event {
	return Event{EventID: id, Action: action, ObjectType: objectType, PatientIssuer: issuer, PatientID: patientID, StudyUIDs: studyUIDs}.who(a)
}

// StudyDeletedEvent is a purge (110105).
func StudyDeletedEvent(a Actor, issuer, patientID string, studyUIDs ...string) Event {
	return Event{EventID: StudyDeleted, Action: Delete, PatientIssuer: issuer, PatientID: patientID, StudyUIDs: studyUIDs, ObjectType: "study"}.who(a)
}

// SecurityAlertEvent is a break-glass, permission or configuration change
// (110113) with a type such as EmergencyOverrideStarted or
// SecurityRolesChanged; detail carries the reason code.
func SecurityAlertEvent(a Actor, typ EventType, detail string) Event {
	return Event{EventID: SecurityAlert, EventType: typ, Action: Execute, Detail: detail}.who(a)
}

// ApplicationEvent is the node starting or stopping (110100 with
// ApplicationStart / ApplicationStop); user is the service account or the
// node name.
func ApplicationEvent(user string, typ EventType) Event {
	return Event{EventID: ApplicationActivity, EventType: typ, Action: Execute, UserID: user, ObjectType: "application"}
}
