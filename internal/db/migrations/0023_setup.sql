-- FHIR result endpoints carry how to authenticate to the peer (e.g. a
-- bearer token); HL7 endpoints leave it empty.
ALTER TABLE facility_endpoint ADD COLUMN auth TEXT NOT NULL DEFAULT '';

-- A counter every set-up write (facilities, endpoints, readers, shifts,
-- AEs) increments in its own transaction: a running dispatcher polls it and
-- reloads, so a change made by the CLI on the same database takes effect at
-- once. Owned by internal/setup.
CREATE TABLE setup_stamp (
  name TEXT PRIMARY KEY,
  version BIGINT NOT NULL,
  updated_at TEXT NOT NULL
);
