package query

import "lightbox/internal/dcm"

type kind int

const (
	kText  kind = iota // case-sensitive text
	kPN                // person name: case-insensitive, fuzzy
	kDate              // DA
	kTime              // TM
	kUID               // UI: single value or list
	kInt               // integer column (nullable)
	kMulti             // backslash-joined list column (ModalitiesInStudy)
	kCount             // computed count: returned, never matched
)

// column is an attribute the index holds.
type column struct {
	tag   dcm.Tag
	level Level // the level whose table holds it
	expr  string
	kind  kind
	vr    string
}

// TagAvailableTransferSyntaxUID is (0008,3002).
const TagAvailableTransferSyntaxUID dcm.Tag = 0x00083002

// TagRetrieveURL is (0008,1190).
const TagRetrieveURL dcm.Tag = 0x00081190

const tagNumberOfPatientRelatedStudies dcm.Tag = 0x00201200

// patientStudiesExpr counts a patient's studies in scope; the scope
// condition on s2 is appended where it is used.
const patientStudiesExpr = "(SELECT COUNT(*) FROM study s2 WHERE s2.patient_pk = p.pk"

var columns = []column{
	{dcm.TagPatientName, Patient, "p.name", kPN, "PN"},
	{dcm.TagPatientID, Patient, "p.patient_id", kText, "LO"},
	{dcm.TagIssuerOfPatientID, Patient, "p.issuer", kText, "LO"},
	{dcm.TagPatientBirthDate, Patient, "p.birth_date", kDate, "DA"},
	{dcm.TagPatientSex, Patient, "p.sex", kText, "CS"},
	{tagNumberOfPatientRelatedStudies, Patient, patientStudiesExpr, kCount, "IS"},

	{dcm.TagStudyInstanceUID, Study, "s.study_uid", kUID, "UI"},
	{dcm.TagStudyDate, Study, "s.study_date", kDate, "DA"},
	{dcm.TagStudyTime, Study, "s.study_time", kTime, "TM"},
	{dcm.TagAccessionNumber, Study, "s.accession", kText, "SH"},
	{dcm.TagStudyID, Study, "s.study_id", kText, "SH"},
	{dcm.TagStudyDescription, Study, "s.description", kText, "LO"},
	{dcm.TagReferringPhysicianName, Study, "s.referring", kPN, "PN"},
	{dcm.TagModalitiesInStudy, Study, "s.modalities", kMulti, "CS"},
	{dcm.TagNumberOfStudyRelatedSeries, Study, "s.num_series", kCount, "IS"},
	{dcm.TagNumberOfStudyRelatedInstances, Study, "s.num_instances", kCount, "IS"},

	{dcm.TagModality, Series, "r.modality", kText, "CS"},
	{dcm.TagSeriesInstanceUID, Series, "r.series_uid", kUID, "UI"},
	{dcm.TagSeriesNumber, Series, "r.series_number", kInt, "IS"},
	{dcm.TagSeriesDescription, Series, "r.description", kText, "LO"},
	{dcm.TagBodyPartExamined, Series, "r.body_part", kText, "CS"},
	{dcm.TagNumberOfSeriesRelatedInstances, Series, "r.num_instances", kCount, "IS"},

	{dcm.TagSOPClassUID, Image, "i.sop_class", kUID, "UI"},
	{dcm.TagSOPInstanceUID, Image, "i.sop_uid", kUID, "UI"},
	{dcm.TagInstanceNumber, Image, "i.instance_number", kInt, "IS"},
	{dcm.TagRows, Image, "i.rows_", kInt, "US"},
	{dcm.TagColumns, Image, "i.columns_", kInt, "US"},
	{dcm.TagNumberOfFrames, Image, "i.num_frames", kInt, "IS"},
	{TagAvailableTransferSyntaxUID, Image, "i.transfer_syntax", kUID, "UI"},
}

func lookupColumn(t dcm.Tag) *column {
	for i := range columns {
		if columns[i].tag == t {
			return &columns[i]
		}
	}
	return nil
}

// usable reports whether a column can be used in a query at level lv: the
// column's table is joined (its level is at or above lv). Patient-level
// queries see patient columns only.
func (c *column) usable(lv Level) bool {
	if c.tag == tagNumberOfPatientRelatedStudies {
		return lv == Patient
	}
	return c.level <= lv
}

