package hl7

import (
	"bytes"
	"fmt"
	"strings"
)

// Null is HL7's explicit null value (`""`), meaning "delete the stored value".
const Null = `""`

// Component holds the subcomponents of one component, as escaped wire text.
type Component []string

// Repetition holds the components of one field repetition.
type Repetition []Component

// Field holds the repetitions of one field. A nil Field is empty.
type Field []Repetition

// Segment is one segment: its ID and its fields. Fields[0] is field 1.
// For MSH, Fields[0] (MSH-1) and Fields[1] (MSH-2) are placeholders: the
// separators live in the message's Delimiters.
type Segment struct {
	Name   string
	Fields []Field

	d   Delimiters
	seq int // 1-based occurrence of Name in its message, 0 if unknown
}

// Message is a parsed or built HL7 v2 message. Leaves are stored as wire
// (escaped) text, so parsing and re-encoding a message reproduces it
// byte-for-byte apart from segment terminators, which are always written as
// CR.
type Message struct {
	Delims   Delimiters
	Segments []*Segment
}

// NewMessage returns a message containing only an MSH built from h, using
// the standard |^~\& delimiters. Unset MSH-7 (now), MSH-10 (random), MSH-11
// ("P") and MSH-12 ("2.5.1") are filled in.
func NewMessage(h MSH) *Message {
	return NewMessageWithDelimiters(DefaultDelimiters(), h)
}

// NewMessageWithDelimiters is [NewMessage] with custom delimiters (which must
// pass [Delimiters.Validate] and include an escape character).
func NewMessageWithDelimiters(d Delimiters, h MSH) *Message {
	m := &Message{Delims: d}
	fillHeader(&h)
	h.Encode(m.AddSegment("MSH"))
	return m
}

// NewSegment returns a detached segment using delimiters d; add it to a
// message with [Message.Append].
func NewSegment(name string, d Delimiters) *Segment {
	s := &Segment{Name: name, d: d}
	if name == "MSH" {
		s.Fields = make([]Field, 2)
	}
	return s
}

// AddSegment appends a new empty segment and returns it.
func (m *Message) AddSegment(name string) *Segment {
	s := NewSegment(name, m.Delims)
	m.Append(s)
	return s
}

// Append appends s to m, re-escaping its content if it was built with other
// delimiters.
func (m *Message) Append(s *Segment) {
	if s.d != m.Delims {
		s.transcode(m.Delims)
	}
	s.seq = 1
	for _, o := range m.Segments {
		if o.Name == s.Name {
			s.seq++
		}
	}
	m.Segments = append(m.Segments, s)
}

// Segment returns the first segment with the given ID, or nil.
func (m *Message) Segment(name string) *Segment { return m.SegmentN(name, 1) }

// SegmentN returns the n-th (1-based) segment with the given ID, or nil.
func (m *Message) SegmentN(name string, n int) *Segment {
	for _, s := range m.Segments {
		if s.Name == name {
			n--
			if n == 0 {
				return s
			}
		}
	}
	return nil
}

