-- Users: one account per person (HIPAA unique user ID).
CREATE TABLE app_user (
  username TEXT PRIMARY KEY,
  display_name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  facility_id TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);

-- Facilities a user may see beyond the one they belong to (radiologists
-- until privileges are kept in the credential tables).
CREATE TABLE user_facility (
  username TEXT NOT NULL REFERENCES app_user(username),
  facility_id TEXT NOT NULL,
  PRIMARY KEY (username, facility_id)
);

-- Bearer tokens for integrations and DICOMweb clients; only a SHA-256 of
-- the token is kept.
CREATE TABLE api_token (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES app_user(username),
  name TEXT NOT NULL,
  token_sha256 TEXT NOT NULL UNIQUE,
  expires_at TEXT NOT NULL,
  revoked_at TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
