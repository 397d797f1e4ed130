-- What was odd about an instance the archive accepted anyway (as DCMTK and
-- Orthanc do): meta information disagreeing with the data set, no preamble,
-- a detected transfer syntax. Coordinators follow these up with the sender.
-- Owned by internal/archive (internal/db/owners.go).
CREATE TABLE instance_warning (
  pk {{pk}},
  sop_uid TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  code TEXT NOT NULL,
  detail TEXT NOT NULL,
  source_ae TEXT NOT NULL DEFAULT '',
  received_at TEXT NOT NULL
);
CREATE INDEX instance_warning_received ON instance_warning(received_at);
CREATE INDEX instance_warning_sop ON instance_warning(sop_uid);
