-- C-FIND and QIDO by Patient ID alone (without issuer) would otherwise
-- scan the patient table.
CREATE INDEX patient_patient_id ON patient(patient_id);
