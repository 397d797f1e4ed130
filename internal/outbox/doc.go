// Package outbox is Lightbox's durable queue of outbound HL7 v2 messages to
// facilities.
//
// Enqueue writes a row in the caller's transaction (a *db.Tx) or on its own
// (a *db.DB), so a state change and the message announcing it commit
// together. A Deliverer sends pending rows over MLLP (hl7.Client): at least
// once, in order per destination address, destinations in parallel, so one
// facility being down never blocks the others.
//
// Delivery rules:
//   - AA (or CA) marks the row delivered;
//   - AR marks it failed at once (the receiver will not take it; a
//     coordinator must look);
//   - AE, an unreadable ack and transport errors are retried with exponential
//     backoff; after MaxAttempts the row is failed. Transport errors retry
//     indefinitely when MaxAttempts is 0.
//
// Failed rows no longer hold back later rows for the same address.
// Each attempt is recorded in hl7_outbox_attempt.
//
// Several processes may run Deliverers on one database: a row is claimed with
// "UPDATE … WHERE status = 'pending' AND claimed_until < now", which is
// atomic on SQLite and PostgreSQL; a claim expires after ClaimTTL, so a
// crashed process's rows are picked up again (and may be sent twice, which
// HL7 receivers tolerate by control ID).
package outbox
