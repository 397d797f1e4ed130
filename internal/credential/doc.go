// Package credential holds the reader-credentialing model (licences,
// privileges, MQSA, payer enrolment, malpractice, shifts, presence) and the
// hard eligibility rules of docs/domain.md §1–§3 and §8.
//
// Check is the single source of truth for "may this reader read this study
// now": the worklist engine calls it at assignment and the report service
// calls it again at signing (rule L3). Everything here is pure: no I/O, no
// clock, no package-level mutable state, so results depend only on the
// arguments.
package credential
