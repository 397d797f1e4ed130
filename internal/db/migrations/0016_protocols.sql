-- Each facility's protocol library: what a radiologist picks when approving an order.
CREATE TABLE protocol (
  facility_id TEXT NOT NULL,
  code TEXT NOT NULL,
  text TEXT NOT NULL,
  modality TEXT NOT NULL DEFAULT '',
  contrast TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (facility_id, code)
);
