package dimse

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// CommandField identifies the DIMSE operation of a command set (0000,0100).
type CommandField uint16

// Command field values (PS3.7 Annex E).
const (
	CStoreRQ        CommandField = 0x0001
	CStoreRSP       CommandField = 0x8001
	CGetRQ          CommandField = 0x0010
	CGetRSP         CommandField = 0x8010
	CFindRQ         CommandField = 0x0020
	CFindRSP        CommandField = 0x8020
	CMoveRQ         CommandField = 0x0021
	CMoveRSP        CommandField = 0x8021
	CEchoRQ         CommandField = 0x0030
	CEchoRSP        CommandField = 0x8030
	NEventReportRQ  CommandField = 0x0100
	NEventReportRSP CommandField = 0x8100
	NGetRQ          CommandField = 0x0110
	NGetRSP         CommandField = 0x8110
	NSetRQ          CommandField = 0x0120
	NSetRSP         CommandField = 0x8120
	NActionRQ       CommandField = 0x0130
	NActionRSP      CommandField = 0x8130
	NCreateRQ       CommandField = 0x0140
	NCreateRSP      CommandField = 0x8140
	NDeleteRQ       CommandField = 0x0150
	NDeleteRSP      CommandField = 0x8150
	CCancelRQ       CommandField = 0x0FFF
)

// IsResponse reports whether f is a response command.
func (f CommandField) IsResponse() bool { return f&0x8000 != 0 }

func (f CommandField) String() string {
	names := map[CommandField]string{
		CStoreRQ: "C-STORE-RQ", CStoreRSP: "C-STORE-RSP", CGetRQ: "C-GET-RQ", CGetRSP: "C-GET-RSP",
		CFindRQ: "C-FIND-RQ", CFindRSP: "C-FIND-RSP", CMoveRQ: "C-MOVE-RQ", CMoveRSP: "C-MOVE-RSP",
		CEchoRQ: "C-ECHO-RQ", CEchoRSP: "C-ECHO-RSP", NEventReportRQ: "N-EVENT-REPORT-RQ",
		NEventReportRSP: "N-EVENT-REPORT-RSP", NGetRQ: "N-GET-RQ", NGetRSP: "N-GET-RSP",
		NSetRQ: "N-SET-RQ", NSetRSP: "N-SET-RSP", NActionRQ: "N-ACTION-RQ", NActionRSP: "N-ACTION-RSP",
		NCreateRQ: "N-CREATE-RQ", NCreateRSP: "N-CREATE-RSP", NDeleteRQ: "N-DELETE-RQ",
		NDeleteRSP: "N-DELETE-RSP", CCancelRQ: "C-CANCEL-RQ",
	}
	if s, ok := names[f]; ok {
		return s
	}
	return fmt.Sprintf("CommandField(0x%04x)", uint16(f))
}

// Priority values (0000,0700).
const (
	PriorityMedium uint16 = 0x0000
	PriorityHigh   uint16 = 0x0001
	PriorityLow    uint16 = 0x0002
)

// NoDataSet is the CommandDataSetType value meaning "no data set follows".
const NoDataSet uint16 = 0x0101

// dataSetPresent is the value this package writes when a data set follows
// (any value other than 0x0101 means present).
const dataSetPresent uint16 = 0x0000

// Field presence bits for the optional numeric elements of a command.
const (
	hasMessageID uint32 = 1 << iota
	hasMessageIDBeingRespondedTo
	hasPriority
	hasStatus
	hasErrorID
	hasMoveOriginatorMessageID
	hasRemaining
	hasCompleted
	hasFailed
	hasWarning
	hasActionTypeID
	hasEventTypeID
)

