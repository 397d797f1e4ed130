-- Priors from the facility's PACS (internal/priors): the facility's PACS as
-- a query/retrieve source, one fetch per study that arrived or order that
-- was approved, and the priors linked to it.
CREATE TABLE prior_source (
  facility_id TEXT PRIMARY KEY,
  ae_title TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  tls INTEGER NOT NULL DEFAULT 0,
  max_priors INTEGER NOT NULL DEFAULT 2,
  wait_seconds INTEGER NOT NULL DEFAULT 60,
  retrieve TEXT NOT NULL DEFAULT 'move',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- status: pending, running (claimed_by until claimed_until), done, failed.
-- matched_by: id (issuer + patient ID), name_dob (confirmed: name and birth
-- date equal), none.
CREATE TABLE prior_fetch (
  study_uid TEXT PRIMARY KEY,
  facility_id TEXT NOT NULL,
  patient TEXT NOT NULL,
  status TEXT NOT NULL,
  matched_by TEXT NOT NULL DEFAULT '',
  found INTEGER NOT NULL DEFAULT 0,
  retrieved INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '',
  requested_by TEXT NOT NULL DEFAULT '',
  claimed_by TEXT NOT NULL DEFAULT '',
  claimed_until TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  deadline_at TEXT NOT NULL,
  finished_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX prior_fetch_status ON prior_fetch(status);

-- status: retrieving, retrieved, local (already held), failed.
CREATE TABLE prior_link (
  study_uid TEXT NOT NULL,
  prior_uid TEXT NOT NULL,
  rank_ INTEGER NOT NULL,
  study_date TEXT NOT NULL DEFAULT '',
  modalities TEXT NOT NULL DEFAULT '',
  body_part TEXT NOT NULL DEFAULT '',
  matched_by TEXT NOT NULL,
  status TEXT NOT NULL,
  instances INTEGER NOT NULL DEFAULT 0,
  fetched_at TEXT NOT NULL,
  PRIMARY KEY (study_uid, prior_uid)
);
CREATE INDEX prior_link_prior ON prior_link(prior_uid);
