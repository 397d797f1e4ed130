package dimse

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"

	"lightbox/internal/dcm"
)

func samplePDUs() []PDU {
	return []PDU{
		&AssociateRQ{ProtocolVersion: 1, CalledAE: "LIGHTBOX", CallingAE: "MODALITY", ApplicationContext: ApplicationContextUID,
			PresentationContexts: []PresentationContextRQ{
				{ID: 1, AbstractSyntax: VerificationSOPClass, TransferSyntaxes: []string{dcm.ImplicitVRLittleEndian}},
				{ID: 3, AbstractSyntax: scImageStorage, TransferSyntaxes: []string{dcm.ExplicitVRLittleEndian, dcm.JPEG2000, dcm.HTJ2K}},
			},
			UserInfo: UserInfo{MaxPDULength: 16384, ImplementationClassUID: "1.2.3.4", ImplementationVersionName: "TEST_1",
				AsyncOps:       &AsyncOpsWindow{MaxInvoked: 2, MaxPerformed: 3},
				RoleSelections: []RoleSelection{{SOPClassUID: scImageStorage, SCURole: true, SCPRole: true}},
				UserIdentity:   &UserIdentity{Type: IdentityUsernamePasscode, PositiveResponseRequested: true, Username: "alice", Passcode: "pw"},
				Other:          []RawItem{{Type: 0x56, Data: []byte{0, 4, '1', '.', '2', '3', 1}}},
			}},
		&AssociateAC{ProtocolVersion: 1, CalledAE: "LIGHTBOX", CallingAE: "MODALITY", ApplicationContext: ApplicationContextUID,
			PresentationContexts: []PresentationContextAC{
				{ID: 1, Result: PCAcceptance, TransferSyntax: dcm.ImplicitVRLittleEndian},
				{ID: 3, Result: PCTransferSyntaxesNotSupported, TransferSyntax: ""},
			},
			UserInfo: UserInfo{MaxPDULength: 0, ImplementationClassUID: "1.2.3.4", UserIdentityResponse: []byte{}}},
		&AssociateRJ{Result: RejectPermanent, Source: RejectSourceServiceUser, Reason: ReasonCalledAENotRecognized},
		&PData{PDVs: []PDV{{ContextID: 1, Command: true, Last: true, Data: []byte{1, 2, 3}}, {ContextID: 3, Last: false, Data: []byte{}}}},
		&ReleaseRQ{}, &ReleaseRP{},
		&Abort{Source: AbortSourceServiceProvider, Reason: AbortReasonInvalidParameter},
	}
}

