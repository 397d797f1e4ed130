// Package notify tells people what needs them through real channels:
// e-mail over SMTP (STARTTLS and AUTH), webhooks signed with HMAC-SHA256
// (for paging or secure-messaging services), and in-app notices.
//
// Send records one delivery row per recipient and channel, chosen by the
// recipient's preference (notify_pref), in the database: a Deliverer sends
// them at least once, retrying with backoff, and keeps the outcome
// (notify_delivery is the delivery log). A dedup key makes raising the same
// event twice harmless.
//
// Nothing here carries patient identifiers: subjects and bodies name the
// kind of event, the facility and a deadline, and bodies carry a link into
// Lightbox where an authenticated user sees the details. Like outbox and
// hl7, this is an integration edge (it speaks SMTP and HTTP); the events
// come from the domain through small callbacks wired in internal/server.
//
// Webhook requests are POSTs of a JSON body with the headers
// X-Lightbox-Timestamp (Unix seconds) and X-Lightbox-Signature:
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)); receivers
// recompute it and refuse stale timestamps (see Verify).
package notify
