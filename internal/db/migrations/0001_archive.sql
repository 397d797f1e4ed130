-- Facilities: the hospitals and imaging centres a group reads for.
CREATE TABLE facility (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT '',
  timezone TEXT NOT NULL DEFAULT 'UTC',
  issuer_of_patient_id TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);

-- Patients are keyed by (issuer, patient_id): two facilities' "12345" never merge.
CREATE TABLE patient (
  pk {{pk}},
  issuer TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  birth_date TEXT NOT NULL DEFAULT '',
  sex TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (issuer, patient_id)
);

CREATE TABLE study (
  pk {{pk}},
  study_uid TEXT NOT NULL UNIQUE,
  patient_pk BIGINT NOT NULL REFERENCES patient(pk),
  facility_id TEXT NOT NULL,
  accession TEXT NOT NULL DEFAULT '',
  study_id TEXT NOT NULL DEFAULT '',
  study_date TEXT NOT NULL DEFAULT '',
  study_time TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  referring TEXT NOT NULL DEFAULT '',
  modalities TEXT NOT NULL DEFAULT '',
  num_series INTEGER NOT NULL DEFAULT 0,
  num_instances INTEGER NOT NULL DEFAULT 0,
  size_bytes BIGINT NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  last_instance_at TEXT NOT NULL
);
CREATE INDEX study_patient ON study(patient_pk);
CREATE INDEX study_facility_date ON study(facility_id, study_date);
CREATE INDEX study_accession ON study(accession);
CREATE INDEX study_date ON study(study_date);

CREATE TABLE series (
  pk {{pk}},
  series_uid TEXT NOT NULL UNIQUE,
  study_pk BIGINT NOT NULL REFERENCES study(pk),
  modality TEXT NOT NULL DEFAULT '',
  series_number INTEGER,
  description TEXT NOT NULL DEFAULT '',
  body_part TEXT NOT NULL DEFAULT '',
  num_instances INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE INDEX series_study ON series(study_pk);

-- One row per stored SOP instance. meta is the instance's DICOM JSON
-- (PS3.18 F, bulk data as URIs), computed at ingest so metadata requests
-- never open files; frames locates each frame's bytes in the blob.
CREATE TABLE instance (
  pk {{pk}},
  sop_uid TEXT NOT NULL UNIQUE,
  series_pk BIGINT NOT NULL REFERENCES series(pk),
  sop_class TEXT NOT NULL,
  instance_number INTEGER,
  transfer_syntax TEXT NOT NULL,
  blob_key TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  num_frames INTEGER NOT NULL DEFAULT 1,
  rows_ INTEGER NOT NULL DEFAULT 0,
  columns_ INTEGER NOT NULL DEFAULT 0,
  source_ae TEXT NOT NULL DEFAULT '',
  source_facility TEXT NOT NULL DEFAULT '',
  received_at TEXT NOT NULL,
  meta {{blob}} NOT NULL,
  frames {{blob}}
);
CREATE INDEX instance_series ON instance(series_pk, instance_number);

-- A re-sent SOP Instance UID with different bytes, kept for a coordinator.
CREATE TABLE instance_duplicate (
  pk {{pk}},
  sop_uid TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  blob_key TEXT NOT NULL,
  action TEXT NOT NULL,
  source_ae TEXT NOT NULL DEFAULT '',
  received_at TEXT NOT NULL
);
CREATE INDEX instance_duplicate_sop ON instance_duplicate(sop_uid);

-- Small named values: markers such as "demo seeded".
CREATE TABLE setting (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
