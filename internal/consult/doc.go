// Package consult keeps the ways readers reach each other while reading
// alone: the virtual reading room (who is on, with a status they set and
// opt-in visibility, and a group channel), second opinions on a study
// (routed by the assignment engine's eligibility, model.Check, among
// colleagues online and available for consults), the case-bound chat
// thread, the shared viewing session and WebRTC signalling relayed over
// Server-Sent Events (Hub), and virtual clinic visits a patient joins by a
// single-use, expiring link whose token is kept only as a SHA-256 hash.
//
// The package owns room_status, room_message, consult, consult_message and
// clinic_visit (internal/db/owners.go). Access to the study is decided by
// the one scope rule (internal/scope): an open consult grants its
// consultant that one study, as a break-glass grant does (internal/server).
package consult
