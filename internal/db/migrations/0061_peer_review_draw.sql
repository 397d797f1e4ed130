-- The automatic monthly RADPEER draw (package peerreview): one row per
-- month drawn, claimed by the node that draws it, so the draw runs once
-- cluster-wide. done_at '' means claimed but not finished (a claim left
-- by a node that died is taken over after a while).
CREATE TABLE peer_review_draw (
  period TEXT PRIMARY KEY,
  node TEXT NOT NULL,
  claimed_at TEXT NOT NULL,
  done_at TEXT NOT NULL DEFAULT '',
  drawn INTEGER NOT NULL DEFAULT 0
);
