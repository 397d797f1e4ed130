// Package mentor runs mentored reading, optional per group: readers in
// their first months (12 by default) are "new", and a configured share of
// their reports is over-read by a senior of the same subspecialty, either
// before finalisation (on the preliminary report) or after it (on the
// final). The senior's comments return to the author, and both see the
// history of the cases they shared. Signing a report calls it through
// report.Options.OnSigned (wired in internal/server), nothing else.
package mentor
