-- Mentored reading: the group's policy, readers' start dates, and the
-- over-reads of new readers' reports by seniors with their comments.
CREATE TABLE mentor_policy (
  id TEXT PRIMARY KEY,
  doc TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE mentor_reader (
  reader_id TEXT PRIMARY KEY,
  started_on TEXT NOT NULL
);
CREATE TABLE mentor_overread (
  pk {{pk}},
  study_uid TEXT NOT NULL,
  author TEXT NOT NULL,
  mentor TEXT NOT NULL,
  stage TEXT NOT NULL,
  status TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  commented_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mentor_overread_pair ON mentor_overread(author, mentor);
