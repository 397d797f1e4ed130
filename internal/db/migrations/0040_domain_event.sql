-- Durable internal events: work that spans modules (a signed report moves
-- the reading worklist and may start a critical-results loop; an MPPS
-- completion moves the order and the worklist) is written as an event row
-- in the transaction of the change that causes it, then handled at least
-- once by the consuming module, idempotently, also after a crash and on
-- every start (internal/event).
CREATE TABLE domain_event (
  pk {{pk}},
  kind TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  claimed_until TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  done_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX domain_event_pending ON domain_event(done_at, pk);
