// Package auth knows who is calling and what they may see. Users have one
// role and a facility scope; passwords are argon2id hashes; bearer tokens
// are random, stored as SHA-256, expiring and revocable. Scope is decided
// here, in one place below the edges, so DICOMweb, DIMSE, FHIR and the API
// cannot disagree about which facilities a caller sees.
package auth