// Command is a decoded DIMSE command set (group 0000). String fields are
// omitted from the encoding when empty; numeric optional fields are written
// only when their Has* flag is set (the Set* helpers set them).
type Command struct {
	CommandField              CommandField
	MessageID                 uint16
	MessageIDBeingRespondedTo uint16
	AffectedSOPClassUID       string
	RequestedSOPClassUID      string
	AffectedSOPInstanceUID    string
	RequestedSOPInstanceUID   string
	Priority                  uint16
	CommandDataSetType        uint16
	Status                    uint16
	ErrorComment              string
	ErrorID                   uint16
	OffendingElement          []uint32
	MoveDestination           string
	MoveOriginatorAETitle     string
	MoveOriginatorMessageID   uint16
	Remaining                 uint16
	Completed                 uint16
	Failed                    uint16
	Warning                   uint16
	ActionTypeID              uint16
	EventTypeID               uint16
	AttributeIdentifierList   []uint32
	present                   uint32
}

// HasDataSet reports whether a data set follows the command.
func (c *Command) HasDataSet() bool { return c.CommandDataSetType != NoDataSet }

// SetCounts sets the four sub-operation counters (C-MOVE/C-GET responses).
func (c *Command) SetCounts(remaining, completed, failed, warning uint16) {
	c.Remaining, c.Completed, c.Failed, c.Warning = remaining, completed, failed, warning
	c.present |= hasRemaining | hasCompleted | hasFailed | hasWarning
}

// HasCounts reports whether all four sub-operation counters were present.
func (c *Command) HasCounts() bool {
	m := hasRemaining | hasCompleted | hasFailed | hasWarning
	return c.present&m == m
}

// HasRemaining reports whether NumberOfRemainingSuboperations was present.
func (c *Command) HasRemaining() bool { return c.present&hasRemaining != 0 }

// SetMoveOriginator sets the move originator AE title and message ID.
func (c *Command) SetMoveOriginator(ae string, msgID uint16) {
	c.MoveOriginatorAETitle, c.MoveOriginatorMessageID = ae, msgID
	c.present |= hasMoveOriginatorMessageID
}

// HasMoveOriginator reports whether MoveOriginatorMessageID was present.
func (c *Command) HasMoveOriginator() bool { return c.present&hasMoveOriginatorMessageID != 0 }

// SetActionTypeID sets ActionTypeID (N-ACTION).
func (c *Command) SetActionTypeID(v uint16) { c.ActionTypeID = v; c.present |= hasActionTypeID }

// SetEventTypeID sets EventTypeID (N-EVENT-REPORT).
func (c *Command) SetEventTypeID(v uint16) { c.EventTypeID = v; c.present |= hasEventTypeID }

// SetErrorID sets ErrorID.
func (c *Command) SetErrorID(v uint16) { c.ErrorID = v; c.present |= hasErrorID }

// Command element tags (element numbers in group 0000).
const (
	tagGroupLength               = 0x0000
	tagAffectedSOPClassUID       = 0x0002
	tagRequestedSOPClassUID      = 0x0003
	tagCommandField              = 0x0100
	tagMessageID                 = 0x0110
	tagMessageIDBeingRespondedTo = 0x0120
	tagMoveDestination           = 0x0600
	tagPriority                  = 0x0700
	tagCommandDataSetType        = 0x0800
	tagStatus                    = 0x0900
	tagOffendingElement          = 0x0901
	tagErrorComment              = 0x0902
	tagErrorID                   = 0x0903
	tagAffectedSOPInstanceUID    = 0x1000
	tagRequestedSOPInstanceUID   = 0x1001
	tagEventTypeID               = 0x1002
	tagAttributeIdentifierList   = 0x1005
	tagActionTypeID              = 0x1008
	tagRemaining                 = 0x1020
	tagCompleted                 = 0x1021
	tagFailed                    = 0x1022
	tagWarning                   = 0x1023
	tagMoveOriginatorAETitle     = 0x1030
	tagMoveOriginatorMessageID   = 0x1031
)

// maxCommandLen bounds a reassembled command set.
const maxCommandLen = 1 << 20

func isRQWithPriority(f CommandField) bool {
	return f == CStoreRQ || f == CFindRQ || f == CMoveRQ || f == CGetRQ
}

