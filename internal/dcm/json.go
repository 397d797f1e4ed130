package dcm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSONOptions controls DICOM JSON (PS3.18 Annex F) encoding.
type JSONOptions struct {
	// BulkURI returns the BulkDataURI for a top-level element whose value
	// was not loaded (or is bulk). Empty means "omit the value".
	BulkURI func(t Tag) string
	// InlineBinaryMax: loaded binary values up to this size are inlined as
	// base64; larger ones go to BulkURI. Default 1024.
	InlineBinaryMax int
	// SkipMeta leaves out group 0002 and group lengths.
	SkipMeta bool
}

// MarshalJSON encodes a data set as a DICOM JSON object.
func MarshalJSON(ds *Dataset, opt JSONOptions) []byte {
	var b bytes.Buffer
	// Sized once: the archive encodes every instance it stores, and
	// growing from empty copied it half a dozen times.
	b.Grow(jsonSizeHint(ds))
	AppendJSON(&b, ds, opt)
	return b.Bytes()
}

// jsonSizeHint estimates the length of ds in DICOM JSON: each element's
// framing plus its value (base64 for short binary values, a URI for long
// ones).
func jsonSizeHint(ds *Dataset) int {
	n := 2
	for _, e := range ds.Elements {
		n += 36
		switch e.VR {
		case "SQ":
			for _, it := range e.Items {
				n += jsonSizeHint(it) + 1
			}
		case "OB", "OD", "OF", "OL", "OV", "OW", "UN":
			if len(e.Value) <= 1024 {
				n += len(e.Value) * 4 / 3
			} else {
				n += 96
			}
		default:
			n += len(e.Value) + 8
		}
	}
	return n
}

// AppendJSON is MarshalJSON writing into b: a response of many data sets
// (QIDO-RS) is written into one buffer rather than one per data set.
func AppendJSON(b *bytes.Buffer, ds *Dataset, opt JSONOptions) {
	if opt.InlineBinaryMax == 0 {
		opt.InlineBinaryMax = 1024
	}
	writeJSONObject(b, ds, opt, charsetOf(ds), true)
}

type charset int

const (
	charsetDefault charset = iota
	charsetLatin1
	charsetUTF8
)

func charsetOf(ds *Dataset) charset {
	switch strings.TrimSpace(ds.Str(TagSpecificCharacterSet)) {
	case "ISO_IR 100":
		return charsetLatin1
	case "ISO_IR 192":
		return charsetUTF8
	}
	return charsetDefault
}

