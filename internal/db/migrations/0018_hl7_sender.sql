-- Registered HL7 v2 senders: which sending facility (MSH-4) and application
-- (MSH-3; '' = any) speak for which facility, and from where: allowed
-- networks (comma-separated CIDRs) and/or the subject CN of a verified TLS
-- client certificate. A message from anywhere else is refused (AR).
CREATE TABLE hl7_sender (
  sending_facility TEXT NOT NULL,
  sending_application TEXT NOT NULL DEFAULT '',
  facility_id TEXT NOT NULL,
  allow_cidrs TEXT NOT NULL DEFAULT '',
  tls_subject TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  PRIMARY KEY (sending_facility, sending_application)
);