// Encode returns the command set in implicit VR little endian, starting with
// CommandGroupLength.
func (c *Command) Encode() ([]byte, error) {
	b := make([]byte, 12, 256)
	// Group length placeholder: (0000,0000) UL.
	binary.LittleEndian.PutUint16(b[0:], 0)
	binary.LittleEndian.PutUint16(b[2:], tagGroupLength)
	binary.LittleEndian.PutUint32(b[4:], 4)
	str := func(tag uint16, v string, pad byte) {
		if v == "" {
			return
		}
		if len(v)%2 == 1 {
			v += string(pad)
		}
		b = appendElem(b, tag, []byte(v))
	}
	us := func(tag uint16, v uint16) {
		b = appendElem(b, tag, binary.LittleEndian.AppendUint16(nil, v))
	}
	at := func(tag uint16, tags []uint32) {
		if len(tags) == 0 {
			return
		}
		v := make([]byte, 0, 4*len(tags))
		for _, t := range tags {
			v = binary.LittleEndian.AppendUint16(v, uint16(t>>16))
			v = binary.LittleEndian.AppendUint16(v, uint16(t))
		}
		b = appendElem(b, tag, v)
	}
	f := c.CommandField
	p := c.present
	// opt writes an element only when the command carries it.
	opt := func(flag uint32, tag, v uint16) {
		if p&flag != 0 {
			us(tag, v)
		}
	}
	if f.IsResponse() || f == CCancelRQ {
		p |= hasMessageIDBeingRespondedTo
	} else {
		p |= hasMessageID
	}
	if f.IsResponse() {
		p |= hasStatus
	}
	if isRQWithPriority(f) {
		p |= hasPriority
	}
	// Elements in ascending tag order.
	str(tagAffectedSOPClassUID, c.AffectedSOPClassUID, 0)
	str(tagRequestedSOPClassUID, c.RequestedSOPClassUID, 0)
	us(tagCommandField, uint16(f))
	opt(hasMessageID, tagMessageID, c.MessageID)
	opt(hasMessageIDBeingRespondedTo, tagMessageIDBeingRespondedTo, c.MessageIDBeingRespondedTo)
	str(tagMoveDestination, c.MoveDestination, ' ')
	opt(hasPriority, tagPriority, c.Priority)
	us(tagCommandDataSetType, c.CommandDataSetType)
	opt(hasStatus, tagStatus, c.Status)
	at(tagOffendingElement, c.OffendingElement)
	comment := c.ErrorComment
	if len(comment) > 64 {
		comment = comment[:64]
	}
	str(tagErrorComment, comment, ' ')
	opt(hasErrorID, tagErrorID, c.ErrorID)
	str(tagAffectedSOPInstanceUID, c.AffectedSOPInstanceUID, 0)
	str(tagRequestedSOPInstanceUID, c.RequestedSOPInstanceUID, 0)
	opt(hasEventTypeID, tagEventTypeID, c.EventTypeID)
	at(tagAttributeIdentifierList, c.AttributeIdentifierList)
	opt(hasActionTypeID, tagActionTypeID, c.ActionTypeID)
	opt(hasRemaining, tagRemaining, c.Remaining)
	opt(hasCompleted, tagCompleted, c.Completed)
	opt(hasFailed, tagFailed, c.Failed)
	opt(hasWarning, tagWarning, c.Warning)
	str(tagMoveOriginatorAETitle, c.MoveOriginatorAETitle, ' ')
	opt(hasMoveOriginatorMessageID, tagMoveOriginatorMessageID, c.MoveOriginatorMessageID)
	if len(b) > maxCommandLen {
		return nil, fmt.Errorf("dimse: command set too large (%d bytes)", len(b))
	}
	binary.LittleEndian.PutUint32(b[8:], uint32(len(b)-12))
	return b, nil
}

