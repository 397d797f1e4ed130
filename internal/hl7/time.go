package hl7

import (
	"fmt"
	"strings"
	"time"
)

// Precision is how much of an HL7 date/time was sent.
type Precision int8

// Precisions, coarsest first.
const (
	PrecisionNone Precision = iota
	PrecisionYear
	PrecisionMonth
	PrecisionDay
	PrecisionHour
	PrecisionMinute
	PrecisionSecond
)

// Time is an HL7 DT/TM/TS/DTM value: YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ].
// It keeps the precision that was sent so that it formats back the same way.
//
// When the value carried no UTC offset (HasZone false), Time holds the wall
// clock in time.UTC; use [Time.In] to read it as local time of the sender.
type Time struct {
	Time       time.Time
	Precision  Precision
	FracDigits int  // digits after the decimal point of the seconds (0–9)
	HasZone    bool // an explicit +/-ZZZZ offset was present
}

// NewTime returns a Time with the given precision, always formatted with
// its UTC offset.
func NewTime(t time.Time, p Precision) Time {
	return Time{Time: t, Precision: p, HasZone: true}
}

// IsZero reports whether no value is present.
func (t Time) IsZero() bool { return t.Precision == PrecisionNone }

// In returns the instant t denotes, reading a value without UTC offset as
// wall-clock time in loc (the sender's time zone).
func (t Time) In(loc *time.Location) time.Time {
	if t.HasZone || loc == nil {
		return t.Time
	}
	tt := t.Time
	return time.Date(tt.Year(), tt.Month(), tt.Day(), tt.Hour(), tt.Minute(), tt.Second(), tt.Nanosecond(), loc)
}

// String formats t in HL7 form with its precision ("" for the zero Time).
func (t Time) String() string {
	if t.Precision == PrecisionNone {
		return ""
	}
	layout := [...]string{"", "2006", "200601", "20060102", "2006010215", "200601021504", "20060102150405"}
	p := t.Precision
	if p > PrecisionSecond {
		p = PrecisionSecond
	}
	s := t.Time.Format(layout[p])
	if p == PrecisionSecond && t.FracDigits > 0 {
		fd := min(t.FracDigits, 9)
		s += "." + fmt.Sprintf("%09d", t.Time.Nanosecond())[:fd]
	}
	if t.HasZone {
		s += t.Time.Format("-0700")
	}
	return s
}

// ParseTime parses an HL7 date/time. "" yields the zero Time and no error.
// Errors do not quote the value.
func ParseTime(s string) (Time, error) {
	if s == "" || s == Null {
		return Time{}, nil
	}
	var t Time
	digits := 0
	for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	switch digits {
	case 4, 6, 8, 10, 12, 14:
		t.Precision = Precision(digits/2 - 1)
	default:
		return Time{}, fmt.Errorf("date/time: %d leading digits (want 4, 6, 8, 10, 12 or 14)", digits)
	}
	n := func(i, w int) int {
		v := 0
		for _, c := range s[i : i+w] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day, hour, minute, sec := n(0, 4), 1, 1, 0, 0, 0
	if digits >= 6 {
		month = n(4, 2)
	}
	if digits >= 8 {
		day = n(6, 2)
	}
	if digits >= 10 {
		hour = n(8, 2)
	}
	if digits >= 12 {
		minute = n(10, 2)
	}
	if digits >= 14 {
		sec = n(12, 2)
	}
	rest := s[digits:]
	nsec := 0
	if strings.HasPrefix(rest, ".") {
		if digits != 14 {
			return Time{}, fmt.Errorf("date/time: fraction without seconds")
		}
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		frac := rest[1:j]
		if len(frac) == 0 || len(frac) > 9 {
			return Time{}, fmt.Errorf("date/time: bad fraction of second")
		}
		t.FracDigits = len(frac)
		nsec = n(digits+1, len(frac))
		for k := len(frac); k < 9; k++ {
			nsec *= 10
		}
		rest = rest[j:]
	}
	loc := time.UTC
	if rest != "" {
		if len(rest) != 5 || (rest[0] != '+' && rest[0] != '-') {
			return Time{}, fmt.Errorf("date/time: bad time zone offset")
		}
		for _, c := range rest[1:] {
			if c < '0' || c > '9' {
				return Time{}, fmt.Errorf("date/time: bad time zone offset")
			}
		}
		off := n(len(s)-4, 2)*3600 + n(len(s)-2, 2)*60
		if off > 14*3600 || n(len(s)-2, 2) > 59 {
			return Time{}, fmt.Errorf("date/time: time zone offset out of range")
		}
		if rest[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
		t.HasZone = true
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return Time{}, fmt.Errorf("date/time: value out of range")
	}
	tt := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if tt.Day() != day {
		return Time{}, fmt.Errorf("date/time: no such day")
	}
	t.Time = tt
	return t, nil
}

// MustParseTime is ParseTime for constants in tests and builders; it panics
// on error.
func MustParseTime(s string) Time {
	t, err := ParseTime(s)
	if err != nil {
		panic(err)
	}
	return t
}
