// Package scope is the one rule deciding who may see what: a caller's role,
// the facilities they act for (or all of them) and, for referring
// clinicians, the studies they ordered. Every edge (DICOMweb, DIMSE, FHIR,
// the JSON API) builds a Scope and asks it one question, in Go with Allows
// or in SQL with Clause; patient-level data is visible only through the
// patient's studies that the scope allows, never by the patient row alone.
//
// The package is a leaf: it imports no storage or HTTP code.
package scope
