// Package layout holds the tests that keep the tree's shape (README
// "Layout"): protocols and HTTP at the edge, domain in the middle, storage
// below. It has no code; TestDomainImportsNoEdge fails when a domain
// package imports net/http or a protocol package (hl7, fhir). Table
// ownership is checked beside the migrations (internal/db TestTableOwners).
package layout
