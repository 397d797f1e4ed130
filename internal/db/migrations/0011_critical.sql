-- Critical results communication (DOMAIN §5, package critical).
-- Timestamps are db.Now text (UTC, fixed width); '' means "not set".

-- Contact directory per facility: clinicians and department contacts
-- (department = 'ed' | 'radiology_coordinator' | 'medical_director' | '').
-- match_key deduplicates imports from orders ("id:<NPI>" or "name:<name>");
-- contacts created by hand get "manual:<id>".
CREATE TABLE crit_contact (
  id TEXT PRIMARY KEY,
  facility_id TEXT NOT NULL,
  match_key TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT '',
  department TEXT NOT NULL DEFAULT '',
  npi TEXT NOT NULL DEFAULT '',
  phones TEXT NOT NULL DEFAULT '[]',
  pager TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT 'manual',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (facility_id, match_key)
);
CREATE INDEX crit_contact_department ON crit_contact(facility_id, department);

-- Covering arrangements by time of day (facility time zone): covering_id
-- covers covered_id ('' = every clinician of the facility, i.e. on call)
-- from start_min to end_min (minutes after local midnight; end < start
-- wraps past midnight) on the days in the weekday bitmask (0 = every day).
CREATE TABLE crit_coverage (
  id TEXT PRIMARY KEY,
  facility_id TEXT NOT NULL,
  covered_id TEXT NOT NULL DEFAULT '',
  covering_id TEXT NOT NULL,
  start_min INTEGER NOT NULL,
  end_min INTEGER NOT NULL,
  days INTEGER NOT NULL DEFAULT 0,
  note TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX crit_coverage_facility ON crit_coverage(facility_id);

-- One critical result communication loop (CR1). The escalation timer is
-- next_due_at (with escalation_level and overdue_notified); schedulers claim
-- a firing with a conditional UPDATE on version, so each fires once.
CREATE TABLE crit_result (
  id TEXT PRIMARY KEY,
  facility_id TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  accession TEXT NOT NULL DEFAULT '',
  order_id TEXT NOT NULL DEFAULT '',
  finding_code TEXT NOT NULL DEFAULT '',
  finding_system TEXT NOT NULL DEFAULT '',
  finding_text TEXT NOT NULL DEFAULT '',
  category TEXT NOT NULL,
  category_label TEXT NOT NULL DEFAULT '',
  colour TEXT NOT NULL DEFAULT '',
  verbal INTEGER NOT NULL DEFAULT 0,
  identified_at TEXT NOT NULL,
  deadline_at TEXT NOT NULL,
  warn_at TEXT NOT NULL,
  step_ms BIGINT NOT NULL,
  max_level INTEGER NOT NULL,
  escalation_level INTEGER NOT NULL DEFAULT 0,
  overdue_notified INTEGER NOT NULL DEFAULT 0,
  next_due_at TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  communicator TEXT NOT NULL,
  communicator_name TEXT NOT NULL DEFAULT '',
  handed_off_to TEXT NOT NULL DEFAULT '',
  handed_off_by TEXT NOT NULL DEFAULT '',
  handed_off_at TEXT NOT NULL DEFAULT '',
  recipient_name TEXT NOT NULL DEFAULT '',
  recipient_role TEXT NOT NULL DEFAULT '',
  recipient_callback TEXT NOT NULL DEFAULT '',
  recipient_contact_id TEXT NOT NULL DEFAULT '',
  method TEXT NOT NULL DEFAULT '',
  communicated_at TEXT NOT NULL DEFAULT '',
  communicated_by TEXT NOT NULL DEFAULT '',
  communicated_by_name TEXT NOT NULL DEFAULT '',
  read_back INTEGER NOT NULL DEFAULT 0,
  ack_at TEXT NOT NULL DEFAULT '',
  ack_by TEXT NOT NULL DEFAULT '',
  closed_at TEXT NOT NULL DEFAULT '',
  closed_by TEXT NOT NULL DEFAULT '',
  candidates TEXT NOT NULL DEFAULT '[]',
  addendum_text TEXT NOT NULL DEFAULT '',
  addendum_due_at TEXT NOT NULL DEFAULT '',
  addendum_at TEXT NOT NULL DEFAULT '',
  addendum_tries INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX crit_result_due ON crit_result(next_due_at);
CREATE INDEX crit_result_addendum_due ON crit_result(addendum_due_at);
CREATE INDEX crit_result_state ON crit_result(state, deadline_at);
CREATE INDEX crit_result_identified ON crit_result(facility_id, identified_at);
CREATE INDEX crit_result_study ON crit_result(study_uid);

-- Every communication attempt (CR1 attempts[]).
CREATE TABLE crit_attempt (
  pk {{pk}},
  result_id TEXT NOT NULL,
  at TEXT NOT NULL,
  method TEXT NOT NULL,
  to_name TEXT NOT NULL DEFAULT '',
  to_role TEXT NOT NULL DEFAULT '',
  to_callback TEXT NOT NULL DEFAULT '',
  to_contact_id TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL,
  answered_by TEXT NOT NULL DEFAULT '',
  read_back INTEGER NOT NULL DEFAULT 0,
  note TEXT NOT NULL DEFAULT '',
  by_user TEXT NOT NULL DEFAULT '',
  by_name TEXT NOT NULL DEFAULT '',
  recorded_at TEXT NOT NULL
);
CREATE INDEX crit_attempt_result ON crit_attempt(result_id, pk);

-- Everything that happened to a loop: opened, escalated, overdue, handoff,
-- ack link sent, acknowledged, closed, addendum written or failed.
CREATE TABLE crit_event (
  pk {{pk}},
  result_id TEXT NOT NULL,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  level INTEGER NOT NULL DEFAULT 0,
  by_user TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX crit_event_result ON crit_event(result_id, pk);

-- Single-use acknowledgement links: only the SHA-256 of the token is kept.
CREATE TABLE crit_ack_token (
  token_hash TEXT PRIMARY KEY,
  result_id TEXT NOT NULL,
  level INTEGER NOT NULL DEFAULT 0,
  intended TEXT NOT NULL DEFAULT '',
  expires_at TEXT NOT NULL,
  used_at TEXT NOT NULL DEFAULT '',
  used_name TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX crit_ack_token_result ON crit_ack_token(result_id);
