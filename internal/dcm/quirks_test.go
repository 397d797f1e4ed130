package dcm

import (
	"bytes"
	"errors"
	"testing"
)

// TestReadFileQuirks: files real sites send that DCMTK reads, with the
// departure recorded rather than refused.
func TestReadFileQuirks(t *testing.T) {
	bare := func(ts string) []byte {
		var b bytes.Buffer
		if err := WriteDataset(&b, sampleDataset(), ts); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	full := encodeFile(t, sampleDataset(), ExplicitVRLittleEndian)
	noTS := func() []byte {
		meta := NewMeta("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4.5", ExplicitVRLittleEndian, "")
		meta.Delete(TagTransferSyntaxUID)
		var b bytes.Buffer
		if err := WriteHeader(&b, meta); err != nil {
			t.Fatal(err)
		}
		b.Write(bare(ImplicitVRLittleEndian))
		return b.Bytes()
	}()
	cases := []struct {
		name  string
		data  []byte
		ts    string
		quirk QuirkCode
	}{
		{"bare implicit", bare(ImplicitVRLittleEndian), ImplicitVRLittleEndian, QuirkNoMeta},
		{"bare explicit", bare(ExplicitVRLittleEndian), ExplicitVRLittleEndian, QuirkNoMeta},
		{"DICM without preamble", full[128:], ExplicitVRLittleEndian, QuirkNoPreamble},
		{"meta without preamble", full[132:], ExplicitVRLittleEndian, QuirkNoPreamble},
		{"meta without transfer syntax", noTS, ImplicitVRLittleEndian, QuirkMetaNoTransferSyntax},
		{"standard", full, ExplicitVRLittleEndian, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := ReadFile(bytes.NewReader(c.data), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if f.TransferSyntax.UID != c.ts || f.Dataset.Str(TagSOPInstanceUID) != "1.2.3.4.5" {
				t.Fatalf("ts %s, sop %q", f.TransferSyntax.UID, f.Dataset.Str(TagSOPInstanceUID))
			}
			var got QuirkCode
			if len(f.Quirks) > 0 {
				got = f.Quirks[0].Code
			}
			if got != c.quirk {
				t.Fatalf("quirks %v, want %s", f.Quirks, c.quirk)
			}
			_, off, err := ReadHeader(bytes.NewReader(c.data))
			if err != nil || off != f.DatasetOffset {
				t.Fatalf("ReadHeader offset %d err %v, ReadFile %d", off, err, f.DatasetOffset)
			}
		})
	}
	for _, junk := range [][]byte{[]byte("This is a README, not a DICOM file at all; nothing to detect here."), {1, 2, 3}} {
		if _, err := ReadFile(bytes.NewReader(junk), ReadOptions{}); !errors.Is(err, ErrNotPart10) {
			t.Errorf("%q: err %v, want ErrNotPart10", junk[:3], err)
		}
	}
}
