-- Break-glass grants: a reader opening a study outside their scope in an
-- emergency, with the reason they gave, until expires_at.
CREATE TABLE break_glass (
  pk {{pk}},
  username TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX break_glass_user ON break_glass(username, expires_at);
