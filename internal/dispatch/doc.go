// Package dispatch runs the assignment engine inside the server. It turns
// archive studies that have gone quiet into reading work, feeds the engine
// every event (heartbeats, opens, releases, signatures, triage flags,
// credential changes, coordinator reassignments, clock ticks), persists each
// decision with its reasons and each lease, rebuilds the engine from the
// database after a restart, and publishes changes to live subscribers (the
// SSE worklist). One dispatch service runs per index database.
package dispatch