// decodeText turns value bytes into UTF-8 according to the character set.
func decodeText(b []byte, cs charset) string {
	if cs == charsetLatin1 {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func writeJSONObject(b *bytes.Buffer, ds *Dataset, opt JSONOptions, cs charset, top bool) {
	b.WriteByte('{')
	first := true
	for _, e := range ds.Elements {
		if e.Tag.Element() == 0 || (opt.SkipMeta && e.Tag.Group() == 0x0002) {
			continue
		}
		if e.Tag.Group() == 0xFFFC || e.Tag.Group() == 0xFFFE {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteByte('"')
		writeTagHex(b, e.Tag)
		b.WriteString(`":{"vr":"`)
		b.WriteString(e.VR)
		b.WriteByte('"')
		writeJSONValue(b, e, opt, cs, top)
		b.WriteByte('}')
	}
	b.WriteByte('}')
}

func writeJSONValue(b *bytes.Buffer, e *Element, opt JSONOptions, cs charset, top bool) {
	switch e.VR {
	case "SQ":
		if len(e.Items) == 0 {
			return
		}
		b.WriteString(`,"Value":[`)
		for i, it := range e.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONObject(b, it, opt, cs, false)
		}
		b.WriteByte(']')
		return
	case "OB", "OD", "OF", "OL", "OV", "OW", "UN":
		if e.Value != nil && e.Bulk == nil && len(e.Value) <= opt.InlineBinaryMax && !isPixelTag(e.Tag) {
			if len(e.Value) > 0 {
				b.WriteString(`,"InlineBinary":"`)
				b.WriteString(base64.StdEncoding.EncodeToString(e.Value))
				b.WriteByte('"')
			}
			return
		}
		if top && opt.BulkURI != nil {
			if u := opt.BulkURI(e.Tag); u != "" {
				b.WriteString(`,"BulkDataURI":`)
				writeJSONString(b, u)
			}
		}
		return
	}
	if len(e.Value) == 0 {
		return
	}
	switch e.VR {
	case "PN":
		b.WriteString(`,"Value":[`)
		for i, v := range strings.Split(decodeText(e.Value, cs), `\`) {
			if i > 0 {
				b.WriteByte(',')
			}
			v = strings.TrimRight(v, " \x00")
			if v == "" {
				b.WriteString("null")
				continue
			}
			b.WriteByte('{')
			for j, part := range strings.SplitN(v, "=", 3) {
				if part == "" {
					continue
				}
				if b.Bytes()[b.Len()-1] != '{' {
					b.WriteByte(',')
				}
				b.WriteString([]string{`"Alphabetic":`, `"Ideographic":`, `"Phonetic":`}[j])
				writeJSONString(b, part)
			}
			b.WriteByte('}')
		}
		b.WriteByte(']')
	case "IS", "DS":
		b.WriteString(`,"Value":[`)
		first := true
		eachValue(e, func(v []byte) {
			if !first {
				b.WriteByte(',')
			}
			first = false
			f, err := strconv.ParseFloat(string(v), 64)
			switch {
			case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
				b.WriteString("null")
			case e.VR == "IS":
				b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(f), 10))
			default:
				b.Write(strconv.AppendFloat(b.AvailableBuffer(), f, 'g', -1, 64))
			}
		})
		b.WriteByte(']')
	case "US", "SS", "UL", "SL":
		writeNumbers(b, e.Floats())
	case "FL", "FD":
		writeNumbers(b, e.Floats())
	case "SV", "UV":
		b.WriteString(`,"Value":[`)
		for i := 0; i+8 <= len(e.Value); i += 8 {
			if i > 0 {
				b.WriteByte(',')
			}
			u := uint64(e.Value[i]) | uint64(e.Value[i+1])<<8 | uint64(e.Value[i+2])<<16 | uint64(e.Value[i+3])<<24 |
				uint64(e.Value[i+4])<<32 | uint64(e.Value[i+5])<<40 | uint64(e.Value[i+6])<<48 | uint64(e.Value[i+7])<<56
			if e.VR == "SV" {
				b.WriteString(strconv.FormatInt(int64(u), 10))
			} else {
				b.WriteString(strconv.FormatUint(u, 10))
			}
		}
		b.WriteByte(']')
	case "AT":
		b.WriteString(`,"Value":[`)
		for i := 0; i+4 <= len(e.Value); i += 4 {
			if i > 0 {
				b.WriteByte(',')
			}
			g := uint16(e.Value[i]) | uint16(e.Value[i+1])<<8
			el := uint16(e.Value[i+2]) | uint16(e.Value[i+3])<<8
			b.WriteByte('"')
			writeTagHex(b, NewTag(g, el))
			b.WriteByte('"')
		}
		b.WriteByte(']')
	default:
		b.WriteString(`,"Value":[`)
		first := true
		eachValue(e, func(v []byte) {
			if !first {
				b.WriteByte(',')
			}
			first = false
			if len(v) == 0 {
				b.WriteString("null")
				return
			}
			writeJSONText(b, v, cs)
		})
		b.WriteByte(']')
	}
}

// eachValue calls fn with each value of a string element, split and
// trimmed exactly as Element.Strings does, without allocating.
func eachValue(e *Element, fn func(v []byte)) {
	switch e.VR {
	case "LT", "ST", "UT", "UR":
		fn(bytes.TrimRight(e.Value, " \x00"))
		return
	}
	rest := e.Value
	for {
		v, after, more := bytes.Cut(rest, []byte{'\\'})
		if e.VR == "UI" {
			fn(bytes.TrimRight(v, "\x00 "))
		} else {
			fn(bytes.Trim(v, " \x00"))
		}
		if !more {
			return
		}
		rest = after
	}
}

// writeJSONText writes a text value in character set cs as a JSON string;
// plain ASCII, the usual case, goes straight from the value bytes.
func writeJSONText(b *bytes.Buffer, v []byte, cs charset) {
	for _, c := range v {
		if c < 0x20 || c >= 0x7F || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			writeJSONString(b, decodeText(v, cs))
			return
		}
	}
	b.WriteByte('"')
	b.Write(v)
	b.WriteByte('"')
}

func writeNumbers(b *bytes.Buffer, fs []float64) {
	b.WriteString(`,"Value":[`)
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			b.WriteString("null")
			continue
		}
		b.Write(strconv.AppendFloat(b.AvailableBuffer(), f, 'g', -1, 64))
	}
	b.WriteByte(']')
}

// writeJSONString writes s as encoding/json would (HTML characters
// escaped too), without its allocations for the common case: printable
// ASCII needing no escape. A QIDO response of 1,000 instances writes tens
// of thousands of such strings.
func writeJSONString(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7F || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, _ := json.Marshal(s)
			b.Write(enc)
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}

// writeTagHex writes a tag as eight upper-case hex digits (Tag.Hex without
// fmt).
func writeTagHex(b *bytes.Buffer, t Tag) {
	const digits = "0123456789ABCDEF"
	var h [8]byte
	for i := 7; i >= 0; i-- {
		h[i] = digits[t&0xF]
		t >>= 4
	}
	b.Write(h[:])
}
