package fhir

import "lightbox/internal/fhir/r4"

// DocumentReference (R4) points to a document, such as a consult note,
// carried inline as an attachment.
type DocumentReference struct {
	ResourceType string              `json:"resourceType"`
	ID           string              `json:"id,omitempty"`
	Identifier   []Identifier        `json:"identifier,omitempty"`
	Status       string              `json:"status"` // current | superseded | entered-in-error
	DocStatus    string              `json:"docStatus,omitempty"`
	Type         *CodeableConcept    `json:"type,omitempty"`
	Category     []CodeableConcept   `json:"category,omitempty"`
	Subject      *Reference          `json:"subject,omitempty"`
	Date         string              `json:"date,omitempty"`
	Author       []Reference         `json:"author,omitempty"`
	Description  string              `json:"description,omitempty"`
	Content      []DocumentContent   `json:"content"`
	Context      *DocumentRefContext `json:"context,omitempty"`
}

// DocumentContent is one form of the document.
type DocumentContent struct {
	Attachment Attachment `json:"attachment"`
}

// DocumentRefContext relates the document to what it is about.
type DocumentRefContext struct {
	Related []Reference `json:"related,omitempty"`
	Period  *r4.Period  `json:"period,omitempty"`
}
