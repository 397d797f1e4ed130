-- Audit trail (HIPAA 164.312(b) audit controls; IHE ATNA). Append-only by
-- convention: no code issues UPDATE or DELETE on audit_event. Each row is a
-- link of a SHA-256 hash chain; see internal/audit/doc.go for the canonical
-- form an outside tool hashes to re-verify it. seq is assigned by the writer
-- (previous seq + 1, under a lock), never by the database, so a gap means a
-- deleted row. prev_hash is UNIQUE: the chain cannot fork.
-- Timestamps are db.Now text (UTC, fixed width).
CREATE TABLE audit_event (
  seq BIGINT PRIMARY KEY,
  recorded_at TEXT NOT NULL,
  event_time TEXT NOT NULL,
  source_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  user_role TEXT NOT NULL,
  user_requestor INTEGER NOT NULL,
  net_addr TEXT NOT NULL,
  interface TEXT NOT NULL,
  peer_id TEXT NOT NULL,
  patient_issuer TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  study_uids TEXT NOT NULL,
  object_type TEXT NOT NULL,
  detail TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  prev_hash TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL UNIQUE
);

CREATE INDEX audit_event_patient ON audit_event (patient_issuer, patient_id, event_time);
CREATE INDEX audit_event_user ON audit_event (user_id, event_time);
CREATE INDEX audit_event_time ON audit_event (event_time);

-- Search index: one row per (study, event). Not part of the hash chain (the
-- chained row carries the same UIDs in study_uids); no foreign key, so the
-- chain's own checks, not the database, report tampering.
CREATE TABLE audit_event_study (
  study_uid TEXT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (study_uid, seq)
);

-- Syslog forwarding cursors: the last seq shipped to each collector, and a
-- lease so only one node ships to a collector at a time.
CREATE TABLE audit_forward (
  name TEXT PRIMARY KEY,
  last_seq BIGINT NOT NULL DEFAULT 0,
  owner TEXT NOT NULL DEFAULT '',
  lease_until TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL
);
