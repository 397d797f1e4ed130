package hl7

import (
	"bytes"
	"fmt"
	"strings"
)

// Parse parses one HL7 v2 message. Segments may be terminated by CR, LF or
// CRLF; blank lines, a leading UTF-8 BOM and leading whitespace are ignored.
// Delimiters are taken from MSH-1 and MSH-2 (a fifth, 2.7 truncation
// character is accepted).
//
// Every failure is an [*Error] (wrapped with context where useful). When the
// MSH itself could be parsed, the returned *Message is non-nil even though
// err is not — it holds the segments read so far, enough to address a NAK
// with [NewNAK]. Parse never panics.
//
// Besides structure, Parse requires MSH-9-1 (message code), MSH-10 (control
// ID) and MSH-12 (version): without them no acknowledgement can be built.
func Parse(data []byte) (*Message, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 {
		return nil, &Error{Code: CodeSegmentSequence, Message: "empty message"}
	}
	if i := bytes.IndexAny(data, "\x00\x0b\x1c"); i >= 0 {
		return nil, &Error{Code: CodeDataType, Message: fmt.Sprintf("control character 0x%02x at byte %d", data[i], i)}
	}
	if !bytes.HasPrefix(data, []byte("MSH")) {
		return nil, &Error{Code: CodeSegmentSequence, Segment: "MSH", SegmentSeq: 1, Message: "message does not start with an MSH segment"}
	}
	s := string(data)
	lines := splitLines(s)
	m, err := parseMSH(lines[0])
	if err != nil {
		return nil, err
	}
	counts := map[string]int{"MSH": 1}
	for i, line := range lines[1:] {
		name := line
		if j := strings.IndexByte(line, m.Delims.Field); j >= 0 {
			name = line[:j]
		}
		if !validSegmentName(name) {
			return m, &Error{Code: CodeSegmentSequence, Message: fmt.Sprintf("segment %d: segment ID is not 3 upper-case letters or digits", i+2)}
		}
		if name == "MSH" {
			return m, &Error{Code: CodeSegmentSequence, Segment: "MSH", SegmentSeq: 2, Message: fmt.Sprintf("segment %d: second MSH (batches are not supported)", i+2)}
		}
		counts[name]++
		seg := &Segment{Name: name, d: m.Delims, seq: counts[name]}
		if len(line) > 3 {
			parts := strings.Split(line[4:], string(m.Delims.Field))
			seg.Fields = make([]Field, len(parts))
			for k, p := range parts {
				seg.Fields[k] = splitField(p, m.Delims)
			}
		}
		m.Segments = append(m.Segments, seg)
	}
	for _, req := range []struct{ path, what string }{
		{"MSH-9-1", "message type"}, {"MSH-10", "message control ID"}, {"MSH-12", "version ID"},
	} {
		if m.Get(req.path) == "" {
			e := Errorf(CodeRequiredFieldMissing, req.path, "%s (%s) is missing", req.path, req.what)
			e.SegmentSeq = 1
			return m, e
		}
	}
	return m, nil
}

// splitLines splits on CR, LF or CRLF and drops blank (whitespace-only) lines.
func splitLines(s string) []string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' })
	out := lines[:0]
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func parseMSH(line string) (*Message, error) {
	bad := func(field int, format string, args ...any) error {
		return &Error{Code: CodeDataType, Segment: "MSH", SegmentSeq: 1, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	if len(line) < 5 {
		return nil, &Error{Code: CodeRequiredFieldMissing, Segment: "MSH", SegmentSeq: 1, Field: 2, Message: "MSH segment too short"}
	}
	fs := line[3]
	rest := line[4:]
	end := strings.IndexByte(rest, fs)
	if end < 0 {
		end = len(rest)
	}
	enc := rest[:end]
	if len(enc) < 1 || len(enc) > 5 {
		return nil, bad(2, "encoding characters must be 1 to 5 characters, got %d", len(enc))
	}
	d := Delimiters{Field: fs}
	for i, p := range []*byte{&d.Component, &d.Repetition, &d.Escape, &d.Subcomponent, &d.Truncation} {
		if i < len(enc) {
			*p = enc[i]
		}
	}
	if err := d.Validate(); err != nil {
		return nil, &Error{Code: CodeDataType, Segment: "MSH", SegmentSeq: 1, Field: 2, Message: "invalid delimiters", Err: err}
	}
	seg := &Segment{Name: "MSH", d: d, seq: 1, Fields: make([]Field, 2)}
	if end < len(rest) {
		for _, p := range strings.Split(rest[end+1:], string(fs)) {
			seg.Fields = append(seg.Fields, splitField(p, d))
		}
	}
	return &Message{Delims: d, Segments: []*Segment{seg}}, nil
}
