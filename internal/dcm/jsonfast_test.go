package dcm

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The allocation-free paths write what encoding/json and Tag.Hex write.
func TestJSONFastPathsMatch(t *testing.T) {
	for _, s := range []string{"", "CT", "1.2.840.10008.1.2.1", "SMITH^JOHN", `a"b`, `a\b`, "<x>&", "tab\there", "Ünïcode", "\x7f", "ok ~ }{"} {
		var b bytes.Buffer
		writeJSONString(&b, s)
		want, _ := json.Marshal(s)
		if b.String() != string(want) {
			t.Errorf("writeJSONString(%q) = %s, want %s", s, b.String(), want)
		}
	}
	for _, tag := range []Tag{0, TagPixelData, TagPatientName, 0xFFFEE00D, 0x00091010} {
		var b bytes.Buffer
		writeTagHex(&b, tag)
		if b.String() != tag.Hex() {
			t.Errorf("writeTagHex(%v) = %s, want %s", tag, b.String(), tag.Hex())
		}
	}
}

// Values are split, trimmed and decoded as Element.Strings and decodeText do.
func TestJSONValuesMatchStrings(t *testing.T) {
	for _, cs := range []charset{charsetDefault, charsetLatin1, charsetUTF8} {
		for _, e := range []*Element{
			{VR: "UI", Value: []byte("1.2.3\\4.5\x00")},
			{VR: "CS", Value: []byte(" ORIGINAL \\PRIMARY\\\\AXIAL ")},
			{VR: "LO", Value: []byte("caf\xe9 \\<b>\\\"q\"")},
			{VR: "LT", Value: []byte(" a\\b \x00")},
			{VR: "SH", Value: []byte("\xff\xfe")},
			{VR: "DA", Value: []byte("20260101")},
		} {
			var got, want bytes.Buffer
			eachValue(e, func(v []byte) { writeJSONText(&got, v, cs); got.WriteByte(',') })
			for _, v := range e.Strings() {
				writeJSONString(&want, decodeText([]byte(v), cs))
				want.WriteByte(',')
			}
			if got.String() != want.String() {
				t.Errorf("%s %q (charset %d): %s, want %s", e.VR, e.Value, cs, got.String(), want.String())
			}
		}
	}
}
