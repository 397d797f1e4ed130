// Package peerreview runs the group's RADPEER peer review (American College
// of Radiology, RADPEER scoring 2016): each month a configured share (a
// percentage, or a count) of every reader's finalised studies is drawn at
// random and assigned to a reviewer who shares the study's subspecialty and
// is not its author. The reviewer scores 1 (concur), 2 (discrepancy in
// interpretation, not ordinarily expected to be made) or 3 (should be made
// most of the time), each with a (unlikely to be clinically significant)
// or b (likely significant). Scores 2b and above go to arbitration by a
// second reviewer, whose score stands. The author learns the outcome;
// names are hidden from the author and/or the reviewer as configured.
// Per-reader discrepancy rates by month, and a CSV export for the group's
// quality programme, come from the closed reviews.
package peerreview
