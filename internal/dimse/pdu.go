package dimse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// PDUType is the first byte of every upper-layer PDU (PS3.8 9.3).
type PDUType byte

// PDU types.
const (
	PDUAssociateRQ PDUType = 0x01
	PDUAssociateAC PDUType = 0x02
	PDUAssociateRJ PDUType = 0x03
	PDUPData       PDUType = 0x04
	PDUReleaseRQ   PDUType = 0x05
	PDUReleaseRP   PDUType = 0x06
	PDUAbort       PDUType = 0x07
)

func (t PDUType) String() string {
	switch t {
	case PDUAssociateRQ:
		return "A-ASSOCIATE-RQ"
	case PDUAssociateAC:
		return "A-ASSOCIATE-AC"
	case PDUAssociateRJ:
		return "A-ASSOCIATE-RJ"
	case PDUPData:
		return "P-DATA-TF"
	case PDUReleaseRQ:
		return "A-RELEASE-RQ"
	case PDUReleaseRP:
		return "A-RELEASE-RP"
	case PDUAbort:
		return "A-ABORT"
	}
	return fmt.Sprintf("PDU(0x%02x)", byte(t))
}

// Item types used inside A-ASSOCIATE PDUs.
const (
	itemAppContext        = 0x10
	itemPresContextRQ     = 0x20
	itemPresContextAC     = 0x21
	itemAbstractSyntax    = 0x30
	itemTransferSyntax    = 0x40
	itemUserInfo          = 0x50
	subMaxLength          = 0x51
	subImplClassUID       = 0x52
	subAsyncOps           = 0x53
	subRoleSelection      = 0x54
	subImplVersionName    = 0x55
	subUserIdentityRQ     = 0x58
	subUserIdentityAC     = 0x59
	pduHeaderLen          = 6
	assocFixedLen         = 68 // protocol version .. reserved, after the PDU header
	pdvHeaderLen          = 6  // item length (4) + context ID (1) + message control header (1)
	maxAssociatePDULen    = 1 << 20
	maxUIDLen             = 64
	aeTitleLen            = 16
	defaultMaxPDULength   = 256 * 1024
	minMaxPDULength       = 4096
	pdvFlagCommand        = 0x01
	pdvFlagLast           = 0x02
	DefaultMaxPDULength   = defaultMaxPDULength
	ApplicationContextUID = "1.2.840.10008.3.1.1.1"
)

// ProtocolError is a malformed or unexpected PDU. Reason is the A-ABORT
// reason (PS3.8 9.3.8) that the upper layer sends back to the peer.
type ProtocolError struct {
	Reason AbortReason
	Msg    string
}

func (e *ProtocolError) Error() string { return "dimse: protocol error: " + e.Msg }

