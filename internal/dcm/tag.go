package dcm

import (
	"fmt"
	"strconv"
	"strings"

	dict "github.com/suyashkumar/dicom/pkg/tag"
)

// Tag is a DICOM attribute tag: group in the high 16 bits, element in the low.
type Tag uint32

// NewTag builds a tag from its group and element numbers.
func NewTag(group, element uint16) Tag { return Tag(uint32(group)<<16 | uint32(element)) }

// Group returns the tag's group number.
func (t Tag) Group() uint16 { return uint16(t >> 16) }

// Element returns the tag's element number.
func (t Tag) Element() uint16 { return uint16(t) }

// String formats the tag as (gggg,eeee).
func (t Tag) String() string { return fmt.Sprintf("(%04X,%04X)", t.Group(), t.Element()) }

// Hex formats the tag as the eight hex digits used by DICOM JSON and QIDO-RS.
func (t Tag) Hex() string { return fmt.Sprintf("%08X", uint32(t)) }

// IsPrivate reports whether the tag belongs to an odd (private) group.
func (t Tag) IsPrivate() bool { return t.Group()%2 == 1 }

// Tags used by Lightbox. The dictionary knows every other standard tag.
const (
	TagFileMetaInformationGroupLength Tag = 0x00020000
	TagFileMetaInformationVersion     Tag = 0x00020001
	TagMediaStorageSOPClassUID        Tag = 0x00020002
	TagMediaStorageSOPInstanceUID     Tag = 0x00020003
	TagTransferSyntaxUID              Tag = 0x00020010
	TagImplementationClassUID         Tag = 0x00020012
	TagImplementationVersionName      Tag = 0x00020013
	TagSourceApplicationEntityTitle   Tag = 0x00020016

	TagSpecificCharacterSet            Tag = 0x00080005
	TagImageType                       Tag = 0x00080008
	TagInstanceCreationDate            Tag = 0x00080012
	TagInstanceCreationTime            Tag = 0x00080013
	TagSOPClassUID                     Tag = 0x00080016
	TagSOPInstanceUID                  Tag = 0x00080018
	TagStudyDate                       Tag = 0x00080020
	TagSeriesDate                      Tag = 0x00080021
	TagAcquisitionDate                 Tag = 0x00080022
	TagContentDate                     Tag = 0x00080023
	TagStudyTime                       Tag = 0x00080030
	TagSeriesTime                      Tag = 0x00080031
	TagAcquisitionTime                 Tag = 0x00080032
	TagContentTime                     Tag = 0x00080033
	TagAccessionNumber                 Tag = 0x00080050
	TagIssuerOfAccessionNumberSequence Tag = 0x00080051
	TagQueryRetrieveLevel              Tag = 0x00080052
	TagRetrieveAETitle                 Tag = 0x00080054
	TagInstanceAvailability            Tag = 0x00080056
	TagModality                        Tag = 0x00080060
	TagModalitiesInStudy               Tag = 0x00080061
	TagSOPClassesInStudy               Tag = 0x00080062
	TagConversionType                  Tag = 0x00080064
	TagManufacturer                    Tag = 0x00080070
	TagInstitutionName                 Tag = 0x00080080
	TagInstitutionAddress              Tag = 0x00080081
	TagReferringPhysicianName          Tag = 0x00080090
	TagTimezoneOffsetFromUTC           Tag = 0x00080201
	TagStationName                     Tag = 0x00081010
	TagStudyDescription                Tag = 0x00081030
	TagProcedureCodeSequence           Tag = 0x00081032
	TagSeriesDescription               Tag = 0x0008103E
	TagInstitutionalDepartmentName     Tag = 0x00081040
	TagReferencedSOPSequence           Tag = 0x00081199
	TagReferencedSOPClassUID           Tag = 0x00081150
	TagReferencedSOPInstanceUID        Tag = 0x00081155
	TagFailureReason                   Tag = 0x00081197
	TagFailedSOPSequence               Tag = 0x00081198
	TagScheduledProcedureStepID        Tag = 0x00400009
	TagRequestedProcedureID            Tag = 0x00401001
	TagManufacturerModelName           Tag = 0x00081090
	TagCodeValue                       Tag = 0x00080100
	TagCodingSchemeDesignator          Tag = 0x00080102
	TagCodeMeaning                     Tag = 0x00080104

	TagPatientName                   Tag = 0x00100010
	TagPatientID                     Tag = 0x00100020
	TagIssuerOfPatientID             Tag = 0x00100021
	TagPatientBirthDate              Tag = 0x00100030
	TagPatientSex                    Tag = 0x00100040
	TagPatientAge                    Tag = 0x00101010
	TagOtherPatientIDsSequence       Tag = 0x00101002
	TagPatientAddress                Tag = 0x00101040
	TagNumberOfPatientRelatedStudies Tag = 0x00201200

	TagBodyPartExamined     Tag = 0x00180015
	TagSliceThickness       Tag = 0x00180050
	TagKVP                  Tag = 0x00180060
	TagSpacingBetweenSlices Tag = 0x00180088
	TagProtocolName         Tag = 0x00181030
	TagPatientPosition      Tag = 0x00185100
	TagViewPosition         Tag = 0x00185101

	TagStudyInstanceUID               Tag = 0x0020000D
	TagSeriesInstanceUID              Tag = 0x0020000E
	TagStudyID                        Tag = 0x00200010
	TagSeriesNumber                   Tag = 0x00200011
	TagAcquisitionNumber              Tag = 0x00200012
	TagInstanceNumber                 Tag = 0x00200013
	TagPatientOrientation             Tag = 0x00200020
	TagImagePositionPatient           Tag = 0x00200032
	TagImageOrientationPatient        Tag = 0x00200037
	TagFrameOfReferenceUID            Tag = 0x00200052
	TagLaterality                     Tag = 0x00200060
	TagImageLaterality                Tag = 0x00200062
	TagPositionReferenceIndicator     Tag = 0x00201040
	TagSliceLocation                  Tag = 0x00201041
	TagNumberOfStudyRelatedSeries     Tag = 0x00201206
	TagNumberOfStudyRelatedInstances  Tag = 0x00201208
	TagNumberOfSeriesRelatedInstances Tag = 0x00201209

	TagSamplesPerPixel           Tag = 0x00280002
	TagPhotometricInterpretation Tag = 0x00280004
	TagPlanarConfiguration       Tag = 0x00280006
	TagNumberOfFrames            Tag = 0x00280008
	TagFrameIncrementPointer     Tag = 0x00280009
	TagRows                      Tag = 0x00280010
	TagColumns                   Tag = 0x00280011
	TagPixelSpacing              Tag = 0x00280030
	TagBitsAllocated             Tag = 0x00280100
	TagBitsStored                Tag = 0x00280101
	TagHighBit                   Tag = 0x00280102
	TagPixelRepresentation       Tag = 0x00280103
	TagWindowCenter              Tag = 0x00281050
	TagWindowWidth               Tag = 0x00281051
	TagRescaleIntercept          Tag = 0x00281052
	TagRescaleSlope              Tag = 0x00281053
	TagRescaleType               Tag = 0x00281054
	TagLossyImageCompression     Tag = 0x00282110

	TagRequestedProcedureDescription  Tag = 0x00321060
	TagRequestedProcedureCodeSequence Tag = 0x00321064

	TagFloatPixelData       Tag = 0x7FE00008
	TagDoubleFloatPixelData Tag = 0x7FE00009
	TagPixelData            Tag = 0x7FE00010

	TagItem                   Tag = 0xFFFEE000
	TagItemDelimitation       Tag = 0xFFFEE00D
	TagSequenceDelimitation   Tag = 0xFFFEE0DD
	TagDataSetTrailingPadding Tag = 0xFFFCFFFC
)

