-- A referring clinician's account names the clinician (e.g. NPI) as orders
-- carry it, so they see only the studies they ordered.
ALTER TABLE app_user ADD COLUMN clinician_id TEXT NOT NULL DEFAULT '';

-- Networks a registered AE may associate from (comma-separated CIDRs; empty = anywhere).
ALTER TABLE remote_ae ADD COLUMN allow_cidrs TEXT NOT NULL DEFAULT '';
