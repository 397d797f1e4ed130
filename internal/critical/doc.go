// Package critical runs closed-loop communication of critical imaging
// results (docs/domain.md §5: ACR Practice Parameter for Communication, ACR
// Actionable Reporting categories, Joint Commission NPSG.02.03.01).
//
// # The loop
//
// A reader who holds a study (HolderFunc, i.e. dispatch.Holder) or a
// coordinator opens a loop from the report with Open: study, category and
// finding (code plus free text). The SLA clock starts at identified_at and
// the deadline is identified_at + the category's deadline. Recipient
// candidates come from the order's ordering clinician and the facility's
// contact directory, rung by rung. Rung 0 (the ordering clinician) is
// notified at once with a single-use acknowledgement link.
//
// The reader logs each call with LogAttempt (method phone, page, secure
// message or in person; outcome reached, no answer, left message, wrong
// number; read-back). A reached attempt documents recipient, method and
// time and stops escalation. HandOff gives the loop to a coordinator (the
// support desk) to work; the original reader stays accountable. Close
// applies the rules and refuses with ErrRefused, changing nothing, when:
//
//   - no reached attempt documents a recipient, method and time;
//   - the category is verbal (Category 1 by default) and the recipient did
//     not read back on a verbal method (CR3);
//   - the communication was non-verbal and receipt was not confirmed.
//
// On close the CR5 statement ("Communicated to {name, role} by {reader} via
// {method} at {time TZ}; read back.") is written to the report through the
// AddendumWriter exactly once: the write is claimed with a lease in the
// database, retried by the Scheduler with backoff when it fails.
//
// States: open → escalated (ladder moved, nobody reached) → handed_off
// (coordinator working) → communicated (someone reached) → closed.
//
// # Acknowledgement links
//
// Each notification to a rung carries a link AckBaseURL + "/ack/" + token:
// 32 random bytes, stored only as a SHA-256 hash, single use, expiring after
// AckTTL. GET /ack/{token} shows a minimal summary (facility, accession,
// category, finding, radiologist; no patient name or ID) and a plain HTML
// form (no script, CSP-safe). POST records the typed name as an electronic
// identifiable confirmation and closes the loop when the category allows
// non-verbal communication. Used links and closed loops answer 410, expired
// links 410, unknown or forged tokens 404; nothing changes.
//
// # Escalation timers
//
// Deadlines and the escalation plan (warn_at, step, max level) are stored
// on the loop at open, so restarts and configuration changes do not move
// them. The next due time is persisted in next_due_at. A Scheduler (one or
// more per database) wakes at the next due time, when a loop changes, and
// at least every MaxWait (5 s). Firing advances one rung under an
// optimistic version check, so two schedulers racing fire each timer once.
// After WarnFraction of the deadline with nobody reached the loop moves to
// rung 1, then one rung every step (EscalateEvery, or evenly spread up to
// the deadline), and at the deadline an overdue notice goes to the current
// rung. Overdue loops stay on the board until closed.
//
// # Categories and deadlines (configuration)
//
// Config.Categories is the default set, Config.FacilityCategories a per
// facility override (each site has its own colour scheme). The default:
//
//	code  label   colour  deadline  verbal (named recipient + read-back)
//	1     Red     red     60 min    yes
//	2     Orange  orange  6 h       no (confirmed receipt suffices)
//	3     Yellow  yellow  48 h      no
//
// Config.WarnFraction (default 0.5) sets when escalation starts;
// Config.Ladder the rungs (default: ordering clinician → covering clinician
// (directory coverage by time of day in the facility's time zone) → ED →
// radiology coordinator and medical director). With the defaults a Red
// result escalates at 30, 40 and 50 minutes and is overdue at 60.
//
// # Directory
//
// Directory holds per-facility contacts (clinicians and the ED, radiology
// coordinator and medical director departments) and covering arrangements
// by local time of day and weekday. UpsertFromOrder imports the ordering
// clinician of each order; coordinators edit the rest.
//
// # Reporting
//
// Board lists loops not closed, soonest deadline first (overdue first).
// Compliance is the NPSG.02.03.01 EP3 measure: per facility and category,
// the share of loops identified in a period that were closed by their
// deadline, as JSON or CSV.
//
// Logs carry loop IDs, kinds and levels, never patient or clinician names.
package critical
