package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// MaxBody bounds a JSON request body unless a caller asks for more.
const MaxBody = 1 << 20

// JSON writes v as application/json with status code. Responses are never
// cached: they carry patient data or the state of someone's work.
func JSON(w http.ResponseWriter, code int, v any) {
	JSONAs(w, code, "application/json", v)
}

// JSONAs is JSON with another media type (application/fhir+json, ...).
func JSONAs(w http.ResponseWriter, code int, contentType string, v any) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// ErrorBody is the one error shape of the JSON edges. Code is stable and
// meant for programs; Error is for people.
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

// Error writes the error body with a code derived from the status when
// the caller has none more specific ("not_found", "forbidden", ...).
func Error(w http.ResponseWriter, status int, msg string) {
	ErrorCode(w, status, StatusCode(status), msg)
}

// ErrorCode writes the error body with an explicit code.
func ErrorCode(w http.ResponseWriter, status int, code, msg string) {
	JSON(w, status, ErrorBody{Error: msg, Code: code})
}

// StatusCode is the stable code of an HTTP status: its text in snake case.
func StatusCode(status int) string {
	return strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
}

// DecodeError is a request body that could not be read as the JSON asked
// for; edges answer it with 400 and its message.
type DecodeError struct{ Msg string }

func (e *DecodeError) Error() string { return e.Msg }

// Decode reads one JSON value of at most limit bytes (MaxBody when 0) into
// v: unknown fields, trailing values and a content type other than JSON
// are errors, so a typo in a field name is never silently ignored.
func Decode(r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &DecodeError{fmt.Sprintf("content type must be application/json, not %q", ct)}
	}
	if limit <= 0 {
		limit = MaxBody
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return &DecodeError{"empty body"}
		}
		return &DecodeError{"invalid JSON: " + err.Error()}
	}
	if dec.More() {
		return &DecodeError{"invalid JSON: more than one value"}
	}
	return nil
}

// RemoteHost is the request's peer address without the port (for audit
// records).
func RemoteHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}
