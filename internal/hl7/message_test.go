package hl7

import (
	"errors"
	"strings"
	"testing"
)

func mustParse(t testing.TB, s string) *Message {
	t.Helper()
	m, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

func TestRoundTripSamples(t *testing.T) {
	for name, s := range allSamples {
		t.Run(name, func(t *testing.T) {
			m := mustParse(t, s)
			if got := m.String(); got != s {
				t.Errorf("round trip differs:\n got %q\nwant %q", got, s)
			}
			if m.Type().Code+"^"+m.Type().Trigger != name {
				t.Errorf("type %v", m.Type())
			}
		})
	}
}

func TestLineEndings(t *testing.T) {
	base := "MSH|^~\\&|A|B|C|D|20240101||ADT^A08|1|P|2.5\rEVN||20240101\rPID|1||X\r"
	variants := map[string]string{
		"CR":       base,
		"LF":       strings.ReplaceAll(base, "\r", "\n"),
		"CRLF":     strings.ReplaceAll(base, "\r", "\r\n"),
		"mixed":    "MSH|^~\\&|A|B|C|D|20240101||ADT^A08|1|P|2.5\r\nEVN||20240101\nPID|1||X",
		"no-final": strings.TrimSuffix(base, "\r"),
		"blank":    "\r\n" + strings.ReplaceAll(base, "\r", "\r\r\n \n"),
		"bom":      "\xef\xbb\xbf" + base,
	}
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			m := mustParse(t, v)
			if got := m.String(); got != base {
				t.Errorf("got %q want %q", got, base)
			}
		})
	}
}

