package dcm

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// UndefinedLength is the 0xFFFFFFFF length of sequences, items and encapsulated pixel data.
const UndefinedLength = 0xFFFFFFFF

// ParseError describes malformed input precisely enough for a person to find it.
type ParseError struct {
	Offset int64 // byte offset in the stream (-1 inside a deflated data set)
	Tag    Tag   // element being read, 0 when none
	Msg    string
}

func (e *ParseError) Error() string {
	where := fmt.Sprintf("at byte %d", e.Offset)
	if e.Offset < 0 {
		where = "in deflated data set"
	}
	if e.Tag != 0 {
		return fmt.Sprintf("%s, element %s: %s", where, e.Tag, e.Msg)
	}
	return fmt.Sprintf("%s: %s", where, e.Msg)
}

// ErrNotPart10 is wrapped by errors about a missing preamble or DICM prefix.
var ErrNotPart10 = errors.New("not a DICOM Part 10 file")

// ReadOptions bounds what the reader keeps in memory.
type ReadOptions struct {
	// BulkThreshold: values of bulk VRs (OB, OW, OF, OD, OL, OV, UN) longer
	// than this are skipped and located by a BulkRef. Pixel Data is always
	// skipped. Default 1024.
	BulkThreshold int64
	// MaxValueLength: a non-bulk value longer than this is an error. Default 16 MiB.
	MaxValueLength int64
	// MaxDepth bounds sequence nesting. Default 32.
	MaxDepth int
	// LoadBulk keeps every value in memory, Pixel Data included (for
	// transcoding a whole data set). MaxValueLength still applies.
	LoadBulk bool
}

func (o ReadOptions) withDefaults() ReadOptions {
	if o.BulkThreshold <= 0 {
		o.BulkThreshold = 1024
	}
	if o.MaxValueLength <= 0 {
		o.MaxValueLength = 16 << 20
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 32
	}
	return o
}

// File is a parsed Part 10 file: meta information and the data set header.
type File struct {
	Meta           *Dataset
	Dataset        *Dataset
	TransferSyntax TransferSyntax
	// DatasetOffset is where the data set starts in the stream (after the meta).
	DatasetOffset int64
	// Quirks lists the departures from PS3.10 that were tolerated.
	Quirks []Quirk
}

