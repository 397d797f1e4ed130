-- How each recipient wants to be told (a user name, or "contact:<id>" for
-- a facility's clinician): channels (email, webhook, inapp) and the events
-- they want ('' = all). Owned by internal/notify.
CREATE TABLE notify_pref (
  recipient TEXT PRIMARY KEY,
  email TEXT NOT NULL DEFAULT '',
  webhook_url TEXT NOT NULL DEFAULT '',
  webhook_secret TEXT NOT NULL DEFAULT '',
  channels TEXT NOT NULL DEFAULT 'inapp',
  events TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL
);

-- Every notification to every recipient on every channel, delivered at
-- least once with retries; in-app notices are rows of channel 'inapp'
-- (delivered at once, read_at when seen). One row per (recipient, channel,
-- dedup key), so an event raised twice is sent once.
CREATE TABLE notify_delivery (
  pk {{pk}},
  recipient TEXT NOT NULL,
  channel TEXT NOT NULL,
  address TEXT NOT NULL DEFAULT '',
  event TEXT NOT NULL,
  dedup TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  link TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  claimed_until TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  delivered_at TEXT NOT NULL DEFAULT '',
  read_at TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX notify_delivery_dedup ON notify_delivery(recipient, channel, dedup);
CREATE INDEX notify_delivery_due ON notify_delivery(status, next_attempt_at);
CREATE INDEX notify_delivery_recipient ON notify_delivery(recipient, channel, pk);
