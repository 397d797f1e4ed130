-- Retention (internal/retention): how many years a facility keeps its
-- instances (0: for ever), legal holds that exempt a study or a patient, the
-- queue of blobs whose index rows are gone, and the cluster-wide timer.
ALTER TABLE facility ADD COLUMN retention_years INTEGER NOT NULL DEFAULT 0;

-- A hold names a study (study_uid) or a patient (issuer, patient_id).
CREATE TABLE legal_hold (
  pk {{pk}},
  study_uid TEXT NOT NULL DEFAULT '',
  issuer TEXT NOT NULL DEFAULT '',
  patient_id TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX legal_hold_study ON legal_hold(study_uid);
CREATE INDEX legal_hold_patient ON legal_hold(issuer, patient_id);

-- Blobs to delete once their index rows are gone (written in the same
-- transaction that deletes the rows); a worker claims, deletes, removes.
CREATE TABLE blob_delete (
  blob_key TEXT PRIMARY KEY,
  queued_at TEXT NOT NULL,
  claimed_until TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0
);

-- One row per cluster-wide timer: the node that moves next_run_at forward
-- with a conditional UPDATE runs that period, so it runs once.
CREATE TABLE retention_timer (
  name TEXT PRIMARY KEY,
  next_run_at TEXT NOT NULL,
  owner TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL
);