func protoErr(reason AbortReason, format string, args ...any) error {
	return &ProtocolError{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// AbortSource is the source field of an A-ABORT PDU.
type AbortSource byte

// Abort sources.
const (
	AbortSourceServiceUser     AbortSource = 0
	AbortSourceServiceProvider AbortSource = 2
)

// AbortReason is the reason field of an A-ABORT PDU (meaningful for
// service-provider aborts only).
type AbortReason byte

// Abort reasons (PS3.8 Table 9-26).
const (
	AbortReasonNotSpecified          AbortReason = 0
	AbortReasonUnrecognizedPDU       AbortReason = 1
	AbortReasonUnexpectedPDU         AbortReason = 2
	AbortReasonUnrecognizedParameter AbortReason = 4
	AbortReasonUnexpectedParameter   AbortReason = 5
	AbortReasonInvalidParameter      AbortReason = 6
)

// PDU is one decoded upper-layer protocol data unit.
type PDU interface {
	Type() PDUType
	// appendTo appends the complete encoded PDU (header included).
	appendTo(b []byte) ([]byte, error)
}

// AssociateRQ is an A-ASSOCIATE-RQ PDU.
type AssociateRQ struct {
	ProtocolVersion      uint16
	CalledAE             string
	CallingAE            string
	ApplicationContext   string
	PresentationContexts []PresentationContextRQ
	UserInfo             UserInfo
}

// AssociateAC is an A-ASSOCIATE-AC PDU.
type AssociateAC struct {
	ProtocolVersion      uint16
	CalledAE             string // echoed from the request, not tested by the requestor
	CallingAE            string
	ApplicationContext   string
	PresentationContexts []PresentationContextAC
	UserInfo             UserInfo
}

// PresentationContextRQ is a proposed presentation context.
type PresentationContextRQ struct {
	ID               byte
	AbstractSyntax   string
	TransferSyntaxes []string
}

// PCResult is the result/reason of a presentation context negotiation.
type PCResult byte

// Presentation context results (PS3.8 Table 9-18).
const (
	PCAcceptance                   PCResult = 0
	PCUserRejection                PCResult = 1
	PCNoReason                     PCResult = 2
	PCAbstractSyntaxNotSupported   PCResult = 3
	PCTransferSyntaxesNotSupported PCResult = 4
)

// PresentationContextAC is the acceptor's answer for one context.
type PresentationContextAC struct {
	ID             byte
	Result         PCResult
	TransferSyntax string
}

// UserInfo holds the user information item sub-items.
type UserInfo struct {
	MaxPDULength              uint32 // 0 = unlimited
	ImplementationClassUID    string
	ImplementationVersionName string
	AsyncOps                  *AsyncOpsWindow
	RoleSelections            []RoleSelection
	UserIdentity              *UserIdentity // RQ only
	UserIdentityResponse      []byte        // AC only; non-nil when present
	// Other holds sub-items this package does not interpret (extended
	// negotiation), kept opaque.
	Other []RawItem
}

// RawItem is an item kept undecoded.
type RawItem struct {
	Type byte
	Data []byte
}

// AsyncOpsWindow is the asynchronous operations window sub-item.
type AsyncOpsWindow struct {
	MaxInvoked   uint16
	MaxPerformed uint16
}

// RoleSelection is an SCP/SCU role selection sub-item.
type RoleSelection struct {
	SOPClassUID string
	SCURole     bool
	SCPRole     bool
}

// UserIdentityType is the user identity type of PS3.7 D.3.3.7.
type UserIdentityType byte

// User identity types.
const (
	IdentityUsername         UserIdentityType = 1
	IdentityUsernamePasscode UserIdentityType = 2
	IdentityKerberos         UserIdentityType = 3
	IdentitySAML             UserIdentityType = 4
	IdentityJWT              UserIdentityType = 5
)

// UserIdentity is the user identity negotiation request sub-item.
type UserIdentity struct {
	Type                      UserIdentityType
	PositiveResponseRequested bool
	Username                  string // primary field
	Passcode                  string // secondary field (type 2 only)
}

// AssociateRJ is an A-ASSOCIATE-RJ PDU.
type AssociateRJ struct {
	Result RejectResult
	Source RejectSource
	Reason RejectReason
}

// PData is a P-DATA-TF PDU.
type PData struct {
	PDVs []PDV
}

// PDV is one presentation data value item.
type PDV struct {
	ContextID byte
	Command   bool
	Last      bool
	Data      []byte
}

// ReleaseRQ is an A-RELEASE-RQ PDU.
type ReleaseRQ struct{}

// ReleaseRP is an A-RELEASE-RP PDU.
type ReleaseRP struct{}

// Abort is an A-ABORT PDU.
type Abort struct {
	Source AbortSource
	Reason AbortReason
}

// Type implementations.
func (*AssociateRQ) Type() PDUType { return PDUAssociateRQ }
func (*AssociateAC) Type() PDUType { return PDUAssociateAC }
func (*AssociateRJ) Type() PDUType { return PDUAssociateRJ }
func (*PData) Type() PDUType       { return PDUPData }
func (*ReleaseRQ) Type() PDUType   { return PDUReleaseRQ }
func (*ReleaseRP) Type() PDUType   { return PDUReleaseRP }
func (*Abort) Type() PDUType       { return PDUAbort }

// ---------------------------------------------------------------------------
// Reading

// ReadPDU reads exactly one PDU from r. maxPData bounds the length of a
// P-DATA-TF PDU (the value we announced as maximum length received; 0 means
// no limit); other PDUs are bounded by 1 MiB. buf is an optional scratch
// buffer that is reused when large enough; decoded P-DATA values alias it.
func ReadPDU(r io.Reader, maxPData uint32, buf []byte) (PDU, []byte, error) {
	var hdr [pduHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, buf, err
	}
	typ, length, err := checkHeader(hdr, maxPData)
	if err != nil {
		return nil, buf, err
	}
	if cap(buf) < int(length) {
		buf = make([]byte, length)
	}
	body := buf[:length]
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, buf, err
	}
	p, err := decodeBody(typ, body)
	return p, buf, err
}

func checkHeader(hdr [pduHeaderLen]byte, maxPData uint32) (PDUType, uint32, error) {
	typ := PDUType(hdr[0])
	length := binary.BigEndian.Uint32(hdr[2:])
	switch typ {
	case PDUPData:
		// The announced maximum covers the PDU's variable field.
		if maxPData != 0 && length > maxPData {
			return typ, 0, protoErr(AbortReasonInvalidParameter, "P-DATA-TF length %d exceeds maximum %d", length, maxPData)
		}
		if maxPData == 0 && length > 64<<20 {
			return typ, 0, protoErr(AbortReasonInvalidParameter, "P-DATA-TF length %d too large", length)
		}
	case PDUAssociateRQ, PDUAssociateAC:
		if length > maxAssociatePDULen {
			return typ, 0, protoErr(AbortReasonInvalidParameter, "%v length %d too large", typ, length)
		}
	case PDUAssociateRJ, PDUReleaseRQ, PDUReleaseRP, PDUAbort:
		if length != 4 {
			return typ, 0, protoErr(AbortReasonInvalidParameter, "%v length %d, want 4", typ, length)
		}
	default:
		return typ, 0, protoErr(AbortReasonUnrecognizedPDU, "unknown PDU type 0x%02x", byte(typ))
	}
	return typ, length, nil
}

// DecodePDU decodes one complete PDU held in b (header included).
func DecodePDU(b []byte) (PDU, error) {
	if len(b) < pduHeaderLen {
		return nil, protoErr(AbortReasonInvalidParameter, "short PDU header")
	}
	typ, length, err := checkHeader([pduHeaderLen]byte(b[:pduHeaderLen]), 0)
	if err != nil {
		return nil, err
	}
	if uint64(len(b)-pduHeaderLen) != uint64(length) {
		return nil, protoErr(AbortReasonInvalidParameter, "PDU length %d does not match %d bytes present", length, len(b)-pduHeaderLen)
	}
	return decodeBody(typ, b[pduHeaderLen:])
}

func decodeBody(typ PDUType, body []byte) (PDU, error) {
	switch typ {
	case PDUAssociateRQ:
		return decodeAssociateRQ(body)
	case PDUAssociateAC:
		return decodeAssociateAC(body)
	case PDUAssociateRJ:
		return &AssociateRJ{Result: RejectResult(body[1]), Source: RejectSource(body[2]), Reason: RejectReason(body[3])}, nil
	case PDUPData:
		return decodePData(body)
	case PDUReleaseRQ:
		return &ReleaseRQ{}, nil
	case PDUReleaseRP:
		return &ReleaseRP{}, nil
	case PDUAbort:
		return &Abort{Source: AbortSource(body[2]), Reason: AbortReason(body[3])}, nil
	}
	return nil, protoErr(AbortReasonUnrecognizedPDU, "unknown PDU type 0x%02x", byte(typ))
}

func decodePData(body []byte) (*PData, error) {
	p := &PData{}
	if len(body) == 0 {
		return nil, protoErr(AbortReasonInvalidParameter, "P-DATA-TF without PDV")
	}
	for len(body) > 0 {
		v, n, err := pdvHeader(body, len(body))
		if err != nil {
			return nil, err
		}
		v.Data = body[pdvHeaderLen : pdvHeaderLen+n]
		p.PDVs = append(p.PDVs, v)
		body = body[pdvHeaderLen+n:]
	}
	return p, nil
}

// pdvHeader checks the PDV header at the start of hdr, with rem bytes of
// the P-DATA-TF body left from it, and returns the PDV (without its data)
// and its data's length. decodePData and the association's reader
// (readPDVs, which reads the data straight into its consumer's buffer)
// check PDVs alike through it.
func pdvHeader(hdr []byte, rem int) (PDV, int, error) {
	if rem < pdvHeaderLen || len(hdr) < pdvHeaderLen {
		return PDV{}, 0, protoErr(AbortReasonInvalidParameter, "truncated PDV header")
	}
	n := binary.BigEndian.Uint32(hdr)
	if n < 2 || uint64(n) > uint64(rem-4) {
		return PDV{}, 0, protoErr(AbortReasonInvalidParameter, "PDV length %d invalid (%d bytes left)", n, rem-4)
	}
	id, mch := hdr[4], hdr[5]
	if id == 0 || id%2 == 0 {
		return PDV{}, 0, protoErr(AbortReasonInvalidParameter, "PDV presentation context ID %d invalid", id)
	}
	if mch&^0x03 != 0 {
		return PDV{}, 0, protoErr(AbortReasonInvalidParameter, "PDV message control header 0x%02x invalid", mch)
	}
	return PDV{ContextID: id, Command: mch&pdvFlagCommand != 0, Last: mch&pdvFlagLast != 0}, int(n) - 2, nil
}

// itemReader walks a sequence of items with a 1-byte type, 1 reserved byte
// and a 2-byte big endian length.
type itemReader struct {
	b   []byte
	ctx string
}

func (r *itemReader) next() (typ byte, data []byte, ok bool, err error) {
	if len(r.b) == 0 {
		return 0, nil, false, nil
	}
	if len(r.b) < 4 {
		return 0, nil, false, protoErr(AbortReasonInvalidParameter, "%s: truncated item header", r.ctx)
	}
	typ = r.b[0]
	n := int(binary.BigEndian.Uint16(r.b[2:]))
	if n > len(r.b)-4 {
		return 0, nil, false, protoErr(AbortReasonInvalidParameter, "%s: item 0x%02x length %d exceeds %d bytes left", r.ctx, typ, n, len(r.b)-4)
	}
	data = r.b[4 : 4+n]
	r.b = r.b[4+n:]
	return typ, data, true, nil
}

// eachItem calls fn for every item in b in turn (ctx names them in
// errors), stopping at the first error.
func eachItem(b []byte, ctx string, fn func(typ byte, data []byte) error) error {
	r := itemReader{b: b, ctx: ctx}
	for {
		typ, data, ok, err := r.next()
		if err != nil || !ok {
			return err
		}
		if err := fn(typ, data); err != nil {
			return err
		}
	}
}

func trimAE(b []byte) string { return strings.Trim(string(b), " \x00") }

func trimUID(b []byte) (string, error) {
	s := strings.TrimRight(string(b), "\x00 ")
	if len(s) > maxUIDLen {
		return "", protoErr(AbortReasonInvalidParameter, "UID longer than 64 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '.' && (c < '0' || c > '9') {
			return "", protoErr(AbortReasonInvalidParameter, "invalid character 0x%02x in UID", c)
		}
	}
	return s, nil
}

func decodeAssocHeader(body []byte) (ver uint16, called, calling string, items []byte, err error) {
	if len(body) < assocFixedLen {
		return 0, "", "", nil, protoErr(AbortReasonInvalidParameter, "A-ASSOCIATE PDU too short (%d bytes)", len(body))
	}
	ver = binary.BigEndian.Uint16(body)
	called = trimAE(body[4:20])
	calling = trimAE(body[20:36])
	return ver, called, calling, body[assocFixedLen:], nil
}

// assocFields are what A-ASSOCIATE-RQ and -AC share (PS3.8 §9.3.2, §9.3.3).
type assocFields struct {
	ver             uint16
	called, calling string
	appCtx          string
	ui              UserInfo
	seenUI          bool
}

// decodeAssoc decodes the fixed header and the items of an A-ASSOCIATE-RQ
// (rq) or -AC named name: the application context, at most one user
// information item and, in order, each presentation context item of type
// pcItem decoded by decodePC.
func decodeAssoc[PC any](body []byte, name string, pcItem byte, rq bool, decodePC func([]byte) (PC, error)) (f assocFields, pcs []PC, err error) {
	var items []byte
	if f.ver, f.called, f.calling, items, err = decodeAssocHeader(body); err != nil {
		return f, nil, err
	}
	err = eachItem(items, name, func(typ byte, data []byte) (err error) {
		switch typ {
		case itemAppContext:
			f.appCtx, err = trimUID(data)
		case pcItem:
			var pc PC
			pc, err = decodePC(data)
			pcs = append(pcs, pc)
		case itemUserInfo:
			if f.seenUI {
				return protoErr(AbortReasonUnexpectedParameter, "duplicate user information item")
			}
			f.seenUI = true
			f.ui, err = decodeUserInfo(data, rq)
		default:
			return protoErr(AbortReasonUnrecognizedParameter, "%s: unknown item type 0x%02x", name, typ)
		}
		return err
	})
	return f, pcs, err
}

func decodeAssociateRQ(body []byte) (*AssociateRQ, error) {
	f, pcs, err := decodeAssoc(body, "A-ASSOCIATE-RQ", itemPresContextRQ, true, decodePCRQ)
	if err != nil {
		return nil, err
	}
	rq := &AssociateRQ{ProtocolVersion: f.ver, CalledAE: f.called, CallingAE: f.calling, ApplicationContext: f.appCtx, PresentationContexts: pcs, UserInfo: f.ui}
	if rq.ApplicationContext == "" {
		return nil, protoErr(AbortReasonInvalidParameter, "A-ASSOCIATE-RQ without application context")
	}
	if len(rq.PresentationContexts) == 0 {
		return nil, protoErr(AbortReasonInvalidParameter, "A-ASSOCIATE-RQ without presentation context")
	}
	if !f.seenUI {
		return nil, protoErr(AbortReasonInvalidParameter, "A-ASSOCIATE-RQ without user information")
	}
	return rq, nil
}

func decodePCRQ(data []byte) (PresentationContextRQ, error) {
	var pc PresentationContextRQ
	if len(data) < 4 {
		return pc, protoErr(AbortReasonInvalidParameter, "presentation context item too short")
	}
	pc.ID = data[0]
	if pc.ID%2 == 0 {
		return pc, protoErr(AbortReasonInvalidParameter, "presentation context ID %d is not odd", pc.ID)
	}
	haveAS := false
	err := eachItem(data[4:], "presentation context", func(typ byte, d []byte) (err error) {
		switch typ {
		case itemAbstractSyntax:
			if haveAS {
				return protoErr(AbortReasonUnexpectedParameter, "presentation context %d: two abstract syntaxes", pc.ID)
			}
			haveAS = true
			pc.AbstractSyntax, err = trimUID(d)
		case itemTransferSyntax:
			var ts string
			if ts, err = trimUID(d); err == nil {
				pc.TransferSyntaxes = append(pc.TransferSyntaxes, ts)
			}
		default:
			return protoErr(AbortReasonUnrecognizedParameter, "presentation context %d: unknown sub-item 0x%02x", pc.ID, typ)
		}
		return err
	})
	if err != nil {
		return pc, err
	}
	if !haveAS || len(pc.TransferSyntaxes) == 0 {
		return pc, protoErr(AbortReasonInvalidParameter, "presentation context %d: missing abstract or transfer syntax", pc.ID)
	}
	return pc, nil
}

func decodeAssociateAC(body []byte) (*AssociateAC, error) {
	f, pcs, err := decodeAssoc(body, "A-ASSOCIATE-AC", itemPresContextAC, false, decodePCAC)
	if err != nil {
		return nil, err
	}
	return &AssociateAC{ProtocolVersion: f.ver, CalledAE: f.called, CallingAE: f.calling, ApplicationContext: f.appCtx, PresentationContexts: pcs, UserInfo: f.ui}, nil
}

func decodePCAC(data []byte) (PresentationContextAC, error) {
	var pc PresentationContextAC
	if len(data) < 4 {
		return pc, protoErr(AbortReasonInvalidParameter, "presentation context AC item too short")
	}
	pc = PresentationContextAC{ID: data[0], Result: PCResult(data[2])}
	if pc.Result > PCTransferSyntaxesNotSupported {
		return pc, protoErr(AbortReasonInvalidParameter, "presentation context %d: result %d invalid", pc.ID, pc.Result)
	}
	err := eachItem(data[4:], "presentation context AC", func(st byte, d []byte) (err error) {
		if st != itemTransferSyntax {
			return protoErr(AbortReasonUnrecognizedParameter, "presentation context AC: unknown sub-item 0x%02x", st)
		}
		pc.TransferSyntax, err = trimUID(d)
		return err
	})
	if err != nil {
		return pc, err
	}
	if pc.Result == PCAcceptance && pc.TransferSyntax == "" {
		return pc, protoErr(AbortReasonInvalidParameter, "accepted presentation context %d without transfer syntax", pc.ID)
	}
	return pc, nil
}

func decodeUserInfo(data []byte, rq bool) (UserInfo, error) {
	var ui UserInfo
	err := eachItem(data, "user information", func(typ byte, d []byte) (err error) {
		switch typ {
		case subMaxLength:
			if len(d) != 4 {
				return protoErr(AbortReasonInvalidParameter, "maximum length sub-item length %d", len(d))
			}
			ui.MaxPDULength = binary.BigEndian.Uint32(d)
		case subImplClassUID:
			if ui.ImplementationClassUID, err = trimUID(d); err != nil {
				return err
			}
		case subImplVersionName:
			if len(d) > 16 {
				return protoErr(AbortReasonInvalidParameter, "implementation version name too long")
			}
			ui.ImplementationVersionName = trimAE(d)
		case subAsyncOps:
			if len(d) != 4 {
				return protoErr(AbortReasonInvalidParameter, "asynchronous operations window length %d", len(d))
			}
			ui.AsyncOps = &AsyncOpsWindow{MaxInvoked: binary.BigEndian.Uint16(d), MaxPerformed: binary.BigEndian.Uint16(d[2:])}
		case subRoleSelection:
			if len(d) < 4 {
				return protoErr(AbortReasonInvalidParameter, "role selection too short")
			}
			n := int(binary.BigEndian.Uint16(d))
			if n+4 != len(d) {
				return protoErr(AbortReasonInvalidParameter, "role selection UID length %d does not match item", n)
			}
			uid, err := trimUID(d[2 : 2+n])
			if err != nil {
				return err
			}
			ui.RoleSelections = append(ui.RoleSelections, RoleSelection{SOPClassUID: uid, SCURole: d[2+n] == 1, SCPRole: d[3+n] == 1})
		case subUserIdentityRQ:
			if !rq {
				return protoErr(AbortReasonUnexpectedParameter, "user identity request in A-ASSOCIATE-AC")
			}
			if len(d) < 6 {
				return protoErr(AbortReasonInvalidParameter, "user identity too short")
			}
			id := &UserIdentity{Type: UserIdentityType(d[0]), PositiveResponseRequested: d[1] == 1}
			n := int(binary.BigEndian.Uint16(d[2:]))
			if 4+n+2 > len(d) {
				return protoErr(AbortReasonInvalidParameter, "user identity primary field length %d exceeds item", n)
			}
			id.Username = string(d[4 : 4+n])
			m := int(binary.BigEndian.Uint16(d[4+n:]))
			if 6+n+m != len(d) {
				return protoErr(AbortReasonInvalidParameter, "user identity secondary field length %d does not match item", m)
			}
			id.Passcode = string(d[6+n:])
			if id.Type < IdentityUsername || id.Type > IdentityJWT {
				return protoErr(AbortReasonInvalidParameter, "user identity type %d unknown", id.Type)
			}
			ui.UserIdentity = id
		case subUserIdentityAC:
			if rq {
				return protoErr(AbortReasonUnexpectedParameter, "user identity response in A-ASSOCIATE-RQ")
			}
			if len(d) < 2 {
				return protoErr(AbortReasonInvalidParameter, "user identity response too short")
			}
			n := int(binary.BigEndian.Uint16(d))
			if n+2 != len(d) {
				return protoErr(AbortReasonInvalidParameter, "user identity response length %d does not match item", n)
			}
			ui.UserIdentityResponse = append([]byte{}, d[2:]...)
		default:
			ui.Other = append(ui.Other, RawItem{Type: typ, Data: append([]byte(nil), d...)})
		}
		return nil
	})
	return ui, err
}

// ---------------------------------------------------------------------------
// Writing

// EncodePDU returns the wire form of p.
func EncodePDU(p PDU) ([]byte, error) { return p.appendTo(nil) }

func appendHeader(b []byte, t PDUType) ([]byte, int) {
	b = append(b, byte(t), 0, 0, 0, 0, 0)
	return b, len(b)
}

func finishHeader(b []byte, start int) ([]byte, error) {
	n := len(b) - start
	if uint64(n) > 0xFFFFFFFF {
		return nil, errors.New("dimse: PDU too large")
	}
	binary.BigEndian.PutUint32(b[start-4:], uint32(n))
	return b, nil
}

func beginItem(b []byte, typ byte) ([]byte, int) {
	b = append(b, typ, 0, 0, 0)
	return b, len(b)
}

func endItem(b []byte, start int) ([]byte, error) {
	n := len(b) - start
	if n > 0xFFFF {
		return nil, fmt.Errorf("dimse: item 0x%02x too long (%d bytes)", b[start-4], n)
	}
	binary.BigEndian.PutUint16(b[start-2:], uint16(n))
	return b, nil
}

func appendItem(b []byte, typ byte, data string) ([]byte, error) {
	b, s := beginItem(b, typ)
	b = append(b, data...)
	return endItem(b, s)
}

func appendAE(b []byte, ae string) []byte {
	var f [aeTitleLen]byte
	for i := range f {
		f[i] = ' '
	}
	copy(f[:], ae)
	return append(b, f[:]...)
}

func appendAssocHeader(b []byte, ver uint16, called, calling, appCtx string) ([]byte, error) {
	if ver == 0 {
		ver = 1
	}
	b = binary.BigEndian.AppendUint16(b, ver)
	b = append(b, 0, 0)
	b = appendAE(b, called)
	b = appendAE(b, calling)
	b = append(b, make([]byte, 32)...)
	if appCtx == "" {
		appCtx = ApplicationContextUID
	}
	return appendItem(b, itemAppContext, appCtx)
}

// appendAssoc encodes an A-ASSOCIATE-RQ or -AC (PS3.8 §9.3.2, §9.3.3):
// the fixed header and application context, n presentation context items
// of type pcItem whose content pc appends, and the user information.
func appendAssoc(b []byte, typ PDUType, ver uint16, called, calling, appCtx string, pcItem byte, n int, pc func(b []byte, i int) ([]byte, error), ui *UserInfo) ([]byte, error) {
	b, start := appendHeader(b, typ)
	b, err := appendAssocHeader(b, ver, called, calling, appCtx)
	if err != nil {
		return nil, err
	}
	for i := range n {
		var s int
		b, s = beginItem(b, pcItem)
		if b, err = pc(b, i); err != nil {
			return nil, err
		}
		if b, err = endItem(b, s); err != nil {
			return nil, err
		}
	}
	if b, err = appendUserInfo(b, ui, typ == PDUAssociateRQ); err != nil {
		return nil, err
	}
	return finishHeader(b, start)
}

func (p *AssociateRQ) appendTo(b []byte) ([]byte, error) {
	return appendAssoc(b, PDUAssociateRQ, p.ProtocolVersion, p.CalledAE, p.CallingAE, p.ApplicationContext,
		itemPresContextRQ, len(p.PresentationContexts), func(b []byte, i int) ([]byte, error) {
			pc := p.PresentationContexts[i]
			b = append(b, pc.ID, 0, 0, 0)
			b, err := appendItem(b, itemAbstractSyntax, pc.AbstractSyntax)
			for _, ts := range pc.TransferSyntaxes {
				if err != nil {
					break
				}
				b, err = appendItem(b, itemTransferSyntax, ts)
			}
			return b, err
		}, &p.UserInfo)
}

func (p *AssociateAC) appendTo(b []byte) ([]byte, error) {
	return appendAssoc(b, PDUAssociateAC, p.ProtocolVersion, p.CalledAE, p.CallingAE, p.ApplicationContext,
		itemPresContextAC, len(p.PresentationContexts), func(b []byte, i int) ([]byte, error) {
			pc := p.PresentationContexts[i]
			b = append(b, pc.ID, 0, byte(pc.Result), 0)
			// A transfer syntax sub-item is always present; its value is not
			// significant when the context is rejected.
			return appendItem(b, itemTransferSyntax, pc.TransferSyntax)
		}, &p.UserInfo)
}

func appendUserInfo(b []byte, ui *UserInfo, rq bool) ([]byte, error) {
	b, s := beginItem(b, itemUserInfo)
	var err error
	b, ms := beginItem(b, subMaxLength)
	b = binary.BigEndian.AppendUint32(b, ui.MaxPDULength)
	if b, err = endItem(b, ms); err != nil {
		return nil, err
	}
	if ui.ImplementationClassUID != "" {
		if b, err = appendItem(b, subImplClassUID, ui.ImplementationClassUID); err != nil {
			return nil, err
		}
	}
	if ui.AsyncOps != nil {
		var as int
		b, as = beginItem(b, subAsyncOps)
		b = binary.BigEndian.AppendUint16(b, ui.AsyncOps.MaxInvoked)
		b = binary.BigEndian.AppendUint16(b, ui.AsyncOps.MaxPerformed)
		if b, err = endItem(b, as); err != nil {
			return nil, err
		}
	}
	for _, rs := range ui.RoleSelections {
		var rsStart int
		b, rsStart = beginItem(b, subRoleSelection)
		b = binary.BigEndian.AppendUint16(b, uint16(len(rs.SOPClassUID)))
		b = append(b, rs.SOPClassUID...)
		b = append(b, boolByte(rs.SCURole), boolByte(rs.SCPRole))
		if b, err = endItem(b, rsStart); err != nil {
			return nil, err
		}
	}
	if ui.ImplementationVersionName != "" {
		if b, err = appendItem(b, subImplVersionName, ui.ImplementationVersionName); err != nil {
			return nil, err
		}
	}
	for _, o := range ui.Other {
		if b, err = appendItem(b, o.Type, string(o.Data)); err != nil {
			return nil, err
		}
	}
	if rq && ui.UserIdentity != nil {
		id := ui.UserIdentity
		if len(id.Username) > 0xFFFF || len(id.Passcode) > 0xFFFF {
			return nil, errors.New("dimse: user identity field too long")
		}
		var is int
		b, is = beginItem(b, subUserIdentityRQ)
		b = append(b, byte(id.Type), boolByte(id.PositiveResponseRequested))
		b = binary.BigEndian.AppendUint16(b, uint16(len(id.Username)))
		b = append(b, id.Username...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(id.Passcode)))
		b = append(b, id.Passcode...)
		if b, err = endItem(b, is); err != nil {
			return nil, err
		}
	}
	if !rq && ui.UserIdentityResponse != nil {
		var is int
		b, is = beginItem(b, subUserIdentityAC)
		b = binary.BigEndian.AppendUint16(b, uint16(len(ui.UserIdentityResponse)))
		b = append(b, ui.UserIdentityResponse...)
		if b, err = endItem(b, is); err != nil {
			return nil, err
		}
	}
	return endItem(b, s)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func (p *AssociateRJ) appendTo(b []byte) ([]byte, error) {
	return append(b, byte(PDUAssociateRJ), 0, 0, 0, 0, 4, 0, byte(p.Result), byte(p.Source), byte(p.Reason)), nil
}

func (p *ReleaseRQ) appendTo(b []byte) ([]byte, error) {
	return append(b, byte(PDUReleaseRQ), 0, 0, 0, 0, 4, 0, 0, 0, 0), nil
}

func (p *ReleaseRP) appendTo(b []byte) ([]byte, error) {
	return append(b, byte(PDUReleaseRP), 0, 0, 0, 0, 4, 0, 0, 0, 0), nil
}

func (p *Abort) appendTo(b []byte) ([]byte, error) {
	return append(b, byte(PDUAbort), 0, 0, 0, 0, 4, 0, 0, byte(p.Source), byte(p.Reason)), nil
}

func (p *PData) appendTo(b []byte) ([]byte, error) {
	b, start := appendHeader(b, PDUPData)
	for _, v := range p.PDVs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(v.Data)+2))
		var mch byte
		if v.Command {
			mch |= pdvFlagCommand
		}
		if v.Last {
			mch |= pdvFlagLast
		}
		b = append(b, v.ContextID, mch)
		b = append(b, v.Data...)
	}
	return finishHeader(b, start)
}
