-- Daily station checks a reader records from the browser: the display test
-- pattern (in the spirit of AAPM TG18-QC) and the connection speed.
CREATE TABLE station_check (
  pk {{pk}},
  username TEXT NOT NULL,
  kind TEXT NOT NULL,
  passed INTEGER NOT NULL,
  detail TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX station_check_user ON station_check(username, kind, at);