func appendElem(b []byte, elem uint16, v []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, 0x0000)
	b = binary.LittleEndian.AppendUint16(b, elem)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// DecodeCommand parses a command set encoded in implicit VR little endian.
// Unknown group 0000 elements are ignored, and so are elements of later
// groups after group 0000 (DCMTK-based peers put some there: Orthanc 1.10
// sends a failed C-GET-RSP with the Failed SOP Instance UID List (0008,0058)
// in its command set, which DCMTK's own parser ignores); an element of
// another group first, truncated values, wrong value lengths and an
// inconsistent group length are errors.
func DecodeCommand(b []byte) (*Command, error) {
	if len(b) > maxCommandLen {
		return nil, fmt.Errorf("dimse: command set too large (%d bytes)", len(b))
	}
	c := &Command{CommandDataSetType: NoDataSet}
	seen := map[uint16]bool{}
	groupLen := -1
	haveField := false
	off := 0
	end := len(b) // where group 0000 ends
	for off < len(b) {
		if len(b)-off < 8 {
			return nil, fmt.Errorf("dimse: command set: truncated element header at offset %d", off)
		}
		group := binary.LittleEndian.Uint16(b[off:])
		elem := binary.LittleEndian.Uint16(b[off+2:])
		n := binary.LittleEndian.Uint32(b[off+4:])
		if group != 0x0000 {
			if off == 0 {
				return nil, fmt.Errorf("dimse: command set: element (%04x,%04x) outside group 0000", group, elem)
			}
			end = off
			break
		}
		if uint64(n) > uint64(len(b)-off-8) {
			return nil, fmt.Errorf("dimse: command set: element (0000,%04x) length %d exceeds %d bytes left", elem, n, len(b)-off-8)
		}
		v := b[off+8 : off+8+int(n)]
		if seen[elem] {
			return nil, fmt.Errorf("dimse: command set: duplicate element (0000,%04x)", elem)
		}
		seen[elem] = true
		if elem == tagGroupLength {
			if n != 4 {
				return nil, fmt.Errorf("dimse: command set: group length value length %d", n)
			}
			if off != 0 {
				return nil, fmt.Errorf("dimse: command set: group length not first")
			}
			groupLen = int(binary.LittleEndian.Uint32(v))
			off += 8 + int(n)
			continue
		}
		us := func(dst *uint16, flag uint32) error {
			if n != 2 {
				return fmt.Errorf("dimse: command set: element (0000,%04x) has length %d, want 2", elem, n)
			}
			*dst = binary.LittleEndian.Uint16(v)
			c.present |= flag
			return nil
		}
		uid := func(dst *string) error {
			s := strings.TrimRight(string(v), "\x00 ")
			if len(s) > maxUIDLen {
				return fmt.Errorf("dimse: command set: UID in (0000,%04x) too long", elem)
			}
			*dst = s
			return nil
		}
		text := func(dst *string) { *dst = strings.TrimRight(string(v), " \x00") }
		tags := func(dst *[]uint32) error {
			if n%4 != 0 {
				return fmt.Errorf("dimse: command set: AT element (0000,%04x) length %d", elem, n)
			}
			for i := 0; i < int(n); i += 4 {
				*dst = append(*dst, uint32(binary.LittleEndian.Uint16(v[i:]))<<16|uint32(binary.LittleEndian.Uint16(v[i+2:])))
			}
			return nil
		}
		var err error
		switch elem {
		case tagAffectedSOPClassUID:
			err = uid(&c.AffectedSOPClassUID)
		case tagRequestedSOPClassUID:
			err = uid(&c.RequestedSOPClassUID)
		case tagCommandField:
			var f uint16
			err = us(&f, 0)
			c.CommandField = CommandField(f)
			haveField = true
		case tagMessageID:
			err = us(&c.MessageID, hasMessageID)
		case tagMessageIDBeingRespondedTo:
			err = us(&c.MessageIDBeingRespondedTo, hasMessageIDBeingRespondedTo)
		case tagMoveDestination:
			text(&c.MoveDestination)
			c.MoveDestination = strings.TrimLeft(c.MoveDestination, " ")
		case tagPriority:
			err = us(&c.Priority, hasPriority)
		case tagCommandDataSetType:
			err = us(&c.CommandDataSetType, 0)
		case tagStatus:
			err = us(&c.Status, hasStatus)
		case tagOffendingElement:
			err = tags(&c.OffendingElement)
		case tagErrorComment:
			text(&c.ErrorComment)
		case tagErrorID:
			err = us(&c.ErrorID, hasErrorID)
		case tagAffectedSOPInstanceUID:
			err = uid(&c.AffectedSOPInstanceUID)
		case tagRequestedSOPInstanceUID:
			err = uid(&c.RequestedSOPInstanceUID)
		case tagEventTypeID:
			err = us(&c.EventTypeID, hasEventTypeID)
		case tagAttributeIdentifierList:
			err = tags(&c.AttributeIdentifierList)
		case tagActionTypeID:
			err = us(&c.ActionTypeID, hasActionTypeID)
		case tagRemaining:
			err = us(&c.Remaining, hasRemaining)
		case tagCompleted:
			err = us(&c.Completed, hasCompleted)
		case tagFailed:
			err = us(&c.Failed, hasFailed)
		case tagWarning:
			err = us(&c.Warning, hasWarning)
		case tagMoveOriginatorAETitle:
			text(&c.MoveOriginatorAETitle)
			c.MoveOriginatorAETitle = strings.TrimLeft(c.MoveOriginatorAETitle, " ")
		case tagMoveOriginatorMessageID:
			err = us(&c.MoveOriginatorMessageID, hasMoveOriginatorMessageID)
		}
		if err != nil {
			return nil, err
		}
		off += 8 + int(n)
	}
	if groupLen >= 0 && groupLen != end-12 {
		return nil, fmt.Errorf("dimse: command set: group length %d does not match %d bytes", groupLen, end-12)
	}
	if !haveField {
		return nil, fmt.Errorf("dimse: command set without CommandField")
	}
	if !seen[tagCommandDataSetType] {
		return nil, fmt.Errorf("dimse: command set without CommandDataSetType")
	}
	f := c.CommandField
	switch {
	case f.IsResponse() || f == CCancelRQ:
		if c.present&hasMessageIDBeingRespondedTo == 0 {
			return nil, fmt.Errorf("dimse: %v without MessageIDBeingRespondedTo", f)
		}
		if f.IsResponse() && c.present&hasStatus == 0 {
			return nil, fmt.Errorf("dimse: %v without Status", f)
		}
	default:
		if c.present&hasMessageID == 0 {
			return nil, fmt.Errorf("dimse: %v without MessageID", f)
		}
	}
	return c, nil
}

