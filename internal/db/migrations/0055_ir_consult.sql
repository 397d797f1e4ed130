-- Interventional radiology teleconsults: request, routing to the IR on
-- call, recommendation and decision, with timestamps to closure.
CREATE TABLE ir_consult (
  pk {{pk}},
  study_uid TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  report_id TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL,
  indication TEXT NOT NULL,
  question TEXT NOT NULL,
  urgency TEXT NOT NULL,
  requester TEXT NOT NULL,
  consultant TEXT NOT NULL DEFAULT '',
  region TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  imaging_reviewed TEXT NOT NULL DEFAULT '',
  recommendation TEXT NOT NULL DEFAULT '',
  decision TEXT NOT NULL DEFAULT '',
  receiving_centre TEXT NOT NULL DEFAULT '',
  requested_at TEXT NOT NULL,
  accepted_at TEXT NOT NULL DEFAULT '',
  recommended_at TEXT NOT NULL DEFAULT '',
  closed_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ir_consult_consultant ON ir_consult(consultant, status);
