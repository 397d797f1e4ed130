-- Patient name prefix searches (C-FIND, QIDO-RS: PatientName=SMITH*) use
-- a range on the lower-cased name, compared byte-wise.
CREATE INDEX patient_name_lower ON patient ((LOWER(name){{collate_c}}));
