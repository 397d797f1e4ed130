package dcm

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func sampleDataset() *Dataset {
	ds := &Dataset{}
	ds.SetStr(TagSOPClassUID, "1.2.840.10008.5.1.4.1.1.2")
	ds.SetStr(TagSOPInstanceUID, "1.2.3.4.5")
	ds.SetStr(TagPatientName, "TEST^ALPHA")
	ds.SetStr(TagPatientID, "P001")
	ds.SetStr(TagStudyInstanceUID, "1.2.3")
	ds.SetStr(TagImageType, "ORIGINAL", "PRIMARY", "AXIAL")
	ds.SetUint16(TagRows, 4)
	ds.SetUint16(TagColumns, 4)
	item := &Dataset{}
	item.SetStr(TagCodeValue, "71250")
	item.SetStr(TagCodingSchemeDesignator, "CPT")
	ds.SetSeq(TagProcedureCodeSequence, item)
	ds.SetBytes(TagPixelData, "OW", make([]byte, 32))
	return ds
}

func encodeFile(t testing.TB, ds *Dataset, ts string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteFile(&buf, ds, ts, "TESTAE"); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, ts := range []string{ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian} {
		t.Run(ts, func(t *testing.T) {
			data := encodeFile(t, sampleDataset(), ts)
			f, err := ReadFile(bytes.NewReader(data), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.TransferSyntax.UID; got != ts {
				t.Errorf("ts = %s", got)
			}
			ds := f.Dataset
			if ds.Str(TagPatientName) != "TEST^ALPHA" || ds.Str(TagSOPInstanceUID) != "1.2.3.4.5" {
				t.Errorf("strings: %q %q", ds.Str(TagPatientName), ds.Str(TagSOPInstanceUID))
			}
			if got := ds.Strs(TagImageType); len(got) != 3 || got[2] != "AXIAL" {
				t.Errorf("image type %v", got)
			}
			if r, _ := ds.Int(TagRows); r != 4 {
				t.Errorf("rows %d", r)
			}
			seq := ds.Seq(TagProcedureCodeSequence)
			if len(seq) != 1 || seq[0].Str(TagCodeValue) != "71250" {
				t.Errorf("sequence %v", seq)
			}
			px := ds.Get(TagPixelData)
			if px == nil || px.Bulk == nil || px.Bulk.Length != 32 {
				t.Fatalf("pixel data ref %+v", px)
			}
			if ts != DeflatedExplicitVRLittleEndian {
				if off := px.Bulk.Offset; off+32 != int64(len(data)) {
					t.Errorf("pixel offset %d, file %d", off, len(data))
				}
			}
		})
	}
}

func TestEncapsulatedFragments(t *testing.T) {
	ds := sampleDataset()
	ds.Put(&Element{Tag: TagPixelData, VR: "OB", Encapsulated: [][]byte{nil, []byte("abcd"), []byte("efghij"), []byte("odd")}})
	var buf bytes.Buffer
	meta := NewMeta(ds.Str(TagSOPClassUID), ds.Str(TagSOPInstanceUID), JPEGBaseline8Bit, "")
	if err := WriteHeader(&buf, meta); err != nil {
		t.Fatal(err)
	}
	if err := WriteDataset(&buf, ds, JPEGBaseline8Bit); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	f, err := ReadFile(bytes.NewReader(data), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := f.Dataset.Get(TagPixelData).Bulk
	if len(ref.Fragments) != 3 || ref.Fragments[2].Length != 4 {
		t.Fatalf("fragments %+v", ref)
	}
	fr := ref.Fragments[1]
	if got := string(data[fr.Offset : fr.Offset+fr.Length]); got != "efghij" {
		t.Errorf("fragment bytes %q", got)
	}
}

func TestBigEndianRead(t *testing.T) {
	// Hand-encode a tiny explicit VR big endian data set.
	var ds bytes.Buffer
	put := func(group, elem uint16, vr string, val []byte) {
		_ = binary.Write(&ds, binary.BigEndian, group)
		_ = binary.Write(&ds, binary.BigEndian, elem)
		ds.WriteString(vr)
		_ = binary.Write(&ds, binary.BigEndian, uint16(len(val)))
		ds.Write(val)
	}
	put(0x0008, 0x0018, "UI", []byte("1.2.3\x00"))
	put(0x0028, 0x0010, "US", []byte{0x02, 0x00})
	var file bytes.Buffer
	if err := WriteHeader(&file, NewMeta("1.2", "1.2.3", ExplicitVRBigEndian, "")); err != nil {
		t.Fatal(err)
	}
	file.Write(ds.Bytes())
	f, err := ReadFile(&file, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := f.Dataset.Int(TagRows); r != 512 {
		t.Errorf("rows = %d, want 512", r)
	}
}

func TestMalformed(t *testing.T) {
	good := encodeFile(t, sampleDataset(), ExplicitVRLittleEndian)
	metaEnd := func() int {
		f, err := ReadFile(bytes.NewReader(good), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return int(f.DatasetOffset)
	}()
	withBytes := func(extra []byte) []byte {
		return append(append([]byte(nil), good[:metaEnd]...), extra...)
	}
	le := func(vals ...any) []byte {
		var b bytes.Buffer
		for _, v := range vals {
			switch v := v.(type) {
			case string:
				b.WriteString(v)
			default:
				_ = binary.Write(&b, binary.LittleEndian, v)
			}
		}
		return b.Bytes()
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "shorter than the 128-byte preamble"},
		{"no DICM", append(make([]byte, 128), []byte("DICX")...), `no "DICM" prefix`},
		{"no meta", append(append(make([]byte, 128), []byte("DICM")...), le(uint16(8), uint16(0x18), "UI", uint16(2), "1\x00")...), "no file meta information"},
		{"truncated pixel data", good[:len(good)-5], "truncated: value declares 32 bytes but only 27 remain"},
		{"truncated tag", good[:metaEnd+2], "truncated inside an element tag"},
		{"lying string length", withBytes(le(uint16(0x10), uint16(0x10), "PN", uint16(200), "DOE")), "truncated: value declares 200 bytes"},
		{"huge declared length", withBytes(le(uint16(0x10), uint16(0x4000), "UT", uint16(0), uint32(0xFFFFFFF0))), "exceeds the"},
		{"invalid VR", withBytes(le(uint16(0x10), uint16(0x10), "ZZ", uint16(0))), `invalid VR "ZZ"`},
		{"undefined length on string", withBytes(le(uint16(0x10), uint16(0x4000), "UT", uint16(0), uint32(UndefinedLength))), "undefined length is not allowed"},
		{"unterminated sequence", withBytes(le(uint16(0x08), uint16(0x1032), "SQ", uint16(0), uint32(UndefinedLength), uint16(0xFFFE), uint16(0xE000), uint32(UndefinedLength))), "item not terminated"},
		{"garbage in sequence", withBytes(le(uint16(0x08), uint16(0x1032), "SQ", uint16(0), uint32(UndefinedLength), uint16(0x0010), uint16(0x0010), uint32(0))), "expected an item"},
		{"item overruns sequence", withBytes(le(uint16(0x08), uint16(0x1032), "SQ", uint16(0), uint32(8), uint16(0xFFFE), uint16(0xE000), uint32(100))), "overruns the sequence"},
		{"stray item delimiter", withBytes(le(uint16(0xFFFE), uint16(0xE00D), uint32(0))), "item delimiter outside"},
		{"unsupported ts", func() []byte {
			var b bytes.Buffer
			_ = WriteHeader(&b, NewMeta("1.2", "1.2.3", "1.2.3.4.5.6", ""))
			return b.Bytes()
		}(), "unsupported transfer syntax"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadFile(bytes.NewReader(c.data), ReadOptions{})
			if err == nil {
				t.Fatal("accepted malformed input")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
	var pe *ParseError
	_, err := ReadFile(bytes.NewReader(good[:len(good)-5]), ReadOptions{})
	if !errors.As(err, &pe) || pe.Tag != TagPixelData {
		t.Errorf("want ParseError naming pixel data, got %v", err)
	}
}

func TestDeepNestingRejected(t *testing.T) {
	var b bytes.Buffer
	for range 100 {
		_ = binary.Write(&b, binary.LittleEndian, []uint16{0x0008, 0x1032})
		b.WriteString("SQ\x00\x00")
		_ = binary.Write(&b, binary.LittleEndian, []uint32{UndefinedLength})
		_ = binary.Write(&b, binary.LittleEndian, []uint16{0xFFFE, 0xE000})
		_ = binary.Write(&b, binary.LittleEndian, []uint32{UndefinedLength})
	}
	_, err := ReadDataset(&b, ExplicitVRLittleEndian, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseTag(t *testing.T) {
	for in, want := range map[string]Tag{"PatientName": TagPatientName, "00100020": TagPatientID, "(0020,000D)": TagStudyInstanceUID} {
		got, err := ParseTag(in)
		if err != nil || got != want {
			t.Errorf("ParseTag(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseTag("NoSuchKeyword"); err == nil {
		t.Error("unknown keyword accepted")
	}
}

func TestDeterministicUID(t *testing.T) {
	a, b := DeterministicUID("x"), DeterministicUID("x")
	if a != b || !strings.HasPrefix(a, "2.25.") || len(a) > 64 {
		t.Errorf("uid %q %q", a, b)
	}
}

func FuzzReadFile(f *testing.F) {
	for _, ts := range []string{ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian} {
		f.Add(encodeFile(f, sampleDataset(), ts))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadFile(bytes.NewReader(data), ReadOptions{MaxValueLength: 1 << 20})
		sameAsReadFileBytes(t, data, ReadOptions{MaxValueLength: 1 << 20}, file, err)
		if err != nil {
			return
		}
		// Whatever parses must re-encode without error (bulk values aside).
		var loaded Dataset
		for _, e := range file.Dataset.Elements {
			if e.Bulk == nil {
				loaded.Elements = append(loaded.Elements, e)
			}
		}
		var buf bytes.Buffer
		_ = WriteDataset(&buf, &loaded, ExplicitVRLittleEndian)
	})
}

func TestMarshalJSON(t *testing.T) {
	ds := sampleDataset()
	ds.SetStr(TagPatientName, "DOE^JANE=ドウ^ジェーン")
	ds.SetStr(TagSliceThickness, "2.5")
	ds.SetStr(TagInstanceNumber, "7")
	ds.SetStr(TagSpecificCharacterSet, "ISO_IR 192")
	out := MarshalJSON(ds, JSONOptions{BulkURI: func(t Tag) string { return "bulk/" + t.Hex() }})
	var m map[string]map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	pn := m["00100010"]["Value"].([]any)[0].(map[string]any)
	if pn["Alphabetic"] != "DOE^JANE" || pn["Ideographic"] != "ドウ^ジェーン" {
		t.Errorf("PN %v", pn)
	}
	if v := m["00180050"]["Value"].([]any)[0]; v != 2.5 {
		t.Errorf("DS %v", v)
	}
	if v := m["00200013"]["Value"].([]any)[0]; v != 7.0 {
		t.Errorf("IS %v", v)
	}
	if v := m["00280010"]["Value"].([]any)[0]; v != 4.0 {
		t.Errorf("US %v", v)
	}
	if m["7FE00010"]["BulkDataURI"] != "bulk/7FE00010" {
		t.Errorf("bulk %v", m["7FE00010"])
	}
	seq := m["00081032"]["Value"].([]any)[0].(map[string]any)
	if seq["00080100"].(map[string]any)["Value"].([]any)[0] != "71250" {
		t.Errorf("seq %v", seq)
	}
}

func TestReadHeaderAndLoadBulk(t *testing.T) {
	data := encodeFile(t, sampleDataset(), ExplicitVRLittleEndian)
	meta, off, err := ReadHeader(bytes.NewReader(data))
	if err != nil || meta.Str(TagTransferSyntaxUID) != ExplicitVRLittleEndian {
		t.Fatalf("%v %v", meta, err)
	}
	ds, err := ReadDataset(bytes.NewReader(data[off:]), ExplicitVRLittleEndian, ReadOptions{LoadBulk: true})
	if err != nil {
		t.Fatal(err)
	}
	if px := ds.Get(TagPixelData); px == nil || len(px.Value) != 32 || px.Bulk != nil {
		t.Fatalf("pixel data not loaded: %+v", px)
	}
}

func TestJSONString(t *testing.T) {
	obj := map[string]map[string]any{
		"00100010": {"vr": "PN", "Value": []any{map[string]any{"Alphabetic": "DOE^JANE"}}},
		"0020000D": {"vr": "UI", "Value": []any{"1.2.3"}},
		"00201208": {"vr": "IS", "Value": []any{float64(12)}},
		"00080050": {"vr": "SH"},
	}
	for tag, want := range map[string]string{"00100010": "DOE^JANE", "0020000D": "1.2.3", "00201208": "12", "00080050": "", "00081030": ""} {
		if got := JSONString(obj, tag); got != want {
			t.Errorf("%s: %q, want %q", tag, got, want)
		}
	}
}

// sameAsReadFileBytes fails unless ReadFileBytes gives what ReadFile gave
// (file, err) for data: the archive parses instances received into memory
// with the one and streams larger ones through the other.
func sameAsReadFileBytes(t *testing.T, data []byte, opt ReadOptions, file *File, err error) {
	t.Helper()
	file2, err2 := ReadFileBytes(data, opt)
	if fmt.Sprint(err) != fmt.Sprint(err2) {
		t.Fatalf("ReadFile: %v; ReadFileBytes: %v", err, err2)
	}
	if !reflect.DeepEqual(file, file2) {
		t.Fatalf("ReadFile and ReadFileBytes parse differently:\n%+v\n%+v", file, file2)
	}
}

// TestReadFileBytesTruncated checks that every prefix of a file, in every
// transfer syntax, parses (or fails, at the same byte and element) from
// memory as from a stream.
func TestReadFileBytesTruncated(t *testing.T) {
	for _, ts := range []string{ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian} {
		data := encodeFile(t, sampleDataset(), ts)
		for n := 0; n <= len(data); n++ {
			f, err := ReadFile(bytes.NewReader(data[:n]), ReadOptions{})
			sameAsReadFileBytes(t, data[:n], ReadOptions{}, f, err)
		}
	}
}
