-- Second factor (TOTP, RFC 6238). The secret is sealed with AES-256-GCM
-- under a key derived from the server's secret key (see auth.Options);
-- totp_pending holds a secret between enrolment and confirmation;
-- totp_last_step is the last accepted 30-second step, so a code is never
-- accepted twice.
ALTER TABLE app_user ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE app_user ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';
ALTER TABLE app_user ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- Optional client allowlist of a bearer token: comma-separated CIDRs, empty
-- for anywhere.
ALTER TABLE api_token ADD COLUMN allow_cidrs TEXT NOT NULL DEFAULT '';

-- Browser sessions. Only a SHA-256 of the session ID is kept. A session
-- ends after idle_timeout without requests (HIPAA automatic logoff) or at
-- expires_at, whichever comes first; ended_at is set by logout.
CREATE TABLE app_session (
  id_sha256 TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES app_user(username),
  created_at TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  authenticated_at TEXT NOT NULL,
  remote_ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT '',
  ended_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX app_session_user ON app_session(username);
CREATE INDEX app_session_expires ON app_session(expires_at);