// defaults are the attributes each level returns without being asked
// (QIDO-RS PS3.18 Tables 10.6.3-5/6/7 and the C-FIND required keys).
var defaults = map[Level][]dcm.Tag{
	Patient: {dcm.TagPatientName, dcm.TagPatientID, dcm.TagIssuerOfPatientID, dcm.TagPatientBirthDate, dcm.TagPatientSex,
		tagNumberOfPatientRelatedStudies},
	Study: {dcm.TagStudyInstanceUID, dcm.TagStudyDate, dcm.TagStudyTime, dcm.TagAccessionNumber, dcm.TagPatientName,
		dcm.TagPatientID, dcm.TagIssuerOfPatientID, dcm.TagPatientBirthDate, dcm.TagPatientSex, dcm.TagStudyID,
		dcm.TagStudyDescription, dcm.TagReferringPhysicianName, dcm.TagModalitiesInStudy,
		dcm.TagNumberOfStudyRelatedSeries, dcm.TagNumberOfStudyRelatedInstances},
	Series: {dcm.TagStudyInstanceUID, dcm.TagModality, dcm.TagSeriesInstanceUID, dcm.TagSeriesNumber,
		dcm.TagSeriesDescription, dcm.TagNumberOfSeriesRelatedInstances, dcm.TagBodyPartExamined},
	Image: {dcm.TagStudyInstanceUID, dcm.TagSeriesInstanceUID, dcm.TagSOPClassUID, dcm.TagSOPInstanceUID,
		dcm.TagInstanceNumber, dcm.TagRows, dcm.TagColumns, dcm.TagNumberOfFrames, TagAvailableTransferSyntaxUID},
}

// uniqueKey is each level's unique key.
var uniqueKey = map[Level]dcm.Tag{
	Patient: dcm.TagPatientID,
	Study:   dcm.TagStudyInstanceUID,
	Series:  dcm.TagSeriesInstanceUID,
	Image:   dcm.TagSOPInstanceUID,
}

// studyModuleTags are the Patient, Patient Study and General Study
// attributes (besides group 0010) returned by includefield=all at study level.
var studyModuleTags = map[dcm.Tag]bool{
	dcm.TagSpecificCharacterSet: true, dcm.TagStudyDate: true, dcm.TagStudyTime: true, dcm.TagAccessionNumber: true,
	dcm.TagIssuerOfAccessionNumberSequence: true, dcm.TagReferringPhysicianName: true, dcm.TagStudyDescription: true,
	dcm.TagProcedureCodeSequence: true, dcm.TagStudyInstanceUID: true, dcm.TagStudyID: true,
	dcm.TagTimezoneOffsetFromUTC: true, dcm.TagInstitutionName: true, dcm.TagRequestedProcedureDescription: true,
	dcm.TagRequestedProcedureCodeSequence: true,
	0x00081060:                            true, // NameOfPhysiciansReadingStudy
	0x00081080:                            true, // AdmittingDiagnosesDescription
	0x00321032:                            true, // RequestingPhysician
	0x00401001:                            true, // RequestedProcedureID
}

// seriesModuleTags are General Series / Equipment attributes returned by
// includefield=all at series level.
var seriesModuleTags = map[dcm.Tag]bool{
	dcm.TagSpecificCharacterSet: true, dcm.TagModality: true, dcm.TagSeriesInstanceUID: true, dcm.TagSeriesNumber: true,
	dcm.TagSeriesDate: true, dcm.TagSeriesTime: true, dcm.TagSeriesDescription: true, dcm.TagProtocolName: true,
	dcm.TagBodyPartExamined: true, dcm.TagLaterality: true, dcm.TagPatientPosition: true, dcm.TagManufacturer: true,
	dcm.TagManufacturerModelName: true, dcm.TagStationName: true, dcm.TagInstitutionName: true,
	dcm.TagInstitutionalDepartmentName: true, dcm.TagFrameOfReferenceUID: true, dcm.TagTimezoneOffsetFromUTC: true,
	0x00400244: true, // PerformedProcedureStepStartDate
	0x00400245: true, // PerformedProcedureStepStartTime
	0x00400275: true, // RequestAttributesSequence
	0x00081050: true, // PerformingPhysicianName
	0x00181000: true, // DeviceSerialNumber
	0x00181020: true, // SoftwareVersions
}

// allAtLevel reports whether includefield=all returns t at level lv.
func allAtLevel(t dcm.Tag, lv Level) bool {
	switch lv {
	case Patient:
		return t.Group() == 0x0010 || t == dcm.TagSpecificCharacterSet
	case Study:
		return t.Group() == 0x0010 || studyModuleTags[t]
	case Series:
		return seriesModuleTags[t]
	}
	return true
}