// All returns every segment with the given ID, in order.
func (m *Message) All(name string) []*Segment {
	var out []*Segment
	for _, s := range m.Segments {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Bytes encodes the message with CR segment terminators (a trailing CR
// after the last segment).
func (m *Message) Bytes() []byte {
	var b bytes.Buffer
	for _, s := range m.Segments {
		if s.d != m.Delims {
			s.transcode(m.Delims)
		}
		s.writeTo(&b, m.Delims)
		b.WriteByte('\r')
	}
	return b.Bytes()
}

// String is string(m.Bytes()). Beware: it contains patient data.
func (m *Message) String() string { return string(m.Bytes()) }

// ControlID returns MSH-10.
func (m *Message) ControlID() string { return m.Get("MSH-10") }

// Version returns MSH-12-1.
func (m *Message) Version() string { return m.Get("MSH-12") }

// Type returns MSH-9 as a MSG (code, trigger event, structure).
func (m *Message) Type() MSG {
	return MSG{Code: m.Get("MSH-9-1"), Trigger: m.Get("MSH-9-2"), Structure: m.Get("MSH-9-3")}
}

// Summary describes the message for logs without patient data:
// type, control ID and size.
func (m *Message) Summary() string {
	return fmt.Sprintf("type=%s control_id=%q segments=%d", m.Type(), m.ControlID(), len(m.Segments))
}

func (s *Segment) writeTo(b *bytes.Buffer, d Delimiters) {
	b.WriteString(s.Name)
	start := 0
	if s.Name == "MSH" {
		b.WriteByte(d.Field)
		b.WriteString(d.EncodingCharacters())
		start = 2
	}
	for i := start; i < len(s.Fields); i++ {
		b.WriteByte(d.Field)
		writeField(b, s.Fields[i], d)
	}
}

// writeField writes f. Levels the message has no delimiter for (MSH-2
// shorter than four characters) keep only their first element.
func writeField(b *bytes.Buffer, f Field, d Delimiters) {
	for ri, r := range f {
		if ri > 0 {
			if d.Repetition == 0 {
				break
			}
			b.WriteByte(d.Repetition)
		}
		for ci, c := range r {
			if ci > 0 {
				b.WriteByte(d.Component)
			}
			for si, sc := range c {
				if si > 0 {
					if d.Subcomponent == 0 {
						break
					}
					b.WriteByte(d.Subcomponent)
				}
				b.WriteString(sc)
			}
		}
	}
}

func (s *Segment) transcode(to Delimiters) {
	from := s.d
	for fi, f := range s.Fields {
		if s.Name == "MSH" && fi < 2 {
			continue
		}
		for _, r := range f {
			for _, c := range r {
				for k, v := range c {
					if v != Null {
						c[k] = to.EscapeValue(from.UnescapeValue(v))
					}
				}
			}
		}
	}
	s.d = to
}

// splitField parses wire text into a Field.
func splitField(raw string, d Delimiters) Field {
	if raw == "" {
		return nil
	}
	var reps []string
	if d.Repetition != 0 {
		reps = strings.Split(raw, string(d.Repetition))
	} else {
		reps = []string{raw}
	}
	f := make(Field, len(reps))
	for i, r := range reps {
		f[i] = splitRep(r, d)
	}
	return f
}

func splitRep(raw string, d Delimiters) Repetition {
	comps := strings.Split(raw, string(d.Component))
	r := make(Repetition, len(comps))
	for i, c := range comps {
		r[i] = splitComp(c, d)
	}
	return r
}

func splitComp(raw string, d Delimiters) Component {
	if d.Subcomponent == 0 {
		return Component{raw}
	}
	return Component(strings.Split(raw, string(d.Subcomponent)))
}

// Field returns field n (1-based), or nil.
func (s *Segment) Field(n int) Field {
	if n < 1 || n > len(s.Fields) {
		return nil
	}
	return s.Fields[n-1]
}

// Repetitions returns the number of repetitions of field n.
func (s *Segment) Repetitions(n int) int { return len(s.Field(n)) }

// Delimiters returns the delimiters the segment's wire text is escaped with.
func (s *Segment) Delimiters() Delimiters { return s.d }

// leaf returns the raw text at (f, r, c, sc), all 1-based.
func (s *Segment) leaf(f, r, c, sc int) string {
	fld := s.Field(f)
	if r < 1 || r > len(fld) {
		return ""
	}
	rep := fld[r-1]
	if c < 1 || c > len(rep) {
		return ""
	}
	comp := rep[c-1]
	if sc < 1 || sc > len(comp) {
		return ""
	}
	return comp[sc-1]
}

// ensure grows the structure so that (f, r, c, sc) exists and returns the
// component.
func (s *Segment) ensure(f, r, c int) Component {
	for len(s.Fields) < f {
		s.Fields = append(s.Fields, nil)
	}
	fld := s.Fields[f-1]
	for len(fld) < r {
		fld = append(fld, nil)
	}
	s.Fields[f-1] = fld
	rep := fld[r-1]
	for len(rep) < c {
		rep = append(rep, nil)
	}
	fld[r-1] = rep
	return rep[c-1]
}

func (s *Segment) setLeaf(f, r, c, sc int, raw string) {
	if raw == "" && s.leaf(f, r, c, sc) == "" {
		return // don't grow the structure just to store nothing
	}
	comp := s.ensure(f, r, c)
	for len(comp) < sc {
		comp = append(comp, "")
	}
	comp[sc-1] = raw
	s.Fields[f-1][r-1][c-1] = comp
}

// SetField replaces field n (1-based) entirely.
func (s *Segment) SetField(n int, f Field) {
	if n < 1 {
		return
	}
	if len(f) == 0 && n > len(s.Fields) {
		return
	}
	for len(s.Fields) < n {
		s.Fields = append(s.Fields, nil)
	}
	s.Fields[n-1] = f
}

// rawAt returns the wire text of the element addressed by p (segment part
// ignored).
func (s *Segment) rawAt(p Path) string {
	if s.Name == "MSH" && p.Field <= 2 {
		if p.Field == 1 {
			return string(s.d.Field)
		}
		return s.d.EncodingCharacters()
	}
	f := s.Field(p.Field)
	var b bytes.Buffer
	switch {
	case p.Comp == 0 && !p.repSet:
		writeField(&b, f, s.d)
	case p.Comp == 0:
		if p.Rep <= len(f) {
			writeField(&b, f[p.Rep-1:p.Rep], s.d)
		}
	case p.Sub == 0:
		if p.Rep <= len(f) && p.Comp <= len(f[p.Rep-1]) {
			writeField(&b, Field{{f[p.Rep-1][p.Comp-1]}}, s.d)
		}
	default:
		return s.leaf(p.Field, p.Rep, p.Comp, p.Sub)
	}
	return b.String()
}

func (s *Segment) setRawAt(p Path, raw string) error {
	if s.Name == "MSH" && p.Field <= 2 {
		return Errorf(CodeDataType, "", "MSH-1 and MSH-2 are set through Message.Delims")
	}
	d := s.d
	switch {
	case p.Comp == 0 && !p.repSet:
		s.SetField(p.Field, splitField(raw, d))
	case p.Comp == 0:
		s.ensure(p.Field, p.Rep, 1)
		s.Fields[p.Field-1][p.Rep-1] = splitRep(raw, d)
	case p.Sub == 0:
		s.ensure(p.Field, p.Rep, p.Comp)
		s.Fields[p.Field-1][p.Rep-1][p.Comp-1] = splitComp(raw, d)
	default:
		s.setLeaf(p.Field, p.Rep, p.Comp, p.Sub, raw)
	}
	return nil
}

func leafOf(p Path) (f, r, c, sc int) {
	c, sc = p.Comp, p.Sub
	if c == 0 {
		c = 1
	}
	if sc == 0 {
		sc = 1
	}
	return p.Field, p.Rep, c, sc
}

// Get returns the decoded leaf at a segment-relative path such as "5-1" or
// "3(2)-4-1" (see the package doc). Explicit nulls read as "".
func (s *Segment) Get(path string) string {
	p, err := parseFieldPath(path)
	if err != nil {
		return ""
	}
	return s.get(p)
}

func (s *Segment) get(p Path) string {
	if s.Name == "MSH" && p.Field <= 2 {
		return s.rawAt(p)
	}
	raw := s.leaf(leafOf(p))
	if raw == Null {
		return ""
	}
	return s.d.UnescapeValue(raw)
}

// Set escapes value and stores it at the leaf addressed by a
// segment-relative path.
func (s *Segment) Set(path, value string) error {
	p, err := parseFieldPath(path)
	if err != nil {
		return err
	}
	return s.set(p, value)
}

func (s *Segment) set(p Path, value string) error {
	if s.Name == "MSH" && p.Field <= 2 {
		return Errorf(CodeDataType, "", "MSH-1 and MSH-2 are set through Message.Delims")
	}
	f, r, c, sc := leafOf(p)
	s.setLeaf(f, r, c, sc, s.d.EscapeValue(value))
	return nil
}

// Get returns the decoded value at path (see the package doc); "" when
// absent, null, or the path is invalid.
func (m *Message) Get(path string) string {
	p, s := m.resolve(path)
	if s == nil {
		return ""
	}
	return s.get(p)
}

// GetRaw returns the wire (still escaped) text of exactly the element the
// path addresses: "PID-3" is the whole field with all repetitions,
// "PID-3(2)" one repetition, "PID-3-4" one component.
func (m *Message) GetRaw(path string) string {
	p, s := m.resolve(path)
	if s == nil {
		return ""
	}
	return s.rawAt(p)
}

// IsNull reports whether the element at path is the explicit null `""`.
func (m *Message) IsNull(path string) bool { return m.GetRaw(path) == Null }

// Has reports whether the element at path is present and non-empty.
func (m *Message) Has(path string) bool { return m.GetRaw(path) != "" }

// Repetitions returns how many repetitions the field at path has.
func (m *Message) Repetitions(path string) int {
	p, s := m.resolve(path)
	if s == nil {
		return 0
	}
	return s.Repetitions(p.Field)
}

// Set escapes value and stores it at the leaf addressed by path, growing
// the structure as needed. The segment must exist unless its occurrence is
// exactly one past the last existing one, in which case it is appended.
func (m *Message) Set(path, value string) error {
	p, s, err := m.resolveForWrite(path)
	if err != nil {
		return err
	}
	return s.set(p, value)
}

// SetRaw stores wire text at the element addressed by path, splitting it on
// the delimiters below that level ("PID-5" = "DOE^JANE" sets two components).
func (m *Message) SetRaw(path, raw string) error {
	p, s, err := m.resolveForWrite(path)
	if err != nil {
		return err
	}
	return s.setRawAt(p, raw)
}

// SetNull stores the explicit null `""` at path.
func (m *Message) SetNull(path string) error { return m.SetRaw(path, Null) }

func (m *Message) resolve(path string) (Path, *Segment) {
	p, err := ParsePath(path)
	if err != nil {
		return p, nil
	}
	return p, m.SegmentN(p.Segment, p.SegOcc)
}

func (m *Message) resolveForWrite(path string) (Path, *Segment, error) {
	p, err := ParsePath(path)
	if err != nil {
		return p, nil, err
	}
	if p.Rep > 1 && m.Delims.Repetition == 0 || p.Sub > 1 && m.Delims.Subcomponent == 0 {
		return p, nil, fmt.Errorf("hl7: set %s: the message defines no delimiter for that level", path)
	}
	s := m.SegmentN(p.Segment, p.SegOcc)
	if s == nil {
		if len(m.All(p.Segment)) != p.SegOcc-1 {
			return p, nil, fmt.Errorf("hl7: set %s: segment occurrence does not exist", path)
		}
		s = m.AddSegment(p.Segment)
	}
	return p, s, nil
}
