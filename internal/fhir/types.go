package fhir

import (
	"encoding/json"

	"lightbox/internal/fhir/r4"
)

// The common data types live in r4, shared with the audit trail's AuditEvent.
type (
	Coding          = r4.Coding
	CodeableConcept = r4.CodeableConcept
	Identifier      = r4.Identifier
	Reference       = r4.Reference
	Bundle          = r4.Bundle
	BundleLink      = r4.BundleLink
	BundleEntry     = r4.BundleEntry
	EntrySearch     = r4.EntrySearch
)

// HumanName is a person's name.
type HumanName struct {
	Use    string   `json:"use,omitempty"`
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Prefix []string `json:"prefix,omitempty"`
	Suffix []string `json:"suffix,omitempty"`
}

// Address is a postal address.
type Address struct {
	Line       []string `json:"line,omitempty"`
	City       string   `json:"city,omitempty"`
	State      string   `json:"state,omitempty"`
	PostalCode string   `json:"postalCode,omitempty"`
	Country    string   `json:"country,omitempty"`
}

// ContactPoint is a phone, email, …
type ContactPoint struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
	Use    string `json:"use,omitempty"`
}

// Meta is resource metadata.
type Meta struct {
	VersionID   string `json:"versionId,omitempty"`
	LastUpdated string `json:"lastUpdated,omitempty"`
}

// Extension is a simple extension (only the value types Lightbox uses).
type Extension struct {
	URL          string `json:"url"`
	ValueCode    string `json:"valueCode,omitempty"`
	ValueString  string `json:"valueString,omitempty"`
	ValueBoolean *bool  `json:"valueBoolean,omitempty"`
}

// Annotation is a note.
type Annotation struct {
	Text string `json:"text"`
}

// Attachment is content by value or URL.
type Attachment struct {
	ContentType string `json:"contentType,omitempty"`
	Data        []byte `json:"data,omitempty"`
	URL         string `json:"url,omitempty"`
	Title       string `json:"title,omitempty"`
}

// ServiceRequest (R4) is an imaging order.
type ServiceRequest struct {
	ResourceType       string            `json:"resourceType"`
	ID                 string            `json:"id,omitempty"`
	Meta               *Meta             `json:"meta,omitempty"`
	Contained          []json.RawMessage `json:"contained,omitempty"`
	Extension          []Extension       `json:"extension,omitempty"`
	Identifier         []Identifier      `json:"identifier,omitempty"`
	Requisition        *Identifier       `json:"requisition,omitempty"`
	Status             string            `json:"status"`
	Intent             string            `json:"intent"`
	Category           []CodeableConcept `json:"category,omitempty"`
	Priority           string            `json:"priority,omitempty"`
	Code               *CodeableConcept  `json:"code,omitempty"`
	OrderDetail        []CodeableConcept `json:"orderDetail,omitempty"`
	Subject            Reference         `json:"subject"`
	OccurrenceDateTime string            `json:"occurrenceDateTime,omitempty"`
	AuthoredOn         string            `json:"authoredOn,omitempty"`
	Requester          *Reference        `json:"requester,omitempty"`
	Performer          []Reference       `json:"performer,omitempty"`
	LocationCode       []CodeableConcept `json:"locationCode,omitempty"`
	ReasonCode         []CodeableConcept `json:"reasonCode,omitempty"`
	Insurance          []Reference       `json:"insurance,omitempty"`
	Note               []Annotation      `json:"note,omitempty"`
}

// Patient (R4).
type Patient struct {
	ResourceType string         `json:"resourceType"`
	ID           string         `json:"id,omitempty"`
	Meta         *Meta          `json:"meta,omitempty"`
	Identifier   []Identifier   `json:"identifier,omitempty"`
	Name         []HumanName    `json:"name,omitempty"`
	Telecom      []ContactPoint `json:"telecom,omitempty"`
	Gender       string         `json:"gender,omitempty"`
	BirthDate    string         `json:"birthDate,omitempty"`
	Address      []Address      `json:"address,omitempty"`
}

// ImagingStudy (R4), for later use.
type ImagingStudy struct {
	ResourceType      string       `json:"resourceType"`
	ID                string       `json:"id,omitempty"`
	Identifier        []Identifier `json:"identifier,omitempty"`
	Status            string       `json:"status"` // registered | available | cancelled | entered-in-error | unknown
	Modality          []Coding     `json:"modality,omitempty"`
	Subject           Reference    `json:"subject"`
	Started           string       `json:"started,omitempty"`
	BasedOn           []Reference  `json:"basedOn,omitempty"`
	NumberOfSeries    int          `json:"numberOfSeries,omitempty"`
	NumberOfInstances int          `json:"numberOfInstances,omitempty"`
	Description       string       `json:"description,omitempty"`
}

// DiagnosticReport (R4), for later use.
type DiagnosticReport struct {
	ResourceType  string            `json:"resourceType"`
	ID            string            `json:"id,omitempty"`
	Identifier    []Identifier      `json:"identifier,omitempty"`
	BasedOn       []Reference       `json:"basedOn,omitempty"`
	Status        string            `json:"status"` // registered | partial | preliminary | final | amended | corrected | appended | cancelled | …
	Category      []CodeableConcept `json:"category,omitempty"`
	Code          CodeableConcept   `json:"code"`
	Subject       *Reference        `json:"subject,omitempty"`
	Issued        string            `json:"issued,omitempty"`
	Performer     []Reference       `json:"performer,omitempty"`
	ImagingStudy  []Reference       `json:"imagingStudy,omitempty"`
	Conclusion    string            `json:"conclusion,omitempty"`
	PresentedForm []Attachment      `json:"presentedForm,omitempty"`
}

// OperationOutcome (R4) reports errors.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

// Issue is one OperationOutcome issue.
type Issue struct {
	Severity    string   `json:"severity"` // fatal | error | warning | information
	Code        string   `json:"code"`     // required | value | invalid | not-found | conflict | forbidden | exception | …
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

// Outcome returns an OperationOutcome with one error issue.
func Outcome(code, expression, diagnostics string) *OperationOutcome {
	is := Issue{Severity: "error", Code: code, Diagnostics: diagnostics}
	if expression != "" {
		is.Expression = []string{expression}
	}
	return &OperationOutcome{ResourceType: "OperationOutcome", Issue: []Issue{is}}
}

// CapabilityStatement (R4), the subset Lightbox fills.
type CapabilityStatement struct {
	ResourceType string       `json:"resourceType"`
	Status       string       `json:"status"`
	Date         string       `json:"date"`
	Kind         string       `json:"kind"`
	Software     *Software    `json:"software,omitempty"`
	FHIRVersion  string       `json:"fhirVersion"`
	Format       []string     `json:"format"`
	Rest         []RestServer `json:"rest"`
}

// Software names the server software.
type Software struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// RestServer is CapabilityStatement.rest.
type RestServer struct {
	Mode     string         `json:"mode"`
	Resource []RestResource `json:"resource"`
}

// RestResource is CapabilityStatement.rest.resource.
type RestResource struct {
	Type        string        `json:"type"`
	Interaction []Interaction `json:"interaction"`
	SearchParam []SearchParam `json:"searchParam,omitempty"`
}

// Interaction is a supported interaction code.
type Interaction struct {
	Code string `json:"code"` // read | search-type | create | …
}

// SearchParam is a supported search parameter.
type SearchParam struct {
	Name string `json:"name"`
	Type string `json:"type"`
}
