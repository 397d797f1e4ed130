// Package stats aggregates what the group did into the numbers its
// dashboards show (issue #17 point 5): turnaround-time percentiles per SLA
// class against the contracted SLA, breaches, RVU per reader per shift
// against the reader's target, and a reader's own figures against the
// group median without naming colleagues. It runs no SQL: callers hand it
// the signed reads (dispatch.Reads), the readers (roster) and facilities.
package stats
