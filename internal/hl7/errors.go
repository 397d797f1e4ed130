package hl7

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrorCode is an HL7 table 0357 "message error condition code".
type ErrorCode int

// Table 0357 values.
const (
	CodeAccepted                ErrorCode = 0   // Message accepted
	CodeSegmentSequence         ErrorCode = 100 // Segment sequence error
	CodeRequiredFieldMissing    ErrorCode = 101 // Required field missing
	CodeDataType                ErrorCode = 102 // Data type error
	CodeTableValueNotFound      ErrorCode = 103 // Table value not found
	CodeValueTooLong            ErrorCode = 104 // Value too long (2.5+)
	CodeUnsupportedMessageType  ErrorCode = 200 // Unsupported message type
	CodeUnsupportedEventCode    ErrorCode = 201 // Unsupported event code
	CodeUnsupportedProcessingID ErrorCode = 202 // Unsupported processing id
	CodeUnsupportedVersionID    ErrorCode = 203 // Unsupported version id
	CodeUnknownKey              ErrorCode = 204 // Unknown key identifier
	CodeDuplicateKey            ErrorCode = 205 // Duplicate key identifier
	CodeRecordLocked            ErrorCode = 206 // Application record locked
	CodeInternalError           ErrorCode = 207 // Application internal error
)

// Text returns the table 0357 description of c.
func (c ErrorCode) Text() string {
	switch c {
	case CodeAccepted:
		return "Message accepted"
	case CodeSegmentSequence:
		return "Segment sequence error"
	case CodeRequiredFieldMissing:
		return "Required field missing"
	case CodeDataType:
		return "Data type error"
	case CodeTableValueNotFound:
		return "Table value not found"
	case CodeValueTooLong:
		return "Value too long"
	case CodeUnsupportedMessageType:
		return "Unsupported message type"
	case CodeUnsupportedEventCode:
		return "Unsupported event code"
	case CodeUnsupportedProcessingID:
		return "Unsupported processing id"
	case CodeUnsupportedVersionID:
		return "Unsupported version id"
	case CodeUnknownKey:
		return "Unknown key identifier"
	case CodeDuplicateKey:
		return "Duplicate key identifier"
	case CodeRecordLocked:
		return "Application record locked"
	case CodeInternalError:
		return "Application internal error"
	}
	return "Error " + strconv.Itoa(int(c))
}

// String returns the numeric code as sent in ERR-3.1, e.g. "101".
func (c ErrorCode) String() string { return strconv.Itoa(int(c)) }

// Severity is ERR-4 (table 0516).
type Severity string

// Severity values.
const (
	SeverityError       Severity = "E"
	SeverityWarning     Severity = "W"
	SeverityInformation Severity = "I"
)

// Error is a validation or processing problem located in a message. It maps
// one-to-one onto an ERR segment of a NAK (see [NewNAK]). Message must be
// human readable and must not quote patient data.
type Error struct {
	Segment      string // segment ID, e.g. "PID"; "" when unknown
	SegmentSeq   int    // 1-based occurrence of that segment ID in the message; 0 = unknown (sent as 1)
	Field        int    // 1-based field number; 0 = whole segment
	Repetition   int    // 1-based; 0 = unspecified
	Component    int    // 1-based; 0 = whole field
	Subcomponent int    // 1-based; 0 = whole component
	Code         ErrorCode
	Severity     Severity // "" means SeverityError
	Message      string   // human-readable, no PHI
	Err          error    // optional cause
}

// Errorf returns an *Error with the given code and location ("PID-7",
// "OBR(2)-4-1", or "" for none) and a formatted message. Invalid locations are
// ignored.
func Errorf(code ErrorCode, location, format string, args ...any) *Error {
	e := &Error{Code: code, Message: fmt.Sprintf(format, args...)}
	if location != "" {
		if p, err := ParsePath(location); err == nil {
			e.Segment, e.SegmentSeq = p.Segment, p.SegOcc
			e.Field, e.Repetition, e.Component, e.Subcomponent = p.Field, p.Rep, p.Comp, p.Sub
			if !p.repSet {
				e.Repetition = 0
			}
			if !p.segOccSet {
				e.SegmentSeq = 0
			}
		}
	}
	return e
}

// Location renders the error position in path notation, e.g. "PID(1)-7".
func (e *Error) Location() string {
	if e.Segment == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(e.Segment)
	if e.SegmentSeq > 1 {
		fmt.Fprintf(&b, "(%d)", e.SegmentSeq)
	}
	if e.Field > 0 {
		fmt.Fprintf(&b, "-%d", e.Field)
		if e.Repetition > 1 {
			fmt.Fprintf(&b, "(%d)", e.Repetition)
		}
		if e.Component > 0 {
			fmt.Fprintf(&b, "-%d", e.Component)
			if e.Subcomponent > 0 {
				fmt.Fprintf(&b, "-%d", e.Subcomponent)
			}
		}
	}
	return b.String()
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("hl7: ")
	if loc := e.Location(); loc != "" {
		b.WriteString(loc)
		b.WriteString(": ")
	}
	b.WriteString(e.Code.Text())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// AckCode is the MSA-1 code an error of this kind deserves: AR (reject) for
// problems that are not about the content (unsupported type, event,
// processing ID, version; internal errors), AE for content errors.
func (e *Error) AckCode() AckCode {
	switch e.Code {
	case CodeUnsupportedMessageType, CodeUnsupportedEventCode, CodeUnsupportedProcessingID,
		CodeUnsupportedVersionID, CodeInternalError, CodeRecordLocked:
		return AckAR
	}
	return AckAE
}

func (e *Error) severity() Severity {
	if e.Severity == "" {
		return SeverityError
	}
	return e.Severity
}

// AsError converts any error into an *Error: an *Error found by errors.As is
// returned as is, anything else becomes code 207 (internal error) with a
// generic message (the original error is kept in Err but not sent on the wire).
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var he *Error
	if errors.As(err, &he) {
		return he
	}
	return &Error{Code: CodeInternalError, Message: "internal error", Err: err}
}
