-- Engine calls made on a node that does not hold the assignment engine
-- (package cluster): the caller inserts a row and NOTIFYs, the leader runs
-- it, writes the result and NOTIFYs back. Rows are deleted an hour after.
-- Timestamps are db.Now text; '' means "not yet".
CREATE TABLE engine_call (
  id {{pk}},
  method TEXT NOT NULL,
  args TEXT NOT NULL,
  node TEXT NOT NULL,
  created_at TEXT NOT NULL,
  claimed_by TEXT NOT NULL DEFAULT '',
  done_at TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL DEFAULT '',
  error_code TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX engine_call_pending ON engine_call (claimed_by, id);
