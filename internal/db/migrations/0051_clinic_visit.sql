-- Virtual clinic visits: a patient joins by a single-use, expiring link.
-- Only SHA-256 hashes of the link token and of the visit key are kept.
CREATE TABLE clinic_visit (
  pk {{pk}},
  study_uid TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  physician TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  key_hash TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  joined_at TEXT NOT NULL DEFAULT '',
  patient_name TEXT NOT NULL DEFAULT '',
  consent INTEGER NOT NULL DEFAULT 0,
  ended_at TEXT NOT NULL DEFAULT ''
);
