package setup

import (
	"context"
	"errors"
	"fmt"

	"lightbox/internal/db"
	"lightbox/internal/facility"
)

// Stable error codes clients branch on.
const (
	CodeInvalid         = "invalid"          // a field is missing or malformed
	CodeUnknownFacility = "unknown_facility" // a reference to a facility that does not exist
	CodeUnknownReader   = "unknown_reader"   // a reference to a reader that does not exist
	CodeDuplicate       = "duplicate"        // the same key twice in one import
	CodeNotFound        = "not_found"        // the thing to change does not exist
	CodeAuditFailed     = "audit_failed"     // the change could not be audited, so it was not made
	CodeFormat          = "format"           // the file itself cannot be read (header, encoding)
)

// Error is a refused set-up change.
type Error struct {
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
	Msg   string `json:"error"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Msg)
	}
	return e.Msg
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// removed is what a delete answers: its error, or CodeNotFound with the
// message when there was nothing to delete.
func removed(found bool, err error, format string, args ...any) error {
	if err == nil && !found {
		return &Error{Code: CodeNotFound, Msg: fmt.Sprintf(format, args...)}
	}
	return err
}

func unknownFacility(field, id string) *Error {
	return &Error{Code: CodeUnknownFacility, Field: field, Msg: fmt.Sprintf("no facility %q", id)}
}

// facilitySetUp returns unknownFacility for a facility_id that names no
// facility.
func facilitySetUp(ctx context.Context, tx *db.Tx, id string) error {
	if _, err := facility.Get(ctx, tx, id); errors.Is(err, facility.ErrNotFound) {
		return unknownFacility("facility_id", id)
	} else if err != nil {
		return err
	}
	return nil
}

// CodeOf returns the code of a set-up error ("" for any other error).
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Rejected is one row an import refused.
type Rejected struct {
	Row    int    `json:"row"` // CSV line (the header is line 1) or 1-based JSON array index
	ID     string `json:"id,omitempty"`
	Code   string `json:"code"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// Report is the outcome of a bulk import.
type Report struct {
	Kind     string     `json:"kind"`
	Rows     int        `json:"rows"`
	Accepted int        `json:"accepted"`
	Rejected []Rejected `json:"rejected"`
}

func (r *Report) reject(row int, id string, err error) {
	rj := Rejected{Row: row, ID: id, Code: CodeInvalid, Reason: err.Error()}
	var e *Error
	if errors.As(err, &e) {
		rj.Code, rj.Field, rj.Reason = e.Code, e.Field, e.Msg
	}
	r.Rejected = append(r.Rejected, rj)
}
