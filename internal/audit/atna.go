package audit

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net"
	"strconv"
	"time"
)

// ATNA audit message (DICOM PS3.15 A.5.1, the successor of RFC 3881)
// types, for encoding/xml. Element and attribute order follow the DICOM
// audit message schema.

// AuditMessage is the root element.
type AuditMessage struct {
	XMLName             xml.Name            `xml:"AuditMessage"`
	EventIdentification EventIdentification `xml:"EventIdentification"`
	ActiveParticipants  []ActiveParticipant `xml:"ActiveParticipant"`
	AuditSource         AuditSource         `xml:"AuditSourceIdentification"`
	ParticipantObjects  []ParticipantObject `xml:"ParticipantObjectIdentification"`
}

// CodedValue is the schema's CodedValueType.
type CodedValue struct {
	Code           string `xml:"csd-code,attr"`
	CodeSystemName string `xml:"codeSystemName,attr"`
	DisplayName    string `xml:"displayName,attr,omitempty"`
	OriginalText   string `xml:"originalText,attr"`
}

// EventIdentification says what happened.
type EventIdentification struct {
	ActionCode              string       `xml:"EventActionCode,attr"`
	DateTime                string       `xml:"EventDateTime,attr"`
	OutcomeIndicator        string       `xml:"EventOutcomeIndicator,attr"`
	EventID                 CodedValue   `xml:"EventID"`
	EventTypeCodes          []CodedValue `xml:"EventTypeCode"`
	EventOutcomeDescription string       `xml:"EventOutcomeDescription,omitempty"`
}

// ActiveParticipant is a user or system taking part.
type ActiveParticipant struct {
	UserID                     string       `xml:"UserID,attr"`
	AlternativeUserID          string       `xml:"AlternativeUserID,attr,omitempty"`
	UserIsRequestor            bool         `xml:"UserIsRequestor,attr"`
	NetworkAccessPointID       string       `xml:"NetworkAccessPointID,attr,omitempty"`
	NetworkAccessPointTypeCode string       `xml:"NetworkAccessPointTypeCode,attr,omitempty"`
	RoleIDCodes                []CodedValue `xml:"RoleIDCode"`
}

// AuditSource is the node that detected the event.
type AuditSource struct {
	EnterpriseSiteID string       `xml:"AuditEnterpriseSiteID,attr,omitempty"`
	SourceID         string       `xml:"AuditSourceID,attr"`
	TypeCodes        []CodedValue `xml:"AuditSourceTypeCode"`
}

// ParticipantObject is a patient, study or other object involved.
type ParticipantObject struct {
	ID          string                    `xml:"ParticipantObjectID,attr"`
	TypeCode    string                    `xml:"ParticipantObjectTypeCode,attr"`
	TypeRole    string                    `xml:"ParticipantObjectTypeCodeRole,attr"`
	IDTypeCode  CodedValue                `xml:"ParticipantObjectIDTypeCode"`
	Description string                    `xml:"ParticipantObjectDescription,omitempty"`
	Details     []ParticipantObjectDetail `xml:"ParticipantObjectDetail"`
}

// ParticipantObjectDetail is a type/value pair; Value is base64 per the schema.
type ParticipantObjectDetail struct {
	Type  string `xml:"type,attr"`
	Value string `xml:"value,attr"`
}

// Role ID codes (DCM) for participants in a transfer.
func roleApplication() CodedValue {
	return CodedValue{Code: "110150", CodeSystemName: DCMSystem, OriginalText: "Application"}
}

func roleSource() CodedValue {
	return CodedValue{Code: "110153", CodeSystemName: DCMSystem, OriginalText: "Source Role ID"}
}

func roleDestination() CodedValue {
	return CodedValue{Code: "110152", CodeSystemName: DCMSystem, OriginalText: "Destination Role ID"}
}

// atnaTime formats xs:dateTime in UTC with milliseconds.
func atnaTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// napType is the NetworkAccessPointTypeCode: 2 for an IP address, 1 for a
// machine (DNS) name.
func napType(addr string) string {
	if addr == "" {
		return ""
	}
	if net.ParseIP(addr) != nil {
		return "2"
	}
	return "1"
}

// isTransfer reports whether the event moves data between the node and a
// peer, so the participants get source / destination roles.
func isTransfer(id EventID) bool {
	switch id {
	case BeginTransferring, InstancesTransferred, Export, Import:
		return true
	}
	return false
}

// PatientObjectID is the ParticipantObjectID of a patient: HL7 CX
// "id^^^issuer", or the bare ID when there is no issuer.
func PatientObjectID(issuer, patientID string) string {
	if issuer == "" {
		return patientID
	}
	return patientID + "^^^" + issuer
}