// source is what the decoder reads from: a *bufio.Reader over a stream,
// or a sliceSource over a data set already in memory, whose skips (Pixel
// Data) move an index instead of copying the value into a buffer.
type source interface {
	io.Reader
	io.ByteReader // flate reads a deflated data set byte by byte from it
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

// sliceSource reads b with bufio.Reader's results at its end (io.EOF from
// Peek and Discard when fewer bytes remain), so that the decoder reports
// truncation the same way from memory as from a stream.
type sliceSource struct{ b []byte }

func (s *sliceSource) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

func (s *sliceSource) ReadByte() (byte, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c, nil
}

func (s *sliceSource) Peek(n int) ([]byte, error) {
	if n > len(s.b) {
		return s.b, io.EOF
	}
	return s.b[:n], nil
}

func (s *sliceSource) Discard(n int) (int, error) {
	if n > len(s.b) {
		k := len(s.b)
		s.b = s.b[k:]
		return k, io.EOF
	}
	s.b = s.b[n:]
	return n, nil
}

type decoder struct {
	br       source
	pos      int64
	implicit bool
	big      bool
	noOffset bool // inside a deflate stream: offsets are meaningless
	opt      ReadOptions
	buf      [8]byte
}

func (d *decoder) order() binary.ByteOrder {
	if d.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (d *decoder) errf(t Tag, format string, args ...any) error {
	off := d.pos
	if d.noOffset {
		off = -1
	}
	return &ParseError{Offset: off, Tag: t, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) offset() int64 {
	if d.noOffset {
		return -1
	}
	return d.pos
}

// read fills b; io.EOF only when nothing at all was read.
func (d *decoder) read(b []byte) error {
	n, err := io.ReadFull(d.br, b)
	d.pos += int64(n)
	return err
}

// skip drops n bytes in the reader's own buffer: a bulk value (Pixel
// Data) is never copied out again (io.CopyN to io.Discard copied it once
// more, 8 KiB at a time).
func (d *decoder) skip(t Tag, n int64) error {
	var got int64
	var err error
	for got < n && err == nil {
		var k int
		k, err = d.br.Discard(int(min(n-got, 1<<30)))
		got += int64(k)
	}
	d.pos += got
	if err != nil {
		if errors.Is(err, io.EOF) {
			return d.errf(t, "truncated: value declares %d bytes but only %d remain", n, got)
		}
		return d.errf(t, "reading value: %v", err)
	}
	return nil
}

// Quirk is a departure from PS3.10 the reader tolerated, as DCMTK does.
type Quirk struct {
	Code   QuirkCode
	Detail string
}

// QuirkCode names a kind of tolerated departure.
type QuirkCode string

// Tolerated departures from PS3.10.
const (
	// QuirkNoPreamble: meta information without the 128-byte preamble and DICM.
	QuirkNoPreamble QuirkCode = "no-preamble"
	// QuirkNoMeta: a bare data set; its encoding was detected.
	QuirkNoMeta QuirkCode = "no-meta"
	// QuirkMetaNoTransferSyntax: the meta lacks (0002,0010); the encoding was detected.
	QuirkMetaNoTransferSyntax QuirkCode = "meta-missing-transfer-syntax"
)

// start reads whatever precedes the data set: preamble, DICM and meta
// information when present. A stream that begins with group 0002 is meta
// without a preamble; one that begins with a plausible data set element is
// a bare data set whose encoding is detected (as DCMTK's DcmFileFormat
// does). tsUID is "" when the meta names no transfer syntax.
func (d *decoder) start() (meta *Dataset, tsUID string, quirks []Quirk, err error) {
	pre, _ := d.br.Peek(132)
	switch {
	case len(pre) == 132 && string(pre[128:]) == "DICM":
		_ = d.read(make([]byte, 132))
	case len(pre) >= 12 && string(pre[:4]) == "DICM" && binary.LittleEndian.Uint16(pre[4:]) == 0x0002:
		_ = d.read(make([]byte, 4))
		quirks = append(quirks, Quirk{Code: QuirkNoPreamble, Detail: "DICM prefix and meta information without the 128-byte preamble"})
	case len(pre) >= 8 && binary.LittleEndian.Uint16(pre) == 0x0002 && validVRs[string(pre[4:6])]:
		quirks = append(quirks, Quirk{Code: QuirkNoPreamble, Detail: "meta information without the 128-byte preamble and DICM prefix"})
	default:
		uid, ok := DetectTransferSyntax(pre)
		if !ok {
			if len(pre) < 132 {
				return nil, "", nil, fmt.Errorf("%w: only %d bytes, shorter than the 128-byte preamble and DICM prefix, and not a data set", ErrNotPart10, len(pre))
			}
			return nil, "", nil, fmt.Errorf("%w: no \"DICM\" prefix at byte 128 and no data set at byte 0", ErrNotPart10)
		}
		ts, _ := LookupTransferSyntax(uid)
		quirks = append(quirks, Quirk{Code: QuirkNoMeta, Detail: "no preamble, DICM prefix or meta information; data set encoding detected as " + ts.Name})
		return &Dataset{}, uid, quirks, nil
	}
	meta, err = d.readMeta()
	if err != nil {
		return nil, "", nil, err
	}
	return meta, meta.Str(TagTransferSyntaxUID), quirks, nil
}

// DetectTransferSyntax guesses the encoding of a data set from its first
// element header (at least 8 bytes): the byte order whose group number is
// small and plausible, explicit VR when bytes 4-5 are a VR. Only the
// uncompressed syntaxes can be told apart this way.
func DetectTransferSyntax(b []byte) (string, bool) {
	if len(b) < 8 {
		return "", false
	}
	le, be := binary.LittleEndian.Uint16(b), binary.BigEndian.Uint16(b)
	explicit := validVRs[string(b[4:6])]
	plausible := func(g uint16) bool { return g >= 0x0002 && g <= 0x0028 && g%2 == 0 }
	switch {
	case plausible(le) && explicit:
		return ExplicitVRLittleEndian, true
	case plausible(le):
		// Implicit VR: a 32-bit length follows; a huge one means this is not DICOM.
		if l := binary.LittleEndian.Uint32(b[4:]); l < 1<<20 {
			return ImplicitVRLittleEndian, true
		}
	case plausible(be) && explicit:
		return ExplicitVRBigEndian, true
	}
	return "", false
}

// ReadHeader reads the preamble and meta information of a Part 10 stream
// and returns the meta data set and the byte offset where the data set
// begins (0 for a bare data set, whose meta is empty). It may read a
// little beyond that offset: callers seek to it.
func ReadHeader(r io.Reader) (*Dataset, int64, error) {
	d := &decoder{br: bufio.NewReaderSize(r, 4096), opt: ReadOptions{}.withDefaults()}
	meta, _, _, err := d.start()
	if err != nil {
		return nil, 0, err
	}
	return meta, d.pos, nil
}

// ReadFile parses a Part 10 stream. It consumes the whole stream, skipping
// bulk values, so that truncation anywhere is detected. On a malformed data
// set it returns the error with a File holding the elements read before it. Departures DCMTK
// tolerates (no preamble, no meta, no transfer syntax in the meta) are
// tolerated too and listed in File.Quirks.
func ReadFile(r io.Reader, opt ReadOptions) (*File, error) {
	br := fileReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() { br.Reset(nil); fileReaders.Put(br) }()
	return readFile(br, opt)
}

// ReadFileBytes parses a Part 10 stream held in b, as ReadFile does, but
// without copying b through a buffer: bulk values are skipped in place.
// The File keeps no reference to b.
func ReadFileBytes(b []byte, opt ReadOptions) (*File, error) {
	return readFile(&sliceSource{b}, opt)
}

func readFile(br source, opt ReadOptions) (*File, error) {
	d := &decoder{br: br, opt: opt.withDefaults()}
	meta, uid, quirks, err := d.start()
	if err != nil {
		return nil, err
	}
	f := &File{Meta: meta, Quirks: quirks}
	if uid == "" {
		p, _ := d.br.Peek(8)
		detected, ok := DetectTransferSyntax(p)
		if !ok {
			return nil, &ParseError{Offset: d.pos, Tag: TagTransferSyntaxUID, Msg: "missing Transfer Syntax UID in file meta information, and the data set encoding cannot be detected"}
		}
		uid = detected
		f.Quirks = append(f.Quirks, Quirk{Code: QuirkMetaNoTransferSyntax, Detail: "meta information lacks Transfer Syntax UID; detected " + detected})
	}
	ts, ok := LookupTransferSyntax(uid)
	if !ok {
		return nil, &ParseError{Offset: d.pos, Tag: TagTransferSyntaxUID, Msg: fmt.Sprintf("unsupported transfer syntax %q", uid)}
	}
	f.TransferSyntax = ts
	f.DatasetOffset = d.pos
	ds, err := d.readDataset(ts)
	f.Dataset = ds
	if err != nil {
		// What was read stays readable, so callers can name the instance
		// they refuse.
		return f, err
	}
	return f, nil
}

// fileReaders keep ReadFile's 64 KiB buffers between calls: every stored
// instance is parsed through one, and values are copied out of it.
var fileReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// ReadDataset parses a data set without meta information, encoded in the
// given transfer syntax (as DIMSE carries them).
func ReadDataset(r io.Reader, tsUID string, opt ReadOptions) (*Dataset, error) {
	ts, ok := LookupTransferSyntax(tsUID)
	if !ok {
		return nil, fmt.Errorf("unsupported transfer syntax %q", tsUID)
	}
	d := &decoder{br: bufio.NewReaderSize(r, 32<<10), opt: opt.withDefaults()}
	return d.readDataset(ts)
}

func (d *decoder) readDataset(ts TransferSyntax) (*Dataset, error) {
	d.implicit, d.big = ts.Implicit, ts.BigEndian
	if ts.Deflated {
		d.br = bufio.NewReaderSize(flate.NewReader(d.br), 64<<10)
		d.noOffset = true
	}
	ds := &Dataset{}
	if err := d.readElements(ds, -1, 0, true); err != nil {
		return ds, err
	}
	return ds, nil
}

func (d *decoder) readMeta() (*Dataset, error) {
	meta := &Dataset{}
	// Meta information is always explicit VR little endian. Read while the
	// next group is 0002 rather than trusting the group length, which some
	// writers get wrong.
	for {
		p, err := d.br.Peek(2)
		if err != nil || binary.LittleEndian.Uint16(p) != 0x0002 {
			break
		}
		t, vr, vl, err := d.readHeader()
		if err != nil {
			return nil, d.asTruncated(err, 0, "file meta information is truncated")
		}
		e, err := d.readValue(t, vr, vl, 0)
		if err != nil {
			return nil, err
		}
		appendElement(meta, e)
	}
	if len(meta.Elements) == 0 {
		return nil, &ParseError{Offset: d.pos, Msg: "no file meta information (group 0002) after the DICM prefix"}
	}
	return meta, nil
}

func (d *decoder) asTruncated(err error, t Tag, msg string) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return d.errf(t, "%s", msg)
	}
	return d.errf(t, "%s: %v", msg, err)
}

var longVRs = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true, "SQ": true, "UC": true, "UR": true, "UT": true, "UN": true}

