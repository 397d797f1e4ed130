-- A queued blob is first retired (moved aside, internal/blob.Retirer) and
-- purged only after a grace period, during which a row naming the same
-- content again restores it: retired_at is when it was moved aside.
ALTER TABLE blob_delete ADD COLUMN retired_at TEXT NOT NULL DEFAULT '';
