-- Remote DICOM application entities: who may associate with us (calling AE
-- titles), where C-MOVE sends, and which facility a sender belongs to.
CREATE TABLE remote_ae (
  ae_title TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  facility_id TEXT NOT NULL DEFAULT '',
  tls INTEGER NOT NULL DEFAULT 0,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
