// Package audit is Lightbox's audit trail (HIPAA 45 CFR 164.312(b) audit
// controls; IHE ATNA): an append-only, hash-chained log of every access to
// and change of ePHI, security event and application start/stop, with
// queries ("who looked at this patient"), chain verification, and exports
// as DICOM PS3.15 A.5 audit messages (over RFC 5424/5425 syslog to an
// audit record repository) and FHIR R4 AuditEvents.
//
// # Recording
//
// Every edge (HTTP, DICOM, HL7, CLI) builds an Event — usually with a
// constructor such as LoginEvent, QueryEvent, AccessEvent, StoreEvent,
// ExportEvent — and calls Logger.Record (or Logger.RecordTx inside its own
// write transaction). Record is synchronous: the event is committed before
// it returns, and a caller must refuse the access when it fails.
//
// Once Logger.Start has run, appends are group-committed (batch.go): one
// committer goroutine writes every waiting event in one transaction and
// the signed head once, so concurrent accesses share the fsyncs. Record
// still waits for its commit. Submit, for reads (C-FIND, C-GET/C-MOVE,
// QIDO and WADO over HTTP), only queues the event, so the answer does not
// wait for the fsync; the queue is bounded (a full queue blocks the
// caller, a failed commit is retried, nothing is dropped), Logger.Close
// commits it on a clean shutdown, and reading the trail (Search,
// AccessesToPatient) first waits for it. What remains is a crash window:
// a submitted event is lost if the process dies before its batch commits,
// a few milliseconds after the response at normal load.
//
// Event.Detail is for codes and reasons ("bad-password", "break-glass: ED
// trauma", "QIDO studies"), never PHI: no names, birth dates or report text.
// Patients are named only by issuer + patient ID, studies by Study Instance
// UID, in their own fields.
//
// Reading the trail is audited too: Logger.Search and
// Logger.AccessesToPatient take the reading principal ("by") and record an
// Audit Log Used (110101) event before they read.
//
// # Storage and the chain
//
// Events are rows of audit_event (migration 0006). Code never updates or
// deletes them. seq numbers the rows 1, 2, 3 ... without gaps; each row
// stores prev_hash, the hash of row seq-1 (for seq 1, GenesisHash: 64 "0"
// characters), and hash, its own. Appends are serialised so the chain is
// one line even with many goroutines, processes and nodes: the new row's
// seq and prev_hash are read from the current head inside the inserting
// transaction, which on PostgreSQL first takes the transaction-level
// advisory lock pg_advisory_xact_lock(1818386805) (0x6c626175), and on
// SQLite is a BEGIN IMMEDIATE transaction on the single writer. seq is the
// primary key and prev_hash is unique, so even a bypassed lock cannot fork
// the chain — the second writer fails.
//
// # Canonical form and hash (version lightbox-audit-v1)
//
// hash = lowercase hexadecimal SHA-256 of the canonical form of the row.
// The canonical form is the concatenation of 22 netstrings, each
//
//	<length> ":" <value> ","
//
// where value is a byte string and length its length in bytes, in decimal
// ASCII without leading zeros (so the empty value is "0:,"). The values, in
// this order, are the audit_event columns exactly as stored:
//
//	 1 the literal "lightbox-audit-v1"
//	 2 seq             decimal integer, no sign, no leading zeros
//	 3 recorded_at     text, "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, db.Now)
//	 4 event_time      text, same format
//	 5 source_id       text
//	 6 event_id        text, DCM code value, e.g. "110112"
//	 7 event_type      text, DCM code value or ""
//	 8 action          text, one of C R U D E
//	 9 outcome         decimal integer: 0, 4, 8 or 12
//	10 user_id         text
//	11 user_role       text
//	12 user_requestor  decimal integer: 1 or 0
//	13 net_addr        text
//	14 interface       text: http, dicom, hl7, cli or ""
//	15 peer_id         text
//	16 patient_issuer  text
//	17 patient_id      text
//	18 study_uids      text: the UIDs joined with "\" (backslash), "" if none
//	19 object_type     text
//	20 detail          text
//	21 facility_id     text
//	22 prev_hash       text, 64 lowercase hexadecimal characters
//
// Text is UTF-8 (Record rejects invalid UTF-8 and NUL) and is hashed
// byte-for-byte as stored, without any normalisation. For example a row
// whose seq is 1 begins "17:lightbox-audit-v1,1:1,24:2026-...". An outside
// tool re-verifies by selecting the columns ordered by seq, rebuilding this
// byte string per row, comparing SHA-256 with hash, and checking that each
// prev_hash equals the previous row's hash and seq increases by one.
//
// # Verification
//
// Verify walks the chain and names the first break: Edited (content does
// not match its hash), Deleted (a seq gap, or a prev_hash naming a vanished
// row), Reordered (a row chained after a row now elsewhere) or Truncated
// (the syslog cursor already shipped rows beyond the head).
//
// # Keying (version lightbox-audit-v2)
//
// A plain hash chain proves nothing against someone who edits a row and
// recomputes every later hash. A node therefore keys its chain (Keying):
// each new link's hash is HMAC-SHA256, under a key derived from the node's
// secret (DeriveKey), of the same canonical form with "lightbox-audit-v2"
// as its first netstring; after the first keyed link every link must be
// keyed. A signed head — the last seq (the row count: seq has no gaps) and
// its hash, HMAC-signed — is written to DATA/audit-head.json after each
// append, outside the database. VerifyKeyed also checks that every event's
// audit_event_study rows are exactly the study UIDs the chained row
// carries (none missing, none added, none orphaned) and that the signed
// head verifies and names a link the chain still has: deleting the newest
// rows (Truncated), recomputing links without the key (Rewritten) and
// editing the study index (IndexAltered) are all reported. The ATNA
// collector (SyslogForwarder) keeps a further copy: every forwarded message
// carries its link as RFC 5424 structured data,
// [lightbox-chain@32473 seq="N" hash="…"], so the repository can check the
// local trail's head independently.
package audit