var validVRs = map[string]bool{
	"AE": true, "AS": true, "AT": true, "CS": true, "DA": true, "DS": true, "DT": true, "FL": true, "FD": true,
	"IS": true, "LO": true, "LT": true, "OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true,
	"PN": true, "SH": true, "SL": true, "SQ": true, "SS": true, "ST": true, "SV": true, "TM": true, "UC": true,
	"UI": true, "UL": true, "UN": true, "UR": true, "US": true, "UT": true, "UV": true,
}

func isBulkVR(vr string) bool {
	switch vr {
	case "OB", "OW", "OF", "OD", "OL", "OV", "UN":
		return true
	}
	return false
}

// readHeader reads tag, VR and length. It returns io.EOF only at a clean
// element boundary.
func (d *decoder) readHeader() (Tag, string, uint32, error) {
	b := d.buf[:4]
	if err := d.read(b); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, "", 0, d.errf(0, "truncated inside an element tag")
		}
		return 0, "", 0, err
	}
	o := d.order()
	t := NewTag(o.Uint16(b), o.Uint16(b[2:]))
	if t.Group() == 0xFFFE || d.implicit {
		if err := d.read(b); err != nil {
			return 0, "", 0, d.errf(t, "truncated inside the element length")
		}
		vr := ""
		if t.Group() != 0xFFFE {
			vr = VROf(t)
		}
		return t, vr, o.Uint32(b), nil
	}
	if err := d.read(b[:2]); err != nil {
		return 0, "", 0, d.errf(t, "truncated inside the VR")
	}
	vr := string(b[:2])
	if !validVRs[vr] {
		return 0, "", 0, d.errf(t, "invalid VR %q", vr)
	}
	if longVRs[vr] {
		// Two reserved bytes, then a 32-bit length.
		if err := d.read(b[:2]); err != nil {
			return 0, "", 0, d.errf(t, "truncated inside the element length")
		}
		if err := d.read(b); err != nil {
			return 0, "", 0, d.errf(t, "truncated inside the element length")
		}
		return t, vr, o.Uint32(b), nil
	}
	if err := d.read(b[:2]); err != nil {
		return 0, "", 0, d.errf(t, "truncated inside the element length")
	}
	return t, vr, uint32(o.Uint16(b[:2])), nil
}

