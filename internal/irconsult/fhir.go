package irconsult

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"lightbox/internal/fhir"
	"lightbox/internal/fhir/r4"
)

// System is the identifier system of consults.
const System = "urn:lightbox:ir-consult"

var priority = map[string]string{"emergent": "stat", "urgent": "urgent", "routine": "routine"}

var srStatus = map[string]string{Requested: "active", Accepted: "active", Recommended: "active", Closed: "completed"}

// ServiceRequest is the consult as a FHIR R4 ServiceRequest (intent
// "order", category consultation, SNOMED CT 11429006 "Consultation").
func (c Consult) ServiceRequest() fhir.ServiceRequest {
	id := strconv.FormatInt(c.ID, 10)
	sr := fhir.ServiceRequest{ResourceType: "ServiceRequest", ID: "ir-consult-" + id,
		Identifier: []fhir.Identifier{{System: System, Value: id}},
		Status:     srStatus[c.Status], Intent: "order", Priority: priority[c.Urgency],
		Category:   []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: "http://snomed.info/sct", Code: "11429006", Display: "Consultation"}}}},
		Code:       &fhir.CodeableConcept{Text: "Interventional radiology consult"},
		ReasonCode: []fhir.CodeableConcept{{Text: c.Indication}},
		Subject:    fhir.Reference{Reference: "ImagingStudy/" + c.StudyUID, Display: "Imaging study"},
		AuthoredOn: c.RequestedAt,
		Requester:  &fhir.Reference{Display: c.Requester},
		Performer:  []fhir.Reference{{Display: c.Consultant}},
		Note:       []fhir.Annotation{{Text: c.Question}},
	}
	if c.ReportID != "" {
		sr.Extension = append(sr.Extension, fhir.Extension{URL: "urn:lightbox:report", ValueString: c.ReportID})
	}
	return sr
}

// Note is the consult note in plain text.
func (c Consult) Note() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Interventional radiology consult %d (%s, %s)\n", c.ID, c.Indication, c.Urgency)
	fmt.Fprintf(&b, "Requested by %s at %s; consultant %s\n", c.Requester, c.RequestedAt, c.Consultant)
	fmt.Fprintf(&b, "Question: %s\n", c.Question)
	if c.ImagingReviewed != "" {
		fmt.Fprintf(&b, "Imaging reviewed: %s\nRecommendation: %s\n", c.ImagingReviewed, c.Recommendation)
	}
	switch c.Decision {
	case "transfer":
		fmt.Fprintf(&b, "Decision: transfer to %s (closed %s)\n", c.ReceivingCentre, c.ClosedAt)
	case "local":
		fmt.Fprintf(&b, "Decision: local management (closed %s)\n", c.ClosedAt)
	}
	return b.String()
}

// DocumentReference is the consult note as a FHIR R4 DocumentReference
// (LOINC 11488-4 "Consult note"), related to the ServiceRequest.
func (c Consult) DocumentReference() fhir.DocumentReference {
	id := strconv.FormatInt(c.ID, 10)
	status := "preliminary"
	if c.Status == Closed {
		status = "final"
	}
	// The note relates to the consult's order and, when it came from a
	// report, to that report (served as DiagnosticReport/<report id>).
	related := []fhir.Reference{{Reference: "ServiceRequest/ir-consult-" + id}}
	if c.ReportID != "" {
		related = append(related, fhir.Reference{Reference: "DiagnosticReport/" + c.ReportID})
	}
	return fhir.DocumentReference{ResourceType: "DocumentReference", ID: "ir-consult-note-" + id, Status: "current", DocStatus: status,
		Identifier: []fhir.Identifier{{System: System + ":note", Value: id}},
		Type:       &fhir.CodeableConcept{Coding: []fhir.Coding{{System: "http://loinc.org", Code: "11488-4", Display: "Consult note"}}},
		Subject:    &fhir.Reference{Reference: "ImagingStudy/" + c.StudyUID},
		Date:       cmp.Or(c.ClosedAt, c.RecommendedAt, c.RequestedAt),
		Author:     []fhir.Reference{{Display: c.Consultant}},
		Content:    []fhir.DocumentContent{{Attachment: fhir.Attachment{ContentType: "text/plain; charset=utf-8", Data: []byte(c.Note()), Title: "IR consult note"}}},
		Context: &fhir.DocumentRefContext{Related: related,
			Period: &r4.Period{Start: c.RequestedAt, End: c.ClosedAt}},
	}
}
