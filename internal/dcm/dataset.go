package dcm

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Element is one data element. Value holds the raw value bytes in little
// endian order (big endian input is swapped on read) for every VR except SQ,
// whose items are in Items. A bulk value the reader skipped has Value == nil
// and Bulk set to where it lives in the source stream.
type Element struct {
	Tag   Tag
	VR    string
	Value []byte
	Items []*Dataset
	// Bulk locates a value that was not loaded (Pixel Data, large OB/OW).
	Bulk *BulkRef
	// Encapsulated holds compressed pixel data items to write: the Basic
	// Offset Table first (may be empty), then one or more fragments.
	Encapsulated [][]byte
}

// BulkRef is the location of a skipped value in the source stream. Offset is
// -1 when the stream had no stable offsets (deflated data sets).
type BulkRef struct {
	Offset int64
	Length int64 // -1 for undefined length (encapsulated)
	// Fragments of encapsulated pixel data, after the Basic Offset Table.
	Fragments []Fragment
	// OffsetTable is the Basic Offset Table of encapsulated pixel data.
	OffsetTable []uint32
}

// Fragment is one encapsulated pixel data item's value in the source stream.
type Fragment struct {
	Offset int64
	Length int64
}

// Dataset is an ordered list of elements (ascending tag order).
type Dataset struct {
	Elements []*Element
}

// Get returns the element with tag t, or nil.
func (d *Dataset) Get(t Tag) *Element {
	if d == nil {
		return nil
	}
	i, ok := slices.BinarySearchFunc(d.Elements, t, func(e *Element, t Tag) int {
		return cmpTag(e.Tag, t)
	})
	if !ok {
		return nil
	}
	return d.Elements[i]
}

func cmpTag(a, b Tag) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Put inserts e, replacing an element with the same tag.
func (d *Dataset) Put(e *Element) {
	i, ok := slices.BinarySearchFunc(d.Elements, e.Tag, func(x *Element, t Tag) int {
		return cmpTag(x.Tag, t)
	})
	if ok {
		d.Elements[i] = e
		return
	}
	d.Elements = slices.Insert(d.Elements, i, e)
}

// Delete removes the element with tag t if present.
func (d *Dataset) Delete(t Tag) {
	d.Elements = slices.DeleteFunc(d.Elements, func(e *Element) bool { return e.Tag == t })
}

// Has reports whether the data set contains t.
func (d *Dataset) Has(t Tag) bool { return d.Get(t) != nil }

// Str returns the first value of a string element, trimmed of padding.
func (d *Dataset) Str(t Tag) string {
	v, _ := first(d.Strs(t))
	return v
}

// Strs returns the values of a string element split on backslash.
func (d *Dataset) Strs(t Tag) []string {
	e := d.Get(t)
	if e == nil {
		return nil
	}
	return e.Strings()
}

