package gen

import (
	"encoding/binary"
	"strconv"

	"lightbox/internal/dcm"
)

// Tags the dcm package has no constant for.
const (
	tagPresentationIntentType          dcm.Tag = 0x00080068
	tagRecommendedDisplayFrameRate     dcm.Tag = 0x00082144
	tagAnatomicRegionSequence          dcm.Tag = 0x00082218
	tagContrastBolusAgent              dcm.Tag = 0x00180010
	tagScanningSequence                dcm.Tag = 0x00180020
	tagSequenceVariant                 dcm.Tag = 0x00180021
	tagScanOptions                     dcm.Tag = 0x00180022
	tagMRAcquisitionType               dcm.Tag = 0x00180023
	tagSequenceName                    dcm.Tag = 0x00180024
	tagAngioFlag                       dcm.Tag = 0x00180025
	tagCineRate                        dcm.Tag = 0x00180040
	tagRepetitionTime                  dcm.Tag = 0x00180080
	tagEchoTime                        dcm.Tag = 0x00180081
	tagNumberOfAverages                dcm.Tag = 0x00180083
	tagImagingFrequency                dcm.Tag = 0x00180084
	tagImagedNucleus                   dcm.Tag = 0x00180085
	tagEchoNumbers                     dcm.Tag = 0x00180086
	tagMagneticFieldStrength           dcm.Tag = 0x00180087
	tagDataCollectionDiameter          dcm.Tag = 0x00180090
	tagEchoTrainLength                 dcm.Tag = 0x00180091
	tagDeviceSerialNumber              dcm.Tag = 0x00181000
	tagSoftwareVersions                dcm.Tag = 0x00181020
	tagFrameTime                       dcm.Tag = 0x00181063
	tagReconstructionDiameter          dcm.Tag = 0x00181100
	tagDistanceSourceToDetector        dcm.Tag = 0x00181110
	tagDistanceSourceToPatient         dcm.Tag = 0x00181111
	tagEstimatedRadiographicMagnif     dcm.Tag = 0x00181114
	tagGantryDetectorTilt              dcm.Tag = 0x00181120
	tagTableHeight                     dcm.Tag = 0x00181130
	tagRotationDirection               dcm.Tag = 0x00181140
	tagExposureTime                    dcm.Tag = 0x00181150
	tagXRayTubeCurrent                 dcm.Tag = 0x00181151
	tagExposure                        dcm.Tag = 0x00181152
	tagFilterType                      dcm.Tag = 0x00181160
	tagImagerPixelSpacing              dcm.Tag = 0x00181164
	tagFocalSpots                      dcm.Tag = 0x00181190
	tagAnodeTargetMaterial             dcm.Tag = 0x00181191
	tagBodyPartThickness               dcm.Tag = 0x001811A0
	tagCompressionForce                dcm.Tag = 0x001811A2
	tagConvolutionKernel               dcm.Tag = 0x00181210
	tagReceiveCoilName                 dcm.Tag = 0x00181250
	tagAcquisitionMatrix               dcm.Tag = 0x00181310
	tagInPlanePhaseEncodingDirection   dcm.Tag = 0x00181312
	tagFlipAngle                       dcm.Tag = 0x00181314
	tagPositionerType                  dcm.Tag = 0x00181508
	tagPositionerPrimaryAngle          dcm.Tag = 0x00181510
	tagDetectorType                    dcm.Tag = 0x00187004
	tagFilterMaterial                  dcm.Tag = 0x00187050
	tagBurnedInAnnotation              dcm.Tag = 0x00280301
	tagPixelIntensityRelationship      dcm.Tag = 0x00281040
	tagPixelIntensityRelationshipSign  dcm.Tag = 0x00281041
	tagWindowCenterWidthExplanation    dcm.Tag = 0x00281055
	tagBreastImplantPresent            dcm.Tag = 0x00281300
	tagLossyImageCompressionRatio      dcm.Tag = 0x00282112
	tagLossyImageCompressionMethod     dcm.Tag = 0x00282114
	tagOrganExposed                    dcm.Tag = 0x00400318
	tagAcquisitionContextSequence      dcm.Tag = 0x00400555
	tagViewCodeSequence                dcm.Tag = 0x00540220
	tagViewModifierCodeSequence        dcm.Tag = 0x00540222
	tagPresentationLUTShape            dcm.Tag = 0x20500020
	tagPreferredPlaybackSequencing     dcm.Tag = 0x00181244
	tagActualFrameDuration             dcm.Tag = 0x00181242
	tagUltrasoundColorDataPresent      dcm.Tag = 0x00289099
	tagCodingSchemeVersion             dcm.Tag = 0x00080103
	tagPatientIdentityRemoved          dcm.Tag = 0x00120062
	tagDeidentificationMethod          dcm.Tag = 0x00120063
	tagQualityControlImage             dcm.Tag = 0x00280300
	tagRequestAttributesSequence       dcm.Tag = 0x00400275
	tagPerformedProcedureStepStartDate dcm.Tag = 0x00400244
)

// SOP classes generated.
const (
	sopCT     = "1.2.840.10008.5.1.4.1.1.2"
	sopMR     = "1.2.840.10008.5.1.4.1.1.4"
	sopCR     = "1.2.840.10008.5.1.4.1.1.1"
	sopDX     = "1.2.840.10008.5.1.4.1.1.1.1"
	sopMG     = "1.2.840.10008.5.1.4.1.1.1.2"
	sopUSMult = "1.2.840.10008.5.1.4.1.1.3.1"
)

func setDS(ds *dcm.Dataset, t dcm.Tag, vals ...float64) {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = dcm.FormatDS(v)
	}
	ds.Put(dcm.StrElement(t, "DS", s...))
}

func setIS(ds *dcm.Dataset, t dcm.Tag, vals ...int) {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = strconv.Itoa(v)
	}
	ds.Put(dcm.StrElement(t, "IS", s...))
}

func setSS(ds *dcm.Dataset, t dcm.Tag, v int16) {
	b := make([]byte, 2)
	binary.LittleEndian.PutUint16(b, uint16(v))
	ds.Put(&dcm.Element{Tag: t, VR: "SS", Value: b})
}

func setAT(ds *dcm.Dataset, t dcm.Tag, target dcm.Tag) {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint16(b, target.Group())
	binary.LittleEndian.PutUint16(b[2:], target.Element())
	ds.Put(&dcm.Element{Tag: t, VR: "AT", Value: b})
}

// setEmpty writes a zero-length (Type 2) element.
func setEmpty(ds *dcm.Dataset, t dcm.Tag) {
	ds.Put(&dcm.Element{Tag: t, VR: dcm.VROf(t), Value: nil})
}

func codeItem(value, scheme, meaning string) *dcm.Dataset {
	it := &dcm.Dataset{}
	it.SetStr(dcm.TagCodeValue, value)
	it.SetStr(dcm.TagCodingSchemeDesignator, scheme)
	it.SetStr(dcm.TagCodeMeaning, meaning)
	return it
}
