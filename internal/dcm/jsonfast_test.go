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
