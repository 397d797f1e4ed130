-- Orders (radiology requests) received over HL7 (ORM^O01, OMI^O23) or FHIR
-- (ServiceRequest). "orders" because ORDER is a reserved word.
-- Timestamps are db.Now text (UTC, fixed width). Patient identity is kept as
-- received; patient_pk links to the patient row (issuer, patient_id) when known.
CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  facility_id TEXT NOT NULL,
  accession TEXT NOT NULL,
  placer_order TEXT NOT NULL DEFAULT '',
  filler_order TEXT NOT NULL DEFAULT '',
  patient_pk BIGINT,
  issuer TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  patient_name TEXT NOT NULL DEFAULT '',
  birth_date TEXT NOT NULL DEFAULT '',
  sex TEXT NOT NULL DEFAULT '',
  procedure_code TEXT NOT NULL,
  procedure_system TEXT NOT NULL DEFAULT '',
  procedure_text TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  priority TEXT NOT NULL DEFAULT 'ROUTINE',
  stroke INTEGER NOT NULL DEFAULT 0,
  trauma INTEGER NOT NULL DEFAULT 0,
  ordering_name TEXT NOT NULL DEFAULT '',
  ordering_id TEXT NOT NULL DEFAULT '',
  ordering_id_type TEXT NOT NULL DEFAULT '',
  callback_phone TEXT NOT NULL DEFAULT '',
  location_state TEXT NOT NULL DEFAULT '',
  medicare INTEGER NOT NULL DEFAULT 0,
  ordered_at TEXT NOT NULL,
  requested_at TEXT NOT NULL DEFAULT '',
  study_uid TEXT NOT NULL DEFAULT '',
  requested_procedure_id TEXT NOT NULL DEFAULT '',
  sps_id TEXT NOT NULL DEFAULT '',
  modality TEXT NOT NULL DEFAULT '',
  station_ae TEXT NOT NULL DEFAULT '',
  scheduled_at TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  held_from TEXT NOT NULL DEFAULT '',
  protocol_code TEXT NOT NULL DEFAULT '',
  protocol_text TEXT NOT NULL DEFAULT '',
  contrast TEXT NOT NULL DEFAULT '',
  protocol_by TEXT NOT NULL DEFAULT '',
  protocol_at TEXT NOT NULL DEFAULT '',
  status_reason TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (facility_id, accession)
);
CREATE INDEX orders_status ON orders(status, facility_id);
CREATE INDEX orders_study_uid ON orders(study_uid);
CREATE INDEX orders_patient ON orders(issuer, patient_id);
CREATE INDEX orders_scheduled ON orders(scheduled_at);

-- Every state change of an order, with who and why: feeds TAT
-- (requested = T0 from ORC-9, in_progress = T1, completed = T2).
CREATE TABLE order_event (
  pk {{pk}},
  order_id TEXT NOT NULL,
  from_status TEXT NOT NULL DEFAULT '',
  to_status TEXT NOT NULL,
  actor TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  at TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
CREATE INDEX order_event_order ON order_event(order_id, at);

-- Studies that could not be matched to an order, or matched one with
-- differing demographics: kept for a coordinator, nothing overwritten.
CREATE TABLE order_unmatched (
  pk {{pk}},
  facility_id TEXT NOT NULL,
  accession TEXT NOT NULL DEFAULT '',
  study_uid TEXT NOT NULL,
  issuer TEXT NOT NULL DEFAULT '',
  patient_id TEXT NOT NULL DEFAULT '',
  patient_name TEXT NOT NULL DEFAULT '',
  birth_date TEXT NOT NULL DEFAULT '',
  sex TEXT NOT NULL DEFAULT '',
  candidate_order_id TEXT NOT NULL DEFAULT '',
  mismatches TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'open',
  attached_order_id TEXT NOT NULL DEFAULT '',
  resolved_by TEXT NOT NULL DEFAULT '',
  resolved_at TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX order_unmatched_status ON order_unmatched(status, facility_id);
CREATE INDEX order_unmatched_study ON order_unmatched(study_uid);

-- Demographic conflicts seen on patient updates (ADT) or on orders for a
-- known patient: old and new values for a coordinator.
CREATE TABLE patient_conflict (
  pk {{pk}},
  patient_pk BIGINT NOT NULL,
  field TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  source TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX patient_conflict_patient ON patient_conflict(patient_pk);

-- Inbound HL7 that was malformed or rejected: raw bytes for a coordinator.
CREATE TABLE hl7_dead_letter (
  pk {{pk}},
  received_at TEXT NOT NULL,
  remote_addr TEXT NOT NULL DEFAULT '',
  control_id TEXT NOT NULL DEFAULT '',
  message_type TEXT NOT NULL DEFAULT '',
  sending_facility TEXT NOT NULL DEFAULT '',
  ack_code TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL,
  location TEXT NOT NULL DEFAULT '',
  raw {{blob}} NOT NULL,
  resolved_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hl7_dead_letter_received ON hl7_dead_letter(received_at);

-- Where a facility receives messages from us.
CREATE TABLE facility_endpoint (
  facility_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  address TEXT NOT NULL,
  tls INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  PRIMARY KEY (facility_id, kind)
);

-- Durable outbound HL7 messages, delivered at least once, in order per address.
CREATE TABLE hl7_outbox (
  pk {{pk}},
  facility_id TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL,
  tls INTEGER NOT NULL DEFAULT 0,
  kind TEXT NOT NULL,
  related_id TEXT NOT NULL DEFAULT '',
  control_id TEXT NOT NULL DEFAULT '',
  message {{blob}} NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  claimed_until TEXT NOT NULL DEFAULT '',
  claimed_by TEXT NOT NULL DEFAULT '',
  ack_code TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  delivered_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hl7_outbox_pending ON hl7_outbox(status, address, pk);

CREATE TABLE hl7_outbox_attempt (
  pk {{pk}},
  outbox_pk BIGINT NOT NULL,
  at TEXT NOT NULL,
  ack_code TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hl7_outbox_attempt_msg ON hl7_outbox_attempt(outbox_pk);
