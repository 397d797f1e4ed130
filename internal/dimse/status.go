package dimse

import "fmt"

// DIMSE status codes (PS3.7 Annex C and the service classes of PS3.4).
const (
	StatusSuccess uint16 = 0x0000

	// Warnings.
	StatusCoercionOfDataElements   uint16 = 0xB000 // C-STORE
	StatusSubOperationsWarning     uint16 = 0xB000 // C-MOVE/C-GET: one or more failures or warnings
	StatusDataSetDoesNotMatchWarn  uint16 = 0xB007 // C-STORE: data set does not match SOP class
	StatusElementsDiscarded        uint16 = 0xB006 // C-STORE
	StatusAttributeValueOutOfRange uint16 = 0x0116 // N-SET/N-CREATE warning

	// Pending / cancel.
	StatusPending                  uint16 = 0xFF00
	StatusPendingOptionalKeysUnsup uint16 = 0xFF01
	StatusCancel                   uint16 = 0xFE00

	// Failures.
	StatusOutOfResources              uint16 = 0xA700
	StatusOutOfResourcesNumMatches    uint16 = 0xA701
	StatusOutOfResourcesSubOperations uint16 = 0xA702
	StatusMoveDestinationUnknown      uint16 = 0xA801
	StatusDataSetDoesNotMatchSOPClass uint16 = 0xA900 // also "identifier does not match SOP class"
	StatusCannotUnderstand            uint16 = 0xC000
	StatusUnableToProcess             uint16 = 0xC000
	StatusSOPClassNotSupported        uint16 = 0x0122
	StatusUnrecognizedOperation       uint16 = 0x0211
	StatusNoSuchSOPInstance           uint16 = 0x0112
	StatusDuplicateSOPInstance        uint16 = 0x0111
	StatusInvalidAttributeValue       uint16 = 0x0106
	StatusMissingAttribute            uint16 = 0x0120
	StatusProcessingFailure           uint16 = 0x0110
	StatusInvalidObjectInstance       uint16 = 0x0117
	StatusNotAuthorized               uint16 = 0x0124
	StatusDuplicateInvocation         uint16 = 0x0210
	StatusMistypedArgument            uint16 = 0x0212
	StatusResourceLimitation          uint16 = 0x0213
	StatusNoSuchAttribute             uint16 = 0x0105
	StatusNoSuchActionType            uint16 = 0x0123
)

// StatusKind is the category of a status code.
type StatusKind int

// Status kinds.
const (
	KindSuccess StatusKind = iota
	KindWarning
	KindPending
	KindCancel
	KindFailure
)

// ClassifyStatus returns the category of status s.
func ClassifyStatus(s uint16) StatusKind {
	switch {
	case s == 0x0000:
		return KindSuccess
	case s == 0xFF00 || s == 0xFF01:
		return KindPending
	case s == 0xFE00:
		return KindCancel
	case s == 0x0001 || s&0xF000 == 0xB000 || s == 0x0107 || s == 0x0116:
		return KindWarning
	}
	return KindFailure
}

// IsPending reports whether s is a pending status.
func IsPending(s uint16) bool { return ClassifyStatus(s) == KindPending }

// IsFailure reports whether s is a failure status.
func IsFailure(s uint16) bool { return ClassifyStatus(s) == KindFailure }

// StatusError is an error carrying a DIMSE status. Handlers return it to
// choose the failure status of the response.
type StatusError struct {
	Status  uint16
	Comment string
}

func (e *StatusError) Error() string {
	return withDetail(fmt.Sprintf("dimse: status 0x%04X", e.Status), ": ", e.Comment)
}

// withDetail appends sep and detail to msg when there is a detail.
func withDetail(msg, sep, detail string) string {
	if detail == "" {
		return msg
	}
	return msg + sep + detail
}
