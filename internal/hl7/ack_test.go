package hl7

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var fixedNow = time.Date(2024, 3, 20, 10, 0, 0, 0, time.UTC)

func TestACKBasics(t *testing.T) {
	in := mustParse(t, sampleOMI)
	ack := NewACK(in, AckAA, AckOptions{ControlID: "ACK1", Now: fixedNow})
	want := "MSH|^~\\&|LIGHTBOX|TELERAD|EPIC|MERCY^1.2.3.4^ISO|20240320100000+0000||ACK^O23^ACK|ACK1|P|2.5.1||||||UNICODE UTF-8\r" +
		"MSA|AA|OMI0001\r"
	if got := ack.String(); got != want {
		t.Errorf("ACK:\n got %q\nwant %q", got, want)
	}
	r, err := ReadAck(mustParse(t, ack.String()))
	if err != nil || r.Code != AckAA || r.ControlID != "OMI0001" || len(r.Errors) != 0 || !r.Code.OK() {
		t.Errorf("ReadAck %+v %v", r, err)
	}
}

func TestNAKVersions(t *testing.T) {
	tests := []struct {
		name, in string
		err      *Error
		wantMSA  string
		wantERR  []string
		wantType string
	}{
		{
			name: "2.3.1 ERR-1", in: sampleORM,
			err:      Errorf(CodeRequiredFieldMissing, "PID-3", "patient identifier missing"),
			wantMSA:  "MSA|AE|ORM0001|patient identifier missing|||101^Required field missing^HL70357",
			wantERR:  []string{"ERR|PID^1^3^101&patient identifier missing&HL70357"},
			wantType: "ACK^O01^ACK",
		},
		{
			name: "2.3 no structure", in: sampleA31,
			err:      Errorf(CodeUnsupportedEventCode, "MSH-9-2", "A31 not supported"),
			wantMSA:  "MSA|AR|ADT0031|A31 not supported|||201^Unsupported event code^HL70357",
			wantERR:  []string{"ERR|MSH^1^9^201&A31 not supported&HL70357"},
			wantType: "ACK^A31",
		},
		{
			name: "2.5.1 ERR-2..8", in: sampleOMI,
			err:      &Error{Segment: "OBR", SegmentSeq: 1, Field: 4, Component: 1, Code: CodeTableValueNotFound, Message: "unknown procedure code"},
			wantMSA:  "MSA|AE|OMI0001",
			wantERR:  []string{"ERR||OBR^1^4^1^1|103^Table value not found^HL70357|E||||unknown procedure code"},
			wantType: "ACK^O23^ACK",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mustParse(t, tt.in)
			nak := NewNAK(in, tt.err, AckOptions{ControlID: "N1", Now: fixedNow})
			segs := strings.Split(strings.TrimSuffix(nak.String(), "\r"), "\r")
			if got := nak.GetRaw("MSH-9"); got != tt.wantType {
				t.Errorf("MSH-9 = %q want %q", got, tt.wantType)
			}
			if segs[1] != tt.wantMSA {
				t.Errorf("MSA = %q want %q", segs[1], tt.wantMSA)
			}
			if strings.Join(segs[2:], "\n") != strings.Join(tt.wantERR, "\n") {
				t.Errorf("ERR = %q want %q", segs[2:], tt.wantERR)
			}
			if nak.Get("MSH-3") != in.Get("MSH-5") || nak.Get("MSH-5") != in.Get("MSH-3") || nak.Get("MSH-12") != in.Get("MSH-12") {
				t.Errorf("MSH not swapped: %q", segs[0])
			}
			r, err := ReadAck(mustParse(t, nak.String()))
			if err != nil || r.Code != tt.err.AckCode() || len(r.Errors) != 1 {
				t.Fatalf("ReadAck %+v %v", r, err)
			}
			got := r.Errors[0]
			if got.Code != tt.err.Code || got.Segment != tt.err.Segment || got.Field != tt.err.Field || got.Message != tt.err.Message {
				t.Errorf("ERR read back %+v want %+v", got, tt.err)
			}
		})
	}
}

func TestNAKMultipleErrors(t *testing.T) {
	in := mustParse(t, sampleOMI)
	nak := NewACK(in, AckAE, AckOptions{}, Errorf(CodeRequiredFieldMissing, "PID-3", "a"), nil,
		&Error{Code: CodeDataType, Segment: "PID", Field: 7, Severity: SeverityWarning, Message: "b"})
	if n := len(nak.All("ERR")); n != 2 {
		t.Fatalf("%d ERR segments", n)
	}
	if nak.Get("ERR(2)-4") != "W" || nak.Get("ERR(2)-2-4") != "1" {
		t.Errorf("second ERR %q", nak.GetRaw("ERR(2)-2"))
	}
	legacy := NewACK(mustParse(t, sampleORM), AckAE, AckOptions{}, Errorf(CodeRequiredFieldMissing, "PID-3", "a"), Errorf(CodeDataType, "PID-7", "b"))
	if len(legacy.All("ERR")) != 1 || legacy.Repetitions("ERR-1") != 2 {
		t.Errorf("2.3.1 should repeat ERR-1: %q", legacy.String())
	}
}

