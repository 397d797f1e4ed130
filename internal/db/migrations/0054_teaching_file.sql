-- The group's teaching file: anonymised copies of cases (DICOM PS3.15
-- Basic Application Level Confidentiality Profile) with the reader's note.
CREATE TABLE teaching_case (
  pk {{pk}},
  study_uid TEXT NOT NULL,
  subspecialty TEXT NOT NULL,
  finding TEXT NOT NULL,
  note TEXT NOT NULL,
  modality TEXT NOT NULL,
  instances INTEGER NOT NULL,
  burned_in_unknown INTEGER NOT NULL,
  author TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX teaching_case_browse ON teaching_case(subspecialty, finding);
CREATE TABLE teaching_instance (
  pk {{pk}},
  case_pk BIGINT NOT NULL,
  sop_uid TEXT NOT NULL,
  data {{blob}} NOT NULL
);
CREATE INDEX teaching_instance_case ON teaching_instance(case_pk);
