-- Radiology reports (internal/report). One report per study; every save
-- and every signature is a new report_version row. Versions are never
-- updated or deleted (DOMAIN §9 W4): a change after a final is an
-- addendum or a correction carrying its reason.
CREATE TABLE report (
  id TEXT PRIMARY KEY,
  study_uid TEXT NOT NULL UNIQUE,
  facility_id TEXT NOT NULL,
  accession TEXT NOT NULL DEFAULT '',
  patient_pk BIGINT NOT NULL DEFAULT 0,
  order_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX report_facility_status ON report(facility_id, status);
CREATE INDEX report_accession ON report(accession);
CREATE INDEX report_patient ON report(patient_pk);

-- kind: draft | prelim | final | addendum | correction. content is the
-- report.Content JSON (the addendum text for addenda). Signature columns
-- are empty for drafts. cpt/work_rvu/modality are fixed at signing for
-- productivity (wRVU credited to the final signer; prelims are unbilled
-- workload).
CREATE TABLE report_version (
  pk {{pk}},
  report_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  author TEXT NOT NULL,
  content TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  signed_at TEXT NOT NULL DEFAULT '',
  signer_display TEXT NOT NULL DEFAULT '',
  location_country TEXT NOT NULL DEFAULT '',
  location_state TEXT NOT NULL DEFAULT '',
  system_generated INTEGER NOT NULL DEFAULT 0,
  communicated INTEGER NOT NULL DEFAULT 0,
  facility_id TEXT NOT NULL DEFAULT '',
  modality TEXT NOT NULL DEFAULT '',
  cpt TEXT NOT NULL DEFAULT '',
  work_rvu DOUBLE PRECISION NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  UNIQUE (report_id, seq)
);
CREATE INDEX report_version_signed ON report_version(signed_at, author);

-- A material prelim → final difference (DOMAIN §5 CR4).
CREATE TABLE report_discrepancy (
  pk {{pk}},
  report_id TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  prelim_seq INTEGER NOT NULL,
  final_seq INTEGER NOT NULL,
  prelim_reader TEXT NOT NULL,
  final_reader TEXT NOT NULL,
  impression_changed INTEGER NOT NULL DEFAULT 0,
  flagged INTEGER NOT NULL DEFAULT 0,
  note TEXT NOT NULL DEFAULT '',
  prelim_communicated INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE INDEX report_discrepancy_report ON report_discrepancy(report_id);
CREATE INDEX report_discrepancy_created ON report_discrepancy(created_at);

-- Per-facility report delivery settings: PDF embedded in the ORU (ED
-- OBX), letterhead address lines (newline separated), OBR-25 for
-- addenda (C by default, A where the site wants it).
CREATE TABLE report_facility (
  facility_id TEXT PRIMARY KEY,
  embed_pdf INTEGER NOT NULL DEFAULT 0,
  letterhead TEXT NOT NULL DEFAULT '',
  addendum_status TEXT NOT NULL DEFAULT 'C',
  updated_at TEXT NOT NULL
);

-- Macros: owner '' = group-wide, else the reader's ID.
CREATE TABLE report_macro (
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  body TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (owner, name)
);

-- Per-case pay rates by contract: facility ('*' = any) × CPT or modality
-- ('*' = any) × read kind (prelim | final), in cents.
CREATE TABLE report_pay_rate (
  facility_id TEXT NOT NULL,
  match_kind TEXT NOT NULL,
  match_value TEXT NOT NULL,
  read_kind TEXT NOT NULL,
  cents BIGINT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (facility_id, match_kind, match_value, read_kind)
);