// readItemHeader reads the tag and 32-bit length that start an item or a
// delimiter; these never carry a VR.
func (d *decoder) readItemHeader() (Tag, uint32, error) {
	b := d.buf[:8]
	if err := d.read(b); err != nil {
		return 0, 0, err
	}
	o := d.order()
	return NewTag(o.Uint16(b), o.Uint16(b[2:])), o.Uint32(b[4:]), nil
}

// readElements reads elements into ds until end (a byte position), an item
// delimiter (end < 0 inside an item), or a clean EOF (top level).
func (d *decoder) readElements(ds *Dataset, end int64, depth int, top bool) error {
	for {
		if end >= 0 && d.pos >= end {
			if d.pos > end {
				return d.errf(0, "elements overrun their item by %d bytes", d.pos-end)
			}
			return nil
		}
		t, vr, vl, err := d.readHeader()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if top {
					return nil
				}
				return d.errf(0, "truncated: item not terminated")
			}
			return err
		}
		switch t {
		case TagItemDelimitation:
			if top || end >= 0 {
				return d.errf(t, "item delimiter outside an undefined-length item")
			}
			return nil
		case TagSequenceDelimitation:
			return d.errf(t, "sequence delimiter outside a sequence")
		case TagItem:
			return d.errf(t, "item tag outside a sequence")
		}
		e, err := d.readValue(t, vr, vl, depth)
		if err != nil {
			return err
		}
		appendElement(ds, e)
	}
}

