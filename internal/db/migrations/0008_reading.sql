-- Readers: the credential model of each radiologist as one JSON document
-- (licences, privileges, MQSA, shifts ...); ID = the user name.
CREATE TABLE reader (
  id TEXT PRIMARY KEY,
  doc TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- A facility's contract: SLA per priority, read type, Medicare.
CREATE TABLE facility_contract (
  facility_id TEXT PRIMARY KEY,
  doc TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

ALTER TABLE study ADD COLUMN procedure_code TEXT NOT NULL DEFAULT '';
ALTER TABLE study ADD COLUMN priority TEXT NOT NULL DEFAULT '';
ALTER TABLE study ADD COLUMN body_part TEXT NOT NULL DEFAULT '';

-- One row per study on (or off) the reading worklist. doc is the
-- credential.Study the engine reads; lease the engine's lease JSON.
CREATE TABLE read_item (
  study_uid TEXT PRIMARY KEY,
  facility_id TEXT NOT NULL,
  doc TEXT NOT NULL,
  status TEXT NOT NULL,
  reader_id TEXT NOT NULL DEFAULT '',
  lease TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX read_item_status ON read_item(status);
CREATE INDEX read_item_reader ON read_item(reader_id);

-- Every engine decision with its reasons: assignments explain themselves.
CREATE TABLE assignment_event (
  pk {{pk}},
  at TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  kind TEXT NOT NULL,
  reader_id TEXT NOT NULL DEFAULT '',
  code TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  by_user TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX assignment_event_study ON assignment_event(study_uid, pk);