// ATNA converts e to a DICOM PS3.15 A.5 audit message. siteID, when not
// empty, becomes AuditEnterpriseSiteID. Participants: the user
// (UserIsRequestor as recorded, with the network access point), the node
// that recorded the event (e.SourceID) and, when set, the peer system; in
// transfers the node and the peer carry Source / Destination role IDs by
// direction (Create = received from the peer). Objects: the patient (type
// 1, role 1, ID type 2 "Patient Number", ID in HL7 CX form), each study
// (type 2, role 3, ID type 110180 "Study Instance UID") and, for Audit Log
// Used, the audit log (type 2, role 13, ID type 12 URI). Detail goes into
// EventOutcomeDescription.
func (e Event) ATNA(siteID string) AuditMessage {
	m := AuditMessage{
		EventIdentification: EventIdentification{
			ActionCode:              string(e.Action),
			DateTime:                atnaTime(e.Time),
			OutcomeIndicator:        strconv.Itoa(int(e.Outcome)),
			EventID:                 CodedValue{Code: string(e.EventID), CodeSystemName: DCMSystem, OriginalText: e.EventID.Display()},
			EventOutcomeDescription: e.Detail,
		},
		AuditSource: AuditSource{
			EnterpriseSiteID: siteID,
			SourceID:         e.SourceID,
			TypeCodes:        []CodedValue{{Code: "4", CodeSystemName: DCMSystem, OriginalText: "Application Server"}},
		},
	}
	if e.EventType != "" {
		m.EventIdentification.EventTypeCodes = []CodedValue{{Code: string(e.EventType), CodeSystemName: DCMSystem, OriginalText: e.EventType.Display()}}
	}
	user := ActiveParticipant{UserID: e.UserID, UserIsRequestor: e.UserIsRequestor, NetworkAccessPointID: e.NetworkAddr,
		NetworkAccessPointTypeCode: napType(e.NetworkAddr)}
	if e.UserRole != "" {
		user.RoleIDCodes = []CodedValue{{Code: e.UserRole, CodeSystemName: "Lightbox", OriginalText: e.UserRole}}
	}
	m.ActiveParticipants = append(m.ActiveParticipants, user)
	nodeRole, peerRole := roleApplication(), CodedValue{}
	if e.PeerID != "" && isTransfer(e.EventID) {
		nodeRole, peerRole = roleSource(), roleDestination()
		if e.Action == Create {
			nodeRole, peerRole = roleDestination(), roleSource()
		}
	}
	if e.SourceID != "" && e.SourceID != e.UserID {
		m.ActiveParticipants = append(m.ActiveParticipants, ActiveParticipant{UserID: e.SourceID, RoleIDCodes: []CodedValue{nodeRole}})
	}
	if e.PeerID != "" {
		peer := ActiveParticipant{UserID: e.PeerID}
		if peerRole.Code != "" {
			peer.RoleIDCodes = []CodedValue{peerRole}
		}
		m.ActiveParticipants = append(m.ActiveParticipants, peer)
	}
	if e.PatientID != "" {
		po := ParticipantObject{ID: PatientObjectID(e.PatientIssuer, e.PatientID), TypeCode: "1", TypeRole: "1",
			IDTypeCode: CodedValue{Code: "2", CodeSystemName: "RFC-3881", OriginalText: "Patient Number"}}
		if e.FacilityID != "" {
			po.Details = []ParticipantObjectDetail{{Type: "FacilityID", Value: base64.StdEncoding.EncodeToString([]byte(e.FacilityID))}}
		}
		m.ParticipantObjects = append(m.ParticipantObjects, po)
	}
	for _, u := range e.StudyUIDs {
		m.ParticipantObjects = append(m.ParticipantObjects, ParticipantObject{ID: u, TypeCode: "2", TypeRole: "3",
			IDTypeCode: CodedValue{Code: "110180", CodeSystemName: DCMSystem, OriginalText: "Study Instance UID"}})
	}
	if e.EventID == AuditLogUsed {
		m.ParticipantObjects = append(m.ParticipantObjects, ParticipantObject{ID: "urn:lightbox:audit_event", TypeCode: "2", TypeRole: "13",
			IDTypeCode: CodedValue{Code: "12", CodeSystemName: "RFC-3881", OriginalText: "URI"}, Description: "Security Audit Log"})
	}
	return m
}

// MarshalATNA encodes e as an ATNA audit message document (UTF-8, with the
// XML declaration).
func MarshalATNA(e Event, siteID string) ([]byte, error) {
	b, err := xml.Marshal(e.ATNA(siteID))
	if err != nil {
		return nil, fmt.Errorf("audit: atna: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}