// appendElement keeps ascending order; a repeated tag keeps its first value.
func appendElement(ds *Dataset, e *Element) {
	n := len(ds.Elements)
	if n == 0 || ds.Elements[n-1].Tag < e.Tag {
		ds.Elements = append(ds.Elements, e)
		return
	}
	if ds.Get(e.Tag) == nil {
		i, _ := slices.BinarySearchFunc(ds.Elements, e.Tag, func(x *Element, t Tag) int { return cmpTag(x.Tag, t) })
		ds.Elements = slices.Insert(ds.Elements, i, e)
	}
}

func isPixelTag(t Tag) bool {
	return t == TagPixelData || t == TagFloatPixelData || t == TagDoubleFloatPixelData
}

func (d *decoder) readValue(t Tag, vr string, vl uint32, depth int) (*Element, error) {
	e := &Element{Tag: t, VR: vr}
	switch {
	case vr == "SQ" || (vl == UndefinedLength && vr == "UN" && !isPixelTag(t)):
		// An undefined-length UN is a sequence encoded implicit VR (PS3.5 §6.2.2).
		e.VR = "SQ"
		implicit, big := d.implicit, d.big
		if vr == "UN" {
			// CP-246: its items are Implicit VR Little Endian.
			d.implicit, d.big = true, false
		}
		items, err := d.readSequence(t, vl, depth+1)
		d.implicit, d.big = implicit, big
		if err != nil {
			return nil, err
		}
		e.Items = items
	case vl == UndefinedLength:
		if !isPixelTag(t) {
			return nil, d.errf(t, "undefined length is not allowed for VR %s", vr)
		}
		ref, err := d.readEncapsulated(t)
		if err != nil {
			return nil, err
		}
		e.Bulk = ref
	case !d.opt.LoadBulk && (isPixelTag(t) || t == TagDataSetTrailingPadding || (isBulkVR(vr) && int64(vl) > d.opt.BulkThreshold)):
		e.Bulk = &BulkRef{Offset: d.offset(), Length: int64(vl)}
		if err := d.skip(t, int64(vl)); err != nil {
			return nil, err
		}
	default:
		if int64(vl) > d.opt.MaxValueLength {
			return nil, d.errf(t, "declared length %d exceeds the %d-byte limit for a %s value", vl, d.opt.MaxValueLength, vr)
		}
		v, err := d.readBytes(t, int64(vl))
		if err != nil {
			return nil, err
		}
		if d.big {
			swapToLittle(vr, v)
		}
		e.Value = v
	}
	return e, nil
}