// ---------------------------------------------------------------------------
// Message constructors. Each returns the command set of one DIMSE message;
// the caller sets MessageID (the Association does so automatically).

// NewCEchoRQ returns a C-ECHO-RQ.
func NewCEchoRQ() *Command {
	return &Command{CommandField: CEchoRQ, AffectedSOPClassUID: VerificationSOPClass, CommandDataSetType: NoDataSet}
}

// NewCStoreRQ returns a C-STORE-RQ (a data set follows).
func NewCStoreRQ(sopClass, sopInstance string, priority uint16) *Command {
	return &Command{CommandField: CStoreRQ, AffectedSOPClassUID: sopClass, AffectedSOPInstanceUID: sopInstance, Priority: priority, CommandDataSetType: dataSetPresent}
}

// NewCFindRQ returns a C-FIND-RQ (the identifier follows).
func NewCFindRQ(sopClass string, priority uint16) *Command {
	return &Command{CommandField: CFindRQ, AffectedSOPClassUID: sopClass, Priority: priority, CommandDataSetType: dataSetPresent}
}

// NewCMoveRQ returns a C-MOVE-RQ (the identifier follows).
func NewCMoveRQ(sopClass, destination string, priority uint16) *Command {
	return &Command{CommandField: CMoveRQ, AffectedSOPClassUID: sopClass, MoveDestination: destination, Priority: priority, CommandDataSetType: dataSetPresent}
}

