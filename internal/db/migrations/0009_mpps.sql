-- Modality Performed Procedure Steps received by N-CREATE / N-SET.
CREATE TABLE mpps (
  sop_uid TEXT PRIMARY KEY,
  study_uid TEXT NOT NULL DEFAULT '',
  accession TEXT NOT NULL DEFAULT '',
  facility_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  source_ae TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX mpps_study ON mpps(study_uid);
