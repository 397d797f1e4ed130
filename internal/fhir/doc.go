// Package fhir is Lightbox's small FHIR R4 surface: hand-written resource
// structs (ServiceRequest, Patient, ImagingStudy, DiagnosticReport,
// OperationOutcome, Bundle, CapabilityStatement), the ServiceRequest →
// order.Order mapping with its validator, and HTTP handlers. Routing and
// authentication are the caller's: Handler.Scope says which facilities a
// request may see.
package fhir
