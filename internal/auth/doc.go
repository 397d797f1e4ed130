// Package auth knows who is calling and what they may see. Users have one
// role and a facility scope; passwords are argon2id hashes; bearer tokens
// are random, stored as SHA-256, expiring, revocable and optionally limited
// to client networks. Scope is decided here, in one place below the edges,
// so DICOMweb, DIMSE, FHIR and the API cannot disagree about which
// facilities a caller sees.
//
// HIPAA technical safeguards implemented here: a TOTP second factor
// (mandatory for administrators and radiologists by default, codes single
// use), browser sessions with automatic logoff after idle time and a
// maximum age, re-authentication before signing, CSRF protection for
// cookie-authenticated requests, per-address rate limiting of failed
// sign-ins (a successful one gives its token back, so many readers behind
// one NAT address can sign in at a shift change) on top of per-account
// lockout, and browser security headers. Security events go
// to slog (user names and addresses only, never PHI) and to Options.OnEvent
// for ATNA auditing.
package auth
