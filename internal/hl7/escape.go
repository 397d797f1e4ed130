package hl7

import (
	"fmt"
	"strings"
)

// Delimiters are the message's separator and escape characters, as taken from
// MSH-1 and MSH-2. A zero byte means "not defined by this message".
type Delimiters struct {
	Field        byte // MSH-1, usually '|'
	Component    byte // usually '^'
	Repetition   byte // usually '~'
	Escape       byte // usually '\'
	Subcomponent byte // usually '&'
	Truncation   byte // HL7 2.7+ only, usually '#'; 0 when absent
}

// DefaultDelimiters returns |^~\&.
func DefaultDelimiters() Delimiters {
	return Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}
}

// EncodingCharacters returns the MSH-2 value for d.
func (d Delimiters) EncodingCharacters() string {
	b := make([]byte, 0, 5)
	for _, c := range []byte{d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation} {
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

// Validate checks that the delimiters are printable, non-alphanumeric ASCII
// and distinct, and that field and component separators are defined.
func (d Delimiters) Validate() error {
	if d.Field == 0 || d.Component == 0 {
		return fmt.Errorf("field and component separators are required")
	}
	seen := map[byte]bool{}
	for _, c := range []byte{d.Field, d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation} {
		if c == 0 {
			continue
		}
		if c <= ' ' || c >= 0x7f || isAlnum(c) {
			return fmt.Errorf("invalid delimiter character 0x%02x", c)
		}
		if seen[c] {
			return fmt.Errorf("delimiter character %q used twice", c)
		}
		seen[c] = true
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// EscapeValue encodes a plain value for the wire: delimiter characters become
// \F\ \S\ \T\ \R\ \E\ (and \P\ for the 2.7 truncation character), line
// breaks (CR, LF, CRLF) become \.br\ and other control characters \Xhh\.
// The result never contains a CR, 0x0B or 0x1C, so it is MLLP-safe.
func (d Delimiters) EscapeValue(s string) string {
	need := false
	for i := 0; i < len(s); i++ {
		if d.special(s[i]) {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	if d.Escape == 0 {
		// Nothing can be escaped; drop what would break the structure.
		return strings.Map(func(r rune) rune {
			if r < 0x80 && d.special(byte(r)) {
				return ' '
			}
			return r
		}, s)
	}
	e := d.Escape
	var b strings.Builder
	b.Grow(len(s) + 16)
	esc := func(code string) {
		b.WriteByte(e)
		b.WriteString(code)
		b.WriteByte(e)
	}
	br := ".br"
	if d.Escape == '.' || d.Field == '.' || d.Component == '.' || d.Repetition == '.' || d.Subcomponent == '.' || d.Truncation == '.' {
		br = "X0A" // \.br\ would contain a delimiter
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == d.Field:
			esc("F")
		case c == d.Component:
			esc("S")
		case c == d.Subcomponent && c != 0:
			esc("T")
		case c == d.Repetition && c != 0:
			esc("R")
		case c == e:
			esc("E")
		case c == d.Truncation && c != 0:
			esc("P")
		case c == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			esc(br)
		case c == '\n':
			esc(br)
		case c < 0x20 && c != '\t' || c == 0x7f:
			esc(fmt.Sprintf("X%02X", c))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (d Delimiters) special(c byte) bool {
	if c < 0x20 && c != '\t' || c == 0x7f {
		return true
	}
	return c != 0 && (c == d.Field || c == d.Component || c == d.Subcomponent || c == d.Repetition || c == d.Escape || c == d.Truncation)
}

// UnescapeValue decodes wire text: \F\ \S\ \T\ \R\ \E\ (\P\ when a truncation
// character is defined), \Xhh…\ hex, and \.br\ (to "\n"). Other escape
// sequences (\H\, \N\, \.sp\, \Cxxyy\, …) and malformed ones are kept
// literally.
func (d Delimiters) UnescapeValue(s string) string {
	e := d.Escape
	if e == 0 || strings.IndexByte(s, e) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != e {
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i+1:], e)
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		seq := s[i+1 : i+1+end]
		next := i + end + 2
		if out, ok := d.decodeSeq(seq); ok {
			b.WriteString(out)
			i = next
			continue
		}
		// Unknown: keep it literal, including both escape characters.
		b.WriteString(s[i:next])
		i = next
	}
	return b.String()
}

func (d Delimiters) decodeSeq(seq string) (string, bool) {
	switch seq {
	case "F":
		return string(d.Field), true
	case "S":
		return string(d.Component), true
	case "T":
		if d.Subcomponent != 0 {
			return string(d.Subcomponent), true
		}
	case "R":
		if d.Repetition != 0 {
			return string(d.Repetition), true
		}
	case "E":
		return string(d.Escape), true
	case "P":
		if d.Truncation != 0 {
			return string(d.Truncation), true
		}
	case ".br":
		return "\n", true
	}
	if len(seq) >= 3 && seq[0] == 'X' && len(seq)%2 == 1 {
		out := make([]byte, 0, len(seq)/2)
		for j := 1; j < len(seq); j += 2 {
			hi, ok1 := unhex(seq[j])
			lo, ok2 := unhex(seq[j+1])
			if !ok1 || !ok2 {
				return "", false
			}
			out = append(out, hi<<4|lo)
		}
		return string(out), true
	}
	return "", false
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