// NewCGetRQ returns a C-GET-RQ (the identifier follows).
func NewCGetRQ(sopClass string, priority uint16) *Command {
	return &Command{CommandField: CGetRQ, AffectedSOPClassUID: sopClass, Priority: priority, CommandDataSetType: dataSetPresent}
}

// NewCCancelRQ returns a C-CANCEL-RQ for the operation with message ID id.
func NewCCancelRQ(id uint16) *Command {
	return &Command{CommandField: CCancelRQ, MessageIDBeingRespondedTo: id, CommandDataSetType: NoDataSet}
}

// NewNCreateRQ returns an N-CREATE-RQ; sopInstance may be empty (the SCP
// then assigns one). withData tells whether an attribute list follows.
func NewNCreateRQ(sopClass, sopInstance string, withData bool) *Command {
	return &Command{CommandField: NCreateRQ, AffectedSOPClassUID: sopClass, AffectedSOPInstanceUID: sopInstance, CommandDataSetType: dsType(withData)}
}

// NewNSetRQ returns an N-SET-RQ (the modification list follows).
func NewNSetRQ(sopClass, sopInstance string) *Command {
	return &Command{CommandField: NSetRQ, RequestedSOPClassUID: sopClass, RequestedSOPInstanceUID: sopInstance, CommandDataSetType: dataSetPresent}
}

// NewNActionRQ returns an N-ACTION-RQ.
func NewNActionRQ(sopClass, sopInstance string, actionTypeID uint16, withData bool) *Command {
	c := &Command{CommandField: NActionRQ, RequestedSOPClassUID: sopClass, RequestedSOPInstanceUID: sopInstance, CommandDataSetType: dsType(withData)}
	c.SetActionTypeID(actionTypeID)
	return c
}

// NewNEventReportRQ returns an N-EVENT-REPORT-RQ.
func NewNEventReportRQ(sopClass, sopInstance string, eventTypeID uint16, withData bool) *Command {
	c := &Command{CommandField: NEventReportRQ, AffectedSOPClassUID: sopClass, AffectedSOPInstanceUID: sopInstance, CommandDataSetType: dsType(withData)}
	c.SetEventTypeID(eventTypeID)
	return c
}

// NewResponse returns the response command for request rq with the given
// status. The affected SOP class/instance are copied from the request
// (N-SET/N-ACTION requested UIDs become affected UIDs in the response).
func NewResponse(rq *Command, status uint16) *Command {
	c := &Command{
		CommandField:              rq.CommandField | 0x8000,
		MessageIDBeingRespondedTo: rq.MessageID,
		AffectedSOPClassUID:       rq.AffectedSOPClassUID,
		AffectedSOPInstanceUID:    rq.AffectedSOPInstanceUID,
		Status:                    status,
		CommandDataSetType:        NoDataSet,
	}
	if c.AffectedSOPClassUID == "" {
		c.AffectedSOPClassUID = rq.RequestedSOPClassUID
	}
	if c.AffectedSOPInstanceUID == "" {
		c.AffectedSOPInstanceUID = rq.RequestedSOPInstanceUID
	}
	switch rq.CommandField {
	case CFindRQ, CMoveRQ, CGetRQ:
		// C-FIND/C-MOVE/C-GET responses carry no affected SOP instance.
		c.AffectedSOPInstanceUID = ""
	case NActionRQ:
		c.SetActionTypeID(rq.ActionTypeID)
	case NEventReportRQ:
		c.SetEventTypeID(rq.EventTypeID)
	}
	return c
}

func dsType(withData bool) uint16 {
	if withData {
		return dataSetPresent
	}
	return NoDataSet
}
