// Package model is Lightbox's domain model: studies, facilities, priorities,
// RVUs and the reader-credentialing model (licences, privileges, MQSA, payer
// enrolment, malpractice, shifts, presence), with the hard eligibility rules of docs/domain.md §1–§3 and §8.
//
// Check is the single source of truth for "may this reader read this study
// now": the assignment engine calls it at assignment and the report service
// calls it again at signing (rule L3). Everything here is pure: no I/O, no
// clock, no package-level mutable state, so results depend only on the
// arguments.
package model
