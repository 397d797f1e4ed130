// Package tumorboard keeps multidisciplinary tumor boards: a board (date,
// disciplines, participants) with its case list; each case with presenter
// notes and the board's recommendation (key images are bookmarked in the
// viewer, internal/keyimage). Participants open cases under the one scope
// rule (internal/scope); a participant without privileges at a case's
// facility gets a temporary grant to that study alone, like a break-glass
// grant (internal/breakglass) but made by the board's organiser and ending
// when the board ends (plus a grace period). The server audits every use.
package tumorboard
