package hl7

import (
	"fmt"
	"strconv"
)

// Path is a parsed location, see the package doc for the notation.
type Path struct {
	Segment string
	SegOcc  int // 1-based, default 1
	Field   int // 1-based
	Rep     int // 1-based, default 1
	Comp    int // 0 = not specified
	Sub     int // 0 = not specified

	segOccSet bool
	repSet    bool
}

// ParsePath parses "SEG[(n)]-F[(r)][-C[-S]]" ('.' may replace '-').
func ParsePath(s string) (Path, error) {
	if len(s) < 5 || !validSegmentName(s[:3]) || (s[3] != '-' && s[3] != '.' && s[3] != '(') {
		return Path{}, fmt.Errorf("hl7: invalid path %q", s)
	}
	p := Path{Segment: s[:3], SegOcc: 1}
	rest := s[3:]
	if rest[0] == '(' {
		n, r, ok := paren(rest)
		if !ok || len(r) < 2 || (r[0] != '-' && r[0] != '.') {
			return Path{}, fmt.Errorf("hl7: invalid path %q", s)
		}
		p.SegOcc, p.segOccSet, rest = n, true, r
	}
	fp, err := parseFieldPath(rest[1:])
	if err != nil {
		return Path{}, fmt.Errorf("hl7: invalid path %q", s)
	}
	fp.Segment, fp.SegOcc, fp.segOccSet = p.Segment, p.SegOcc, p.segOccSet
	return fp, nil
}

// parseFieldPath parses "F[(r)][-C[-S]]".
func parseFieldPath(s string) (Path, error) {
	p := Path{SegOcc: 1, Rep: 1}
	n, rest, ok := num(s)
	if !ok {
		return p, fmt.Errorf("hl7: invalid field path %q", s)
	}
	p.Field = n
	if rest != "" && rest[0] == '(' {
		if p.Rep, rest, ok = paren(rest); !ok {
			return p, fmt.Errorf("hl7: invalid field path %q", s)
		}
		p.repSet = true
	}
	for i, dst := range []*int{&p.Comp, &p.Sub} {
		_ = i
		if rest == "" {
			break
		}
		if rest[0] != '-' && rest[0] != '.' {
			return p, fmt.Errorf("hl7: invalid field path %q", s)
		}
		if *dst, rest, ok = num(rest[1:]); !ok {
			return p, fmt.Errorf("hl7: invalid field path %q", s)
		}
	}
	if rest != "" {
		return p, fmt.Errorf("hl7: invalid field path %q", s)
	}
	return p, nil
}

// num reads a positive decimal number (at most 5 digits).
func num(s string) (int, string, bool) {
	i := 0
	for i < len(s) && i < 6 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 5 {
		return 0, s, false
	}
	n, _ := strconv.Atoi(s[:i])
	if n < 1 {
		return 0, s, false
	}
	return n, s[i:], true
}

func paren(s string) (int, string, bool) {
	n, rest, ok := num(s[1:])
	if !ok || rest == "" || rest[0] != ')' {
		return 0, s, false
	}
	return n, rest[1:], true
}

func validSegmentName(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (p Path) String() string {
	e := Error{Segment: p.Segment, SegmentSeq: p.SegOcc, Field: p.Field, Repetition: p.Rep, Component: p.Comp, Subcomponent: p.Sub}
	return e.Location()
}
