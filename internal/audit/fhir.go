package audit

import (
	"strconv"
	"strings"

	"lightbox/internal/fhir/r4"
)

// FHIR R4 AuditEvent (http://hl7.org/fhir/R4/auditevent.html) and the
// searchset Bundle of them. Only the elements Lightbox fills are modelled.

// FHIR code systems used in AuditEvents.
const (
	FHIRDCMSystem        = "http://dicom.nema.org/resources/ontology/DCM"
	FHIRSourceTypeSystem = "http://terminology.hl7.org/CodeSystem/security-source-type"
	FHIREntityTypeSystem = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	FHIRObjectRoleSystem = "http://terminology.hl7.org/CodeSystem/object-role"
	FHIRDICOMUIDSystem   = "urn:dicom:uid"
	FHIRLightboxSystem   = "urn:lightbox"
)

// AuditEventNetwork is AuditEvent.agent.network.
type AuditEventNetwork struct {
	Address string `json:"address"`
	Type    string `json:"type"` // 1 machine name, 2 IP address
}

// AuditEventAgent is AuditEvent.agent.
type AuditEventAgent struct {
	Type      *r4.CodeableConcept  `json:"type,omitempty"`
	Role      []r4.CodeableConcept `json:"role,omitempty"`
	Who       *r4.Reference        `json:"who,omitempty"`
	Requestor bool                 `json:"requestor"`
	Network   *AuditEventNetwork   `json:"network,omitempty"`
}

// AuditEventSource is AuditEvent.source.
type AuditEventSource struct {
	Site     string       `json:"site,omitempty"`
	Observer r4.Reference `json:"observer"`
	Type     []r4.Coding  `json:"type,omitempty"`
}

// AuditEventEntity is AuditEvent.entity.
type AuditEventEntity struct {
	What *r4.Reference `json:"what,omitempty"`
	Type *r4.Coding    `json:"type,omitempty"`
	Role *r4.Coding    `json:"role,omitempty"`
}

// AuditEvent is a FHIR R4 AuditEvent resource.
type AuditEvent struct {
	ResourceType string             `json:"resourceType"`
	ID           string             `json:"id,omitempty"`
	Type         r4.Coding          `json:"type"`
	Subtype      []r4.Coding        `json:"subtype,omitempty"`
	Action       string             `json:"action,omitempty"`
	Period       *r4.Period         `json:"period,omitempty"`
	Recorded     string             `json:"recorded"`
	Outcome      string             `json:"outcome,omitempty"`
	OutcomeDesc  string             `json:"outcomeDesc,omitempty"`
	Agent        []AuditEventAgent  `json:"agent"`
	Source       AuditEventSource   `json:"source"`
	Entity       []AuditEventEntity `json:"entity,omitempty"`
}

