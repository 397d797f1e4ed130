-- The virtual reading room (internal/consult): each reader's status and
-- whether they show in the room, and the group channel's messages.
CREATE TABLE room_status (
  username TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  visible INTEGER NOT NULL DEFAULT 1,
  updated_at TEXT NOT NULL
);
CREATE TABLE room_message (
  pk {{pk}},
  channel TEXT NOT NULL,
  author TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX room_message_channel ON room_message(channel, pk);

-- Second opinions: a reader of record asks a colleague about a study; the
-- consultant's opinion and the RVU credit configured when it was asked.
CREATE TABLE consult (
  pk {{pk}},
  study_uid TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  requester TEXT NOT NULL,
  consultant TEXT NOT NULL,
  subspecialty TEXT NOT NULL DEFAULT '',
  question TEXT NOT NULL,
  status TEXT NOT NULL,
  opinion TEXT NOT NULL DEFAULT '',
  opinion_at TEXT NOT NULL DEFAULT '',
  rvu_credit TEXT NOT NULL DEFAULT '0',
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX consult_study ON consult(study_uid);
CREATE INDEX consult_consultant ON consult(consultant, expires_at);

-- The case-bound chat thread of a consult.
CREATE TABLE consult_message (
  pk {{pk}},
  consult_pk BIGINT NOT NULL,
  author TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX consult_message_consult ON consult_message(consult_pk, pk);
