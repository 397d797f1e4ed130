-- Storage Commitment requests (PS3.4 Annex J) acknowledged to a modality
-- and not yet reported: the N-ACTION is answered only once its row is
-- committed, so a restart cannot lose the promised N-EVENT-REPORT. Any
-- node delivers a due row after claiming it (claimed_until/claimed_by, as
-- the HL7 outbox does), so one report goes out cluster-wide
-- (internal/dicomsvc).
CREATE TABLE stgcmt_request (
  pk {{pk}},
  transaction_uid TEXT NOT NULL,
  calling_ae TEXT NOT NULL,
  caller TEXT NOT NULL,
  refs TEXT NOT NULL,
  transfer_syntax TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  claimed_until TEXT NOT NULL DEFAULT '',
  claimed_by TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  done_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX stgcmt_request_due ON stgcmt_request(status, next_attempt_at);
