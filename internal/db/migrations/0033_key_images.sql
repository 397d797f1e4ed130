-- Key images and their annotations, saved with the study by the reader who
-- marked them (DICOM PS3.3 A.35.4 Key Object Selection is the export form;
-- this is the working record the viewer and the report use).
CREATE TABLE key_image (
  pk {{pk}},
  study_uid TEXT NOT NULL,
  series_uid TEXT NOT NULL,
  sop_uid TEXT NOT NULL,
  frame INTEGER NOT NULL,
  note TEXT NOT NULL,
  annotations TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX key_image_study ON key_image(study_uid, created_at);
