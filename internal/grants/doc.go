// Package grants gathers the single studies a user may see beyond their
// facilities: a reader's emergency break-glass grants, the study a
// colleague asked them to consult on, and a tumor board's cases until the
// board ends. Every edge asks here, so the one scope rule
// (scope.Scope.Studies) widens the same way for DICOMweb, DIMSE and the
// JSON API.
package grants