// Strings decodes the element's value as backslash-separated strings. Text
// VRs that cannot hold several values (LT, ST, UT, UR) are returned whole.
func (e *Element) Strings() []string {
	if e == nil || len(e.Value) == 0 {
		return nil
	}
	s := string(e.Value)
	switch e.VR {
	case "LT", "ST", "UT", "UR":
		return []string{strings.TrimRight(s, " \x00")}
	}
	parts := strings.Split(s, `\`)
	for i, p := range parts {
		if e.VR == "UI" {
			parts[i] = strings.TrimRight(p, "\x00 ")
		} else {
			parts[i] = strings.Trim(p, " \x00")
		}
	}
	return parts
}

// first returns the first of vs, if any.
func first[T any](vs []T) (T, bool) {
	if len(vs) == 0 {
		var zero T
		return zero, false
	}
	return vs[0], true
}

// Int returns the first value of an integer element (IS, US, SS, UL, SL).
func (d *Dataset) Int(t Tag) (int, bool) {
	return first(d.Get(t).Ints())
}

// IntOr returns the first integer value of t, or def when absent.
func (d *Dataset) IntOr(t Tag, def int) int {
	if v, ok := d.Int(t); ok {
		return v
	}
	return def
}

// Ints decodes an integer element.
func (e *Element) Ints() []int {
	if e == nil {
		return nil
	}
	var out []int
	v := e.Value
	switch e.VR {
	case "US":
		for i := 0; i+2 <= len(v); i += 2 {
			out = append(out, int(binary.LittleEndian.Uint16(v[i:])))
		}
	case "SS":
		for i := 0; i+2 <= len(v); i += 2 {
			out = append(out, int(int16(binary.LittleEndian.Uint16(v[i:]))))
		}
	case "UL":
		for i := 0; i+4 <= len(v); i += 4 {
			out = append(out, int(binary.LittleEndian.Uint32(v[i:])))
		}
	case "SL":
		for i := 0; i+4 <= len(v); i += 4 {
			out = append(out, int(int32(binary.LittleEndian.Uint32(v[i:]))))
		}
	case "IS", "DS":
		for _, s := range e.Strings() {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			} else if f, err := strconv.ParseFloat(s, 64); err == nil {
				out = append(out, int(f))
			}
		}
	}
	return out
}

// Floats decodes a numeric element (DS, IS, FL, FD and the integer VRs).
func (e *Element) Floats() []float64 {
	if e == nil {
		return nil
	}
	v := e.Value
	var out []float64
	switch e.VR {
	case "FL", "OF":
		for i := 0; i+4 <= len(v); i += 4 {
			out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(v[i:]))))
		}
	case "FD", "OD":
		for i := 0; i+8 <= len(v); i += 8 {
			out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(v[i:])))
		}
	case "DS", "IS":
		for _, s := range e.Strings() {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				out = append(out, f)
			}
		}
	default:
		for _, n := range e.Ints() {
			out = append(out, float64(n))
		}
	}
	return out
}

// Float returns the first numeric value of t.
func (d *Dataset) Float(t Tag) (float64, bool) {
	return first(d.Get(t).Floats())
}

// Seq returns the items of a sequence element.
func (d *Dataset) Seq(t Tag) []*Dataset {
	e := d.Get(t)
	if e == nil {
		return nil
	}
	return e.Items
}

// SetStr sets a string element; the VR comes from the dictionary.
func (d *Dataset) SetStr(t Tag, values ...string) {
	d.Put(StrElement(t, VROf(t), values...))
}

// StrElement builds a string element with an explicit VR, padded to even length.
func StrElement(t Tag, vr string, values ...string) *Element {
	b := []byte(strings.Join(values, `\`))
	if len(b)%2 == 1 {
		if vr == "UI" {
			b = append(b, 0)
		} else {
			b = append(b, ' ')
		}
	}
	return &Element{Tag: t, VR: vr, Value: b}
}

// SetUint16 sets a US element.
func (d *Dataset) SetUint16(t Tag, values ...uint16) {
	b := make([]byte, 2*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	d.Put(&Element{Tag: t, VR: "US", Value: b})
}

// SetUint32 sets a UL element.
func (d *Dataset) SetUint32(t Tag, values ...uint32) {
	b := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	d.Put(&Element{Tag: t, VR: "UL", Value: b})
}

// SetSeq sets a sequence element.
func (d *Dataset) SetSeq(t Tag, items ...*Dataset) {
	d.Put(&Element{Tag: t, VR: "SQ", Items: items})
}

// SetBytes sets a binary element (OB, OW, UN ...).
func (d *Dataset) SetBytes(t Tag, vr string, b []byte) {
	if len(b)%2 == 1 {
		b = append(b[:len(b):len(b)], 0)
	}
	d.Put(&Element{Tag: t, VR: vr, Value: b})
}

// FormatDS formats a decimal string value within the 16-byte DS limit.
func FormatDS(f float64) string {
	s := strconv.FormatFloat(f, 'g', 10, 64)
	if len(s) > 16 {
		s = strconv.FormatFloat(f, 'g', 6, 64)
	}
	return s
}
