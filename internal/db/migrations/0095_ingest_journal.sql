-- The ingest journal's position in the index (internal/archive/journal.go):
-- each group commit of index rows sets seq to the group's number in the
-- same transaction, which is committed without its own flush because the
-- journal record holding the rows was flushed first. After a crash the
-- surviving seq says which journaled groups the index lost (seq above it)
-- and must replay; synced_at changes on every checkpoint, whose durable
-- commit makes all earlier ones durable.
CREATE TABLE ingest_journal (
    journal   TEXT PRIMARY KEY,
    seq       BIGINT NOT NULL,
    synced_at TEXT NOT NULL DEFAULT ''
);
