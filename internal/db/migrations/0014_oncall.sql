-- On-call lists per subspecialty: who to page, in order, when a study
-- needing that subspecialty has nobody eligible on the worklist.
CREATE TABLE oncall (
  pk {{pk}},
  subspecialty TEXT NOT NULL,
  reader_id TEXT NOT NULL,
  rank INTEGER NOT NULL DEFAULT 0,
  starts_at TEXT NOT NULL,
  ends_at TEXT NOT NULL
);
CREATE INDEX oncall_sub ON oncall(subspecialty, starts_at);