func (d *decoder) readBytes(t Tag, n int64) ([]byte, error) {
	if n <= 64<<10 {
		v := make([]byte, n)
		if err := d.read(v); err != nil {
			return nil, d.errf(t, "truncated: value declares %d bytes", n)
		}
		return v, nil
	}
	// Grow as bytes arrive so a lying length cannot allocate memory up front.
	var buf bytes.Buffer
	got, err := io.CopyN(&buf, d.br, n)
	d.pos += got
	if err != nil {
		return nil, d.errf(t, "truncated: value declares %d bytes but only %d remain", n, got)
	}
	return buf.Bytes(), nil
}

func (d *decoder) readSequence(t Tag, vl uint32, depth int) ([]*Dataset, error) {
	if depth > d.opt.MaxDepth {
		return nil, d.errf(t, "sequences nested deeper than %d", d.opt.MaxDepth)
	}
	end := int64(-1)
	if vl != UndefinedLength {
		end = d.pos + int64(vl)
	}
	var items []*Dataset
	for {
		if end >= 0 && d.pos >= end {
			if d.pos > end {
				return nil, d.errf(t, "items overrun the sequence length by %d bytes", d.pos-end)
			}
			return items, nil
		}
		il, done, err := d.nextItem(t, "sequence", "an item (FFFE,E000) in the sequence")
		if err != nil {
			return nil, err
		}
		if done {
			return items, nil
		}
		item := &Dataset{}
		if il == UndefinedLength {
			err = d.readElements(item, -1, depth, false)
		} else {
			iend := d.pos + int64(il)
			if end >= 0 && iend > end {
				return nil, d.errf(t, "item length %d overruns the sequence", il)
			}
			err = d.readElements(item, iend, depth, false)
		}
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
}

// nextItem reads the next item header inside t (what, in the messages):
// done at the sequence delimiter, an error for anything but an item
// (expected names it).
func (d *decoder) nextItem(t Tag, what, expected string) (length uint32, done bool, err error) {
	it, il, err := d.readItemHeader()
	switch {
	case err != nil:
		return 0, false, d.asTruncated(err, t, "truncated: "+what+" not terminated")
	case it == TagSequenceDelimitation:
		return 0, true, nil
	case it != TagItem:
		return 0, false, d.errf(t, "expected %s, found %s", expected, it)
	}
	return il, false, nil
}

func (d *decoder) readEncapsulated(t Tag) (*BulkRef, error) {
	ref := &BulkRef{Offset: d.offset(), Length: -1}
	first := true
	for {
		il, done, err := d.nextItem(t, "encapsulated pixel data", "a fragment item in encapsulated pixel data")
		if err != nil {
			return nil, err
		}
		if done {
			return ref, nil
		}
		if il == UndefinedLength {
			return nil, d.errf(t, "pixel data fragment with undefined length")
		}
		if first {
			first = false
			if il%4 != 0 || int64(il) > d.opt.MaxValueLength {
				return nil, d.errf(t, "basic offset table length %d is not a small multiple of 4", il)
			}
			v, err := d.readBytes(t, int64(il))
			if err != nil {
				return nil, err
			}
			for i := 0; i+4 <= len(v); i += 4 {
				ref.OffsetTable = append(ref.OffsetTable, d.order().Uint32(v[i:]))
			}
			continue
		}
		if len(ref.Fragments) >= 1<<22 {
			return nil, d.errf(t, "more than %d pixel data fragments", 1<<22)
		}
		ref.Fragments = append(ref.Fragments, Fragment{Offset: d.offset(), Length: int64(il)})
		if err := d.skip(t, int64(il)); err != nil {
			return nil, err
		}
	}
}

func swapToLittle(vr string, v []byte) {
	size := 0
	switch vr {
	case "US", "SS", "OW", "AT":
		size = 2
	case "UL", "SL", "FL", "OF", "OL":
		size = 4
	case "FD", "OD", "SV", "UV", "OV":
		size = 8
	}
	if size == 0 {
		return
	}
	for i := 0; i+size <= len(v); i += size {
		slices.Reverse(v[i : i+size])
	}
}

// SwapToLittle converts a big endian value of the given VR to little endian
// in place (what the reader does for the values it keeps).
func SwapToLittle(vr string, v []byte) { swapToLittle(vr, v) }