// FHIR converts e to an R4 AuditEvent: id = seq; type = the DCM EventID;
// subtype = the event type code; recorded = when it was written; period =
// when it happened; outcome and outcomeDesc (Detail); agents = the user
// (requestor flag, network address with type 1 name / 2 IP), the recording
// node and any peer; source.observer = the node (type 4, application
// server); entities = the patient (identifier system = issuer, type 1
// Person, role 1 Patient) and each study (identifier urn:dicom:uid with
// value urn:oid:UID, type 2 System Object, role 3 Report).
func (e Event) FHIR(siteID string) AuditEvent {
	a := AuditEvent{
		ResourceType: "AuditEvent",
		Type:         r4.Coding{System: FHIRDCMSystem, Code: string(e.EventID), Display: e.EventID.Display()},
		Action:       string(e.Action),
		Period:       &r4.Period{Start: atnaTime(e.Time), End: atnaTime(e.Time)},
		Recorded:     atnaTime(e.RecordedAt),
		Outcome:      strconv.Itoa(int(e.Outcome)),
		OutcomeDesc:  e.Detail,
		Source: AuditEventSource{
			Site:     siteID,
			Observer: r4.Reference{Display: e.SourceID},
			Type:     []r4.Coding{{System: FHIRSourceTypeSystem, Code: "4", Display: "Application Server"}},
		},
	}
	if e.Seq > 0 {
		a.ID = strconv.FormatInt(e.Seq, 10)
	}
	if e.RecordedAt.IsZero() {
		a.Recorded = atnaTime(e.Time)
	}
	if e.EventType != "" {
		a.Subtype = []r4.Coding{{System: FHIRDCMSystem, Code: string(e.EventType), Display: e.EventType.Display()}}
	}
	user := AuditEventAgent{Who: &r4.Reference{Identifier: &r4.Identifier{System: FHIRLightboxSystem + ":user", Value: e.UserID}}, Requestor: e.UserIsRequestor}
	if e.UserRole != "" {
		user.Role = []r4.CodeableConcept{{Coding: []r4.Coding{{System: FHIRLightboxSystem + ":role", Code: e.UserRole}}}}
	}
	if e.NetworkAddr != "" {
		user.Network = &AuditEventNetwork{Address: e.NetworkAddr, Type: napType(e.NetworkAddr)}
	}
	if e.Interface != "" {
		user.Type = &r4.CodeableConcept{Text: string(e.Interface)}
	}
	a.Agent = append(a.Agent, user)
	if e.SourceID != "" && e.SourceID != e.UserID {
		a.Agent = append(a.Agent, AuditEventAgent{Who: &r4.Reference{Display: e.SourceID},
			Type: &r4.CodeableConcept{Coding: []r4.Coding{{System: FHIRDCMSystem, Code: "110150", Display: "Application"}}}})
	}
	if e.PeerID != "" {
		a.Agent = append(a.Agent, AuditEventAgent{Who: &r4.Reference{Display: e.PeerID}})
	}
	if e.PatientID != "" {
		a.Entity = append(a.Entity, AuditEventEntity{
			What: &r4.Reference{Type: "Patient", Identifier: &r4.Identifier{System: e.PatientIssuer, Value: e.PatientID}},
			Type: &r4.Coding{System: FHIREntityTypeSystem, Code: "1", Display: "Person"},
			Role: &r4.Coding{System: FHIRObjectRoleSystem, Code: "1", Display: "Patient"},
		})
	}
	for _, u := range e.StudyUIDs {
		a.Entity = append(a.Entity, AuditEventEntity{
			What: &r4.Reference{Type: "ImagingStudy", Identifier: &r4.Identifier{System: FHIRDICOMUIDSystem, Value: "urn:oid:" + u}},
			Type: &r4.Coding{System: FHIREntityTypeSystem, Code: "2", Display: "System Object"},
			Role: &r4.Coding{System: FHIRObjectRoleSystem, Code: "3", Display: "Report"},
		})
	}
	return a
}

// FHIRBundle wraps events in a searchset Bundle (total = len(events); set
// Bundle.Total yourself when paging over a known larger count). base, when not empty, is
// the FHIR base URL for fullUrl ("https://host/fhir"); next, when not empty,
// is the URL of the next page.
func FHIRBundle(events []Event, siteID, base, next string) r4.Bundle {
	b := r4.Bundle{ResourceType: "Bundle", Type: "searchset", Total: len(events), Entry: []r4.BundleEntry{}}
	base = strings.TrimSuffix(base, "/")
	for _, e := range events {
		r := e.FHIR(siteID)
		ent := r4.BundleEntry{Resource: r, Search: &r4.EntrySearch{Mode: "match"}}
		if base != "" && r.ID != "" {
			ent.FullURL = base + "/AuditEvent/" + r.ID
		}
		b.Entry = append(b.Entry, ent)
	}
	if next != "" {
		b.Link = append(b.Link, r4.BundleLink{Relation: "next", URL: next})
	}
	return b
}