// VROf returns the dictionary VR of a tag, or "UN" when the tag is unknown
// (private tags, retired ones the dictionary lacks). Group lengths are UL.
func VROf(t Tag) string {
	if t.Element() == 0 {
		return "UL"
	}
	if t.IsPrivate() {
		switch {
		case t.Element() >= 0x0010 && t.Element() <= 0x00FF:
			return "LO" // private creator
		}
		return "UN"
	}
	info, err := dict.Find(dict.Tag{Group: t.Group(), Element: t.Element()})
	if err != nil || len(info.VRs) == 0 {
		return "UN"
	}
	return info.VRs[0]
}

// Keyword returns the dictionary keyword of a tag ("PatientName"), or "" when unknown.
func Keyword(t Tag) string {
	info, err := dict.Find(dict.Tag{Group: t.Group(), Element: t.Element()})
	if err != nil {
		return ""
	}
	return info.Keyword
}

// ParseTag accepts a keyword ("PatientName") or eight hex digits ("00100010"),
// the two forms QIDO-RS and configuration files use.
func ParseTag(s string) (Tag, error) {
	if len(s) == 8 {
		if v, err := strconv.ParseUint(s, 16, 32); err == nil {
			return Tag(v), nil
		}
	}
	if info, err := dict.FindByKeyword(s); err == nil && info.Keyword == s {
		return NewTag(info.Tag.Group, info.Tag.Element), nil
	}
	if g, e, ok := strings.Cut(strings.Trim(s, "()"), ","); ok {
		gv, err1 := strconv.ParseUint(g, 16, 16)
		ev, err2 := strconv.ParseUint(e, 16, 16)
		if err1 == nil && err2 == nil {
			return NewTag(uint16(gv), uint16(ev)), nil
		}
	}
	return 0, fmt.Errorf("unknown attribute %q", s)
}
