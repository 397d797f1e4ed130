package dimse

import (
	"bytes"
	"testing"
)

// FuzzReadPDU feeds arbitrary bytes to the PDU reader: it must never panic
// and whatever it decodes must re-encode and decode to the same value.
func FuzzReadPDU(f *testing.F) {
	for _, p := range samplePDUs() {
		b, err := EncodePDU(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x04, 0, 0, 0, 0, 8, 0, 0, 0, 4, 1, 3, 0, 0})
	f.Add([]byte{0x09, 0, 0, 0, 0, 4, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _, err := ReadPDU(bytes.NewReader(b), 1<<16, nil)
		if err != nil {
			return
		}
		enc, err := EncodePDU(p)
		if err != nil {
			return // e.g. items that would overflow on re-encoding
		}
		if _, err := DecodePDU(enc); err != nil {
			t.Fatalf("re-encoded %v does not decode: %v", p.Type(), err)
		}
	})
}

// FuzzDecodeCommand feeds arbitrary bytes to the command set parser.
func FuzzDecodeCommand(f *testing.F) {
	move := NewCMoveRQ(StudyRootQRMove, "DEST", PriorityHigh)
	move.MessageID = 7
	rsp := NewResponse(move, StatusPending)
	rsp.SetCounts(3, 2, 1, 0)
	nset := NewNSetRQ(ModalityPerformedProcedure, "1.2.3")
	nset.MessageID = 3
	nset.AttributeIdentifierList = []uint32{0x00100010}
	for _, c := range []*Command{move, rsp, nset, NewCCancelRQ(7)} {
		b, err := c.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err != nil {
			return
		}
		enc, err := c.Encode()
		if err != nil {
			return
		}
		c2, err := DecodeCommand(enc)
		if err != nil {
			t.Fatalf("re-encoded command does not decode: %v", err)
		}
		if c2.CommandField != c.CommandField || c2.MessageID != c.MessageID || c2.Status != c.Status {
			t.Fatalf("round trip changed the command: %+v vs %+v", c, c2)
		}
	})
}
