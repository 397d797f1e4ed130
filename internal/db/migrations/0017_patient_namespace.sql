-- Instances whose patient belongs to another facility's namespace, kept for
-- a coordinator under --foreign-patients quarantine (nothing is indexed).
CREATE TABLE instance_quarantine (
  pk {{pk}},
  sop_uid TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  blob_key TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  issuer TEXT NOT NULL,
  reason TEXT NOT NULL,
  source_ae TEXT NOT NULL DEFAULT '',
  received_at TEXT NOT NULL
);
CREATE INDEX instance_quarantine_sop ON instance_quarantine(sop_uid);