func TestGetPaths(t *testing.T) {
	m := mustParse(t, sampleORM)
	tests := []struct{ path, want string }{
		{"MSH-1", "|"},
		{"MSH-2", `^~\&`},
		{"MSH-3", "RIS"},
		{"MSH-4-1", "GENERAL HOSP"},
		{"MSH-9", "ORM"},
		{"MSH-9-2", "O01"},
		{"MSH.9.3", "ORM_O01"},
		{"MSH-10", "ORM0001"},
		{"MSH-12", "2.3.1"},
		{"PID-3", "MRN12345"},
		{"PID-3-4", "GH"},
		{"PID-3(2)-1", "999999999"},
		{"PID-3(2).5", "SS"},
		{"PID-3(3)-1", ""},
		{"PID-5-1", "DOE"},
		{"PID-5.2", "JANE"},
		{"PID-5-2-1", "JANE"},
		{"PID-11-4", "IL"},
		{"PID(1)-8", "F"},
		{"PID(2)-8", ""},
		{"OBR-13", "Cough & fever, r/o pneumonia"},
		{"OBR-4-3", "C4"},
		{"OBR-18", "ACC5001"},
		{"OBR-27-6", "S"},
		{"NTE-3(2)", "Needs interpreter"},
		{"ZZZ-1", ""},
		{"PID-99", ""},
		{"bad", ""},
	}
	for _, tt := range tests {
		if got := m.Get(tt.path); got != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
	if n := m.Repetitions("PID-3"); n != 2 {
		t.Errorf("Repetitions(PID-3) = %d", n)
	}
	if got := m.GetRaw("PID-3"); got != "MRN12345^^^GH^MR~999999999^^^SSA^SS" {
		t.Errorf("GetRaw(PID-3) = %q", got)
	}
	if got := m.GetRaw("PID-3(2)"); got != "999999999^^^SSA^SS" {
		t.Errorf("GetRaw(PID-3(2)) = %q", got)
	}
	if got := m.GetRaw("OBR-13"); got != `Cough \T\ fever, r/o pneumonia` {
		t.Errorf("GetRaw(OBR-13) = %q", got)
	}
}

func TestNulls(t *testing.T) {
	m := mustParse(t, sampleA08)
	if !m.IsNull("PID-11") || m.Get("PID-11") != "" {
		t.Errorf("PID-11 should be explicit null")
	}
	if m.IsNull("PID-12") || m.Has("PID-12") {
		t.Errorf("PID-12 should be plain empty")
	}
	if err := m.SetNull("PID-8"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.String(), `|19800101|""|`) {
		t.Errorf("SetNull: %q", m.String())
	}
	if m.Get("PID-8") != "" {
		t.Errorf("null reads as %q", m.Get("PID-8"))
	}
}

func TestEscape(t *testing.T) {
	d := DefaultDelimiters()
	tests := []struct{ plain, wire string }{
		{"plain", "plain"},
		{"a|b", `a\F\b`},
		{"a^b", `a\S\b`},
		{"a&b", `a\T\b`},
		{"a~b", `a\R\b`},
		{`a\b`, `a\E\b`},
		{"line1\nline2", `line1\.br\line2`},
		{"line1\r\nline2", `line1\.br\line2`},
		{"x\x01y", `x\X01\y`},
		{"tab\tok", "tab\tok"},
		{"ünïcode", "ünïcode"},
		{`|^~\&`, `\F\\S\\R\\E\\T\`},
	}
	for _, tt := range tests {
		if got := d.EscapeValue(tt.plain); got != tt.wire {
			t.Errorf("Escape(%q) = %q want %q", tt.plain, got, tt.wire)
		}
		want := strings.ReplaceAll(tt.plain, "\r\n", "\n")
		if got := d.UnescapeValue(tt.wire); got != want {
			t.Errorf("Unescape(%q) = %q want %q", tt.wire, got, want)
		}
	}
	decodeOnly := []struct{ wire, plain string }{
		{`\X0D0A\`, "\r\n"},
		{`\X414243\`, "ABC"},
		{`\X4\`, `\X4\`},   // odd length: literal
		{`\XZZ\`, `\XZZ\`}, // bad hex: literal
		{`\H\bold\N\`, `\H\bold\N\`},
		{`\.sp2\`, `\.sp2\`},
		{`\P\`, `\P\`}, // no truncation char defined
		{`dangling\`, `dangling\`},
		{`dangling\F`, `dangling\F`},
		{`\\`, `\\`},
	}
	for _, tt := range decodeOnly {
		if got := d.UnescapeValue(tt.wire); got != tt.plain {
			t.Errorf("Unescape(%q) = %q want %q", tt.wire, got, tt.plain)
		}
	}
}

func TestOtherDelimiters(t *testing.T) {
	// field !, component @, repetition #, escape $, subcomponent %
	raw := "MSH!@#$%!SND!FAC!RCV!RFAC!20240101!!ORM@O01!C1!P!2.3.1\rPID!1!!ID1@@@AUTH%1.2%ISO#ID2!!DOE@JANE$S$X!!19800101\r"
	m := mustParse(t, raw)
	d := m.Delims
	if d.Field != '!' || d.Component != '@' || d.Repetition != '#' || d.Escape != '$' || d.Subcomponent != '%' {
		t.Fatalf("delims %+v", d)
	}
	checks := map[string]string{
		"MSH-1": "!", "MSH-2": "@#$%", "MSH-9-2": "O01", "PID-3-4-2": "1.2", "PID-3(2)": "ID2", "PID-5-2": "JANE@X",
	}
	for p, want := range checks {
		if got := m.Get(p); got != want {
			t.Errorf("%s = %q want %q", p, got, want)
		}
	}
	if err := m.Set("PID-5-3", "A!B@C#D$E%F|^~\\&"); err != nil {
		t.Fatal(err)
	}
	if got := m.GetRaw("PID-5-3"); got != `A$F$B$S$C$R$D$E$E$T$F|^~\&` {
		t.Errorf("escaped with custom delims: %q", got)
	}
	m2 := mustParse(t, m.String())
	if got := m2.Get("PID-5-3"); got != "A!B@C#D$E%F|^~\\&" {
		t.Errorf("round trip: %q", got)
	}
	// Switching delimiters re-escapes everything.
	m2.Delims = DefaultDelimiters()
	m3 := mustParse(t, m2.String())
	if got := m3.Get("PID-5-3"); got != "A!B@C#D$E%F|^~\\&" {
		t.Errorf("after delimiter switch: %q (%q)", got, m2.String())
	}
	if m3.Get("PID-3-4-3") != "ISO" || m3.Get("PID-5-2") != "JANE@X" {
		t.Errorf("after delimiter switch: %q", m3.String())
	}
}

func TestTruncationCharacter(t *testing.T) {
	m := mustParse(t, "MSH|^~\\&#|A||||||ADT^A08|1|P|2.7\rPID|1||X\\P\\Y\r")
	if m.Delims.Truncation != '#' || m.Get("MSH-2") != "^~\\&#" {
		t.Fatalf("truncation not read: %+v", m.Delims)
	}
	if m.Get("PID-3") != "X#Y" {
		t.Errorf("PID-3 = %q", m.Get("PID-3"))
	}
	_ = m.Set("PID-4", "a#b")
	if m.GetRaw("PID-4") != `a\P\b` {
		t.Errorf("PID-4 raw = %q", m.GetRaw("PID-4"))
	}
	if !strings.HasPrefix(m.String(), "MSH|^~\\&#|A|") {
		t.Errorf("MSH-2 not kept: %q", m.String())
	}
}

func TestBuildWithSet(t *testing.T) {
	m := NewMessage(MSH{SendingApplication: HD{NamespaceID: "LIGHTBOX"}, MessageType: MSG{"ORU", "R01", "ORU_R01"}, ControlID: "C1"})
	steps := []struct{ path, val string }{
		{"PID-3-1", "MRN1"},
		{"PID-3-4-1", "HOSP"},
		{"PID-3(2)-1", "SECOND"},
		{"PID-5-1", "O'DOE|^~\\&"},
		{"PID-5-2", "JANE"},
		{"OBX-5", "line one\nline two"},
		{"OBX(2)-5", "second obx"},
	}
	for _, s := range steps {
		if err := m.Set(s.path, s.val); err != nil {
			t.Fatalf("Set(%s): %v", s.path, err)
		}
	}
	if err := m.Set("OBX(4)-5", "x"); err == nil {
		t.Error("Set on a segment two past the end should fail")
	}
	if err := m.Set("MSH-1", "x"); err == nil {
		t.Error("Set MSH-1 should fail")
	}
	if err := m.SetRaw("PV1-3", "RAD^101^A"); err != nil {
		t.Fatal(err)
	}
	out := m.String()
	if !strings.Contains(out, "\rPID|||MRN1^^^HOSP~SECOND||O'DOE\\F\\\\S\\\\R\\\\E\\\\T\\^JANE\r") {
		t.Errorf("built PID wrong: %q", out)
	}
	m2 := mustParse(t, out)
	for _, s := range steps {
		if got := m2.Get(s.path); got != s.val {
			t.Errorf("%s = %q want %q", s.path, got, s.val)
		}
	}
	if m2.Get("PV1-3-2") != "101" || m2.Get("MSH-12") != "2.5.1" || m2.Get("MSH-11") != "P" || m2.Get("MSH-7") == "" {
		t.Errorf("defaults/raw: %q", out)
	}
}

func TestParsePath(t *testing.T) {
	good := map[string]Path{
		"PID-5":        {Segment: "PID", SegOcc: 1, Field: 5, Rep: 1},
		"PID-5-1":      {Segment: "PID", SegOcc: 1, Field: 5, Rep: 1, Comp: 1},
		"OBR-4.2":      {Segment: "OBR", SegOcc: 1, Field: 4, Rep: 1, Comp: 2},
		"OBX(3)-5(2)":  {Segment: "OBX", SegOcc: 3, Field: 5, Rep: 2, segOccSet: true, repSet: true},
		"PID-3(2)-4-2": {Segment: "PID", SegOcc: 1, Field: 3, Rep: 2, Comp: 4, Sub: 2, repSet: true},
		"ZDS-1":        {Segment: "ZDS", SegOcc: 1, Field: 1, Rep: 1},
	}
	for s, want := range good {
		got, err := ParsePath(s)
		if err != nil || got != want {
			t.Errorf("ParsePath(%q) = %+v, %v want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "PID", "PID-", "pid-5", "PID-0", "PID-5-", "PID-5-1-2-3", "PID(0)-1", "PID(1-1", "PID-5x", "PIDX-5", "PID-999999"} {
		if _, err := ParsePath(s); err == nil {
			t.Errorf("ParsePath(%q) should fail", s)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		code     ErrorCode
		salvaged bool
	}{
		{"empty", "", CodeSegmentSequence, false},
		{"whitespace", " \r\n\t", CodeSegmentSequence, false},
		{"no MSH", "PID|1||X\r", CodeSegmentSequence, false},
		{"MSH only", "MSH", CodeRequiredFieldMissing, false},
		{"MSH pipe", "MSH|", CodeRequiredFieldMissing, false},
		{"MSH too short", "MSH|^~\\&|A", CodeRequiredFieldMissing, true},
		{"no control id", "MSH|^~\\&|A|B|C|D|2024||ADT^A08||P|2.5\r", CodeRequiredFieldMissing, true},
		{"no version", "MSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|\r", CodeRequiredFieldMissing, true},
		{"alnum separator", "MSHA^~\\&A1A2\r", CodeDataType, false},
		{"duplicate separator", "MSH|^^\\&|A\r", CodeDataType, false},
		{"encoding chars too long", "MSH|^~\\&#!|A\r", CodeDataType, false},
		{"space separator", "MSH ^~\\& A\r", CodeDataType, false},
		{"binary", "\x00\x01\x02\xff\xfe", CodeDataType, false},
		{"binary after MSH", "MSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.5\r\x89PNG\x0d\x0a\x1a\x0a", CodeSegmentSequence, true},
		{"lowercase segment", "MSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.5\rpid|1\r", CodeSegmentSequence, true},
		{"short segment", "MSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.5\rPI|1\r", CodeSegmentSequence, true},
		{"long segment", "MSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.5\rPIDX|1\r", CodeSegmentSequence, true},
		{"second MSH", "MSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.5\rMSH|^~\\&|A\r", CodeSegmentSequence, true},
		{"NUL inside", "MSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.5\rPID|\x00\r", CodeDataType, false},
		{"VT inside", "MSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.5\rPID|\x0b\r", CodeDataType, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.in))
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("want *Error, got %v", err)
			}
			if he.Code != tt.code {
				t.Errorf("code %d want %d (%v)", he.Code, tt.code, err)
			}
			if (m != nil) != tt.salvaged {
				t.Errorf("salvaged = %v want %v", m != nil, tt.salvaged)
			}
			if m != nil && m.Segment("MSH") == nil {
				t.Errorf("salvaged message without MSH")
			}
		})
	}
}

func TestErrorFormatting(t *testing.T) {
	e := Errorf(CodeRequiredFieldMissing, "PID-3", "patient identifier missing")
	if e.Segment != "PID" || e.Field != 3 || e.SegmentSeq != 0 || e.Repetition != 0 {
		t.Errorf("%+v", e)
	}
	if e.Error() != "hl7: PID-3: Required field missing: patient identifier missing" {
		t.Errorf("%q", e.Error())
	}
	e2 := Errorf(CodeDataType, "OBR(2)-27(3)-6", "x")
	if e2.Location() != "OBR(2)-27(3)-6" || e2.AckCode() != AckAE {
		t.Errorf("%q %v", e2.Location(), e2.AckCode())
	}
	wrapped := errors.Join(errors.New("ctx"), Errorf(CodeUnsupportedMessageType, "MSH-9", "no"))
	if AsError(wrapped).Code != CodeUnsupportedMessageType || AsError(wrapped).AckCode() != AckAR {
		t.Error("AsError through wrapping")
	}
	if AsError(errors.New("boom")).Code != CodeInternalError {
		t.Error("plain error -> 207")
	}
}