func TestNAKFromParseFailure(t *testing.T) {
	// Salvageable: MSH parsed, later segment broken.
	raw := "MSH|^~\\&|SND|SF|RCV|RF|2024||ORM^O01|CTL9|P|2.3.1\rPID|1\rbad segment\r"
	m, err := Parse([]byte(raw))
	if m == nil || err == nil {
		t.Fatalf("want salvaged message and error")
	}
	nak := NewACK(m, AckAR, AckOptions{}, AsError(err))
	if nak.Get("MSA-1") != "AR" || nak.Get("MSA-2") != "CTL9" || nak.Get("MSH-5") != "SND" || nak.Get("ERR-1-4-1") != "100" {
		t.Errorf("salvaged NAK %q", nak.String())
	}
	// Nothing salvageable.
	_, err = Parse([]byte("garbage"))
	nak = NewACK(nil, AckAR, AckOptions{}, AsError(err))
	if nak.Get("MSA-1") != "AR" || nak.Get("MSA-2") != "" || nak.Get("MSH-12") != "2.5.1" || nak.Get("ERR-3-1") != "100" {
		t.Errorf("minimal NAK %q", nak.String())
	}
	if MinimalNAK(errors.New("x")).Get("ERR-3-1") != "207" {
		t.Error("MinimalNAK of plain error")
	}
	if _, err := Parse(nak.Bytes()); err != nil {
		t.Errorf("minimal NAK does not parse: %v", err)
	}
}

func TestACKKeepsDelimiters(t *testing.T) {
	in := mustParse(t, "MSH!@#$%!SND!FAC@1.2@ISO!RCV!RF!2024!!ORM@O01!C1!P!2.3.1\r")
	ack := NewNAK(in, Errorf(CodeDataType, "PID-7", "bad ^ date"), AckOptions{})
	s := ack.String()
	if !strings.HasPrefix(s, "MSH!@#$%!RCV!RF!SND!FAC@1.2@ISO!") || !strings.Contains(s, "bad $S$ date") && !strings.Contains(s, "bad ^ date") {
		t.Errorf("delimiters not kept: %q", s)
	}
	if mustParse(t, s).Get("MSA-3") != "bad ^ date" {
		t.Errorf("MSA-3: %q", s)
	}
}

func TestORRAndORI(t *testing.T) {
	orm := mustParse(t, sampleORM)
	orr := NewORR(orm, AckAA, []OrderResponse{{ORC: ORC{OrderControl: OrderOK, PlacerOrderNumber: EI{EntityID: "PLC1001", NamespaceID: "RIS"},
		FillerOrderNumber: EI{EntityID: "F1", NamespaceID: "LB"}, OrderStatus: "SC"}}}, AckOptions{})
	var names []string
	for _, s := range orr.Segments {
		names = append(names, s.Name)
	}
	if strings.Join(names, " ") != "MSH MSA PID ORC" || orr.GetRaw("MSH-9") != "ORR^O02^ORR_O02" || orr.Get("ORC-1") != "OK" ||
		orr.Get("PID-5-1") != "DOE" || orr.GetRaw("PID-3") != orm.GetRaw("PID-3") {
		t.Errorf("ORR %v %q", names, orr.String())
	}
	omi := mustParse(t, sampleOMI)
	var obr OBR
	_ = omi.DecodeFirst(&obr)
	ori := NewORI(omi, AckAE, []OrderResponse{{ORC: ORC{OrderControl: OrderUnableToAccept, PlacerOrderNumber: EI{EntityID: "ORD7788"}},
		TQ1: &TQ1{SetID: "1", Priorities: []CE{{Identifier: "S"}}}, OBR: &obr, IPC: []IPC{{AccessionID: EI{EntityID: "ACC7788"}}}}},
		AckOptions{}, Errorf(CodeTableValueNotFound, "OBR-4", "unknown code"))
	names = nil
	for _, s := range ori.Segments {
		names = append(names, s.Name)
	}
	if strings.Join(names, " ") != "MSH MSA ERR PID ORC TQ1 OBR IPC" || ori.GetRaw("MSH-9") != "ORI^O24^ORI_O24" || ori.Get("OBR-4") != "CTHEADWO" {
		t.Errorf("ORI %v %q", names, ori.String())
	}
}
