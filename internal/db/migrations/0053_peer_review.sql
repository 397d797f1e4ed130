-- RADPEER peer review (ACR): the group's sampling policy and each review
-- of a finalised study, with its arbitration for scores 2b and above.
CREATE TABLE peer_review_policy (
  id TEXT PRIMARY KEY,
  doc TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE peer_review (
  pk {{pk}},
  study_uid TEXT NOT NULL UNIQUE,
  facility_id TEXT NOT NULL,
  author TEXT NOT NULL,
  period TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  status TEXT NOT NULL,
  score TEXT NOT NULL DEFAULT '',
  comment TEXT NOT NULL DEFAULT '',
  scored_at TEXT NOT NULL DEFAULT '',
  arbiter TEXT NOT NULL DEFAULT '',
  final_score TEXT NOT NULL DEFAULT '',
  arbiter_comment TEXT NOT NULL DEFAULT '',
  closed_at TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX peer_review_reviewer ON peer_review(reviewer, status);
CREATE INDEX peer_review_author ON peer_review(author, period);
