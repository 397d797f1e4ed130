// Package assign is the assignment engine (named apart from the DICOM
// Modality Worklist, which dicomsvc serves from scheduled orders): it turns events (study ready,
// heartbeats, opened, released, signed, ticks, credential changes,
// coordinator reassignments) into decisions (assign with a lease, unassign,
// uncovered, queued, alert), each carrying its reasons.
//
// The Engine is stateful and single-threaded; Safe wraps it in a mutex.
// It is deterministic: time comes only from the `now` passed to Apply,
// randomness only from Config.Rand, and nothing iterates a map to decide.
// Eligibility is model.Check (a hard filter, never a score); policies
// (lightbox, round-robin, shared-pool) differ only in how they choose
// among eligible readers. The server and the simulator run this same code.
package assign