func TestPDURoundTrip(t *testing.T) {
	for _, p := range samplePDUs() {
		b, err := EncodePDU(p)
		if err != nil {
			t.Fatalf("%v: %v", p.Type(), err)
		}
		got, err := DecodePDU(b)
		if err != nil {
			t.Fatalf("%v: decode: %v", p.Type(), err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("%v: round trip\n got %#v\nwant %#v", p.Type(), got, p)
		}
		got2, _, err := ReadPDU(bytes.NewReader(b), 1<<20, nil)
		if err != nil || !reflect.DeepEqual(got2, p) {
			t.Errorf("%v: ReadPDU: %v", p.Type(), err)
		}
		// Every truncation is an error, never a panic.
		for i := 0; i < len(b); i++ {
			if _, err := DecodePDU(b[:i]); err == nil {
				t.Errorf("%v: truncated to %d decoded", p.Type(), i)
			}
		}
	}
}

func TestPDUMaxLength(t *testing.T) {
	b, _ := EncodePDU(&PData{PDVs: []PDV{{ContextID: 1, Last: true, Data: make([]byte, 100)}}})
	if _, _, err := ReadPDU(bytes.NewReader(b), 50, nil); err == nil {
		t.Fatal("PDU above maximum accepted")
	}
	if _, _, err := ReadPDU(bytes.NewReader(b), 106, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCommandRoundTrip(t *testing.T) {
	move := NewCMoveRQ(StudyRootQRMove, "DEST", PriorityHigh)
	move.MessageID = 7
	rsp := NewResponse(move, StatusPending)
	rsp.SetCounts(3, 2, 1, 0)
	store := NewCStoreRQ(scImageStorage, "1.2.3.4.5", PriorityLow)
	store.MessageID = 9
	store.SetMoveOriginator("ORIGIN", 7)
	nset := NewNSetRQ(ModalityPerformedProcedure, "1.2.3")
	nset.MessageID = 11
	nset.AttributeIdentifierList = []uint32{0x00100010, 0x7FE00010}
	nrsp := NewResponse(nset, StatusInvalidAttributeValue)
	nrsp.ErrorComment = "bad value"
	nrsp.OffendingElement = []uint32{0x00100010}
	nrsp.SetErrorID(5)
	action := NewNActionRQ(StorageCommitmentPushModel, StorageCommitmentPushModelID, 1, true)
	action.MessageID = 12
	event := NewNEventReportRQ(StorageCommitmentPushModel, StorageCommitmentPushModelID, 2, true)
	event.MessageID = 13
	cancel := NewCCancelRQ(7)
	echo := NewCEchoRQ()
	echo.MessageID = 1
	for _, c := range []*Command{move, rsp, store, nset, nrsp, action, event, cancel, echo, NewResponse(action, 0), NewResponse(event, 0)} {
		b, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeCommand(b)
		if err != nil {
			t.Fatalf("%v: %v", c.CommandField, err)
		}
		want := *c
		got.present, want.present = 0, 0
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%v: round trip\n got %+v\nwant %+v", c.CommandField, got, c)
		}
		for i := 1; i < len(b); i++ {
			if _, err := DecodeCommand(b[:i]); err == nil {
				t.Errorf("%v: truncated to %d decoded", c.CommandField, i)
			}
		}
	}
}

func TestFSMTable(t *testing.T) {
	// Happy path requestor: Sta1 -> Sta4 -> Sta5 -> Sta6 -> Sta7 -> Sta1.
	m := newFSM(true)
	for _, step := range []struct {
		e    event
		act  action
		next state
	}{{evt1, ae1, sta4}, {evt2, ae2, sta5}, {evt3, ae3, sta6}, {evt9, dt1, sta6}, {evt10, dt2, sta6},
		{evt11, ar1, sta7}, {evt10, ar6, sta7}, {evt12, ar8, sta9}, {evt14, ar9, sta11}, {evt13, ar3, sta1}} {
		act, next, err := m.step(step.e)
		if err != nil || act != step.act || next != step.next {
			t.Fatalf("%v: got %v->%v (%v), want %v->%v", step.e, act, next, err, step.act, step.next)
		}
	}
	// Acceptor collision goes through Sta10 and Sta12.
	m = newFSM(false)
	for _, step := range []struct {
		e    event
		act  action
		next state
	}{{evt5, ae5, sta2}, {evt6, ae6, sta3}, {evt7, ae7, sta6}, {evt11, ar1, sta7}, {evt12, ar8, sta10},
		{evt13, ar10, sta12}, {evt14, ar4, sta13}, {evt17, ar5, sta1}} {
		act, next, err := m.step(step.e)
		if err != nil || act != step.act || next != step.next {
			t.Fatalf("%v: got %v->%v (%v), want %v->%v", step.e, act, next, err, step.act, step.next)
		}
	}
	// Invalid events leave the state alone.
	m = newFSM(false)
	if _, _, err := m.step(evt9); err == nil || m.state() != sta1 {
		t.Fatal("P-DATA request accepted in Sta1")
	}
	// Every received-PDU event is defined in every connected state.
	for _, e := range []event{evt3, evt4, evt6, evt10, evt12, evt13, evt16, evt17, evt19} {
		for s := sta2; s <= sta13; s++ {
			if s == sta4 && e != evt17 {
				continue
			}
			if fsmTable[e][s].act == actNone && !(e == evt16 && s == sta4) {
				t.Errorf("%v undefined in %v", e, s)
			}
		}
	}
}

func TestStatusClassify(t *testing.T) {
	for s, k := range map[uint16]StatusKind{0: KindSuccess, 0xFF00: KindPending, 0xFF01: KindPending, 0xFE00: KindCancel,
		0xB000: KindWarning, 0xB007: KindWarning, 0xA700: KindFailure, 0xC000: KindFailure, 0x0122: KindFailure, 0x0116: KindWarning} {
		if got := ClassifyStatus(s); got != k {
			t.Errorf("0x%04X: %v, want %v", s, got, k)
		}
	}
}

func TestStorageTable(t *testing.T) {
	m := StorageSOPClasses()
	for _, uid := range []string{"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.1.2",
		"1.2.840.10008.5.1.4.1.1.1.2.1", "1.2.840.10008.5.1.4.1.1.13.1.3", "1.2.840.10008.5.1.4.1.1.13.1.4",
		"1.2.840.10008.5.1.4.1.1.13.1.5", "1.2.840.10008.5.1.4.1.1.88.59", "1.2.840.10008.5.1.4.1.1.104.1",
		"1.2.840.10008.5.1.4.1.1.11.1", "1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.481.1"} {
		if _, ok := m[uid]; !ok {
			t.Errorf("%s missing", uid)
		}
	}
	if len(m) != len(storageSOPClassTable) {
		t.Errorf("duplicate UIDs in the storage table")
	}
}

// TestDecodeCommandWithTrailingGroups: Orthanc 1.10 (DCMTK) answers a
// C-GET whose sub-operation failed with the Failed SOP Instance UID List
// (0008,0058) inside the command set (bytes captured from it); DCMTK
// ignores such elements, and so does DecodeCommand. An element of another
// group before group 0000 stays an error.
func TestDecodeCommandWithTrailingGroups(t *testing.T) {
	b, _ := hex.DecodeString("00000000040000006a000000000002001c000000312e322e3834302e31303030382e352e312e342e312e322e322e3300000000010200000010800000200102000000010000000008020000000101000000090200000000c0000021100200000000000000221002000000010000002310020000000000080000000400000034000000080058002c000000322e32352e313437383230383432303239353536373537313333343539313838383334353637393231303200")
	c, err := DecodeCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.CommandField != CGetRSP || c.Status != 0xC000 || c.Failed != 1 || c.HasDataSet() {
		t.Errorf("decoded %+v", c)
	}
	if _, err := DecodeCommand(b[118:]); err == nil {
		t.Error("a command set that starts outside group 0000 decoded")
	}
}
