package model

import (
	"fmt"
	"time"
)

// Date is a civil calendar date stored as yyyymmdd. Credential expiry is a
// date on a certificate, not an instant, so comparing civil dates avoids
// pretending we know which time zone the board meant. The zero Date means
// "no date" (for example no expiry).
type Date int32

// MakeDate builds a Date from its parts.
func MakeDate(y int, m time.Month, d int) Date {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC) // normalises overflow
	return Date(t.Year()*10000 + int(t.Month())*100 + t.Day())
}

// DateOf returns the civil date of t in t's own location.
func DateOf(t time.Time) Date { return MakeDate(t.Year(), t.Month(), t.Day()) }

// DateIn returns the civil date of t as seen in loc (UTC when loc is nil).
func DateIn(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	return DateOf(t.In(loc))
}

// ParseDate parses YYYY-MM-DD; the empty string yields the zero Date.
func ParseDate(s string) (Date, error) {
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("credential: bad date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// MustDate is ParseDate for literals in tests and seed data.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == 0 }

// Year, Month and Day return the parts of d.
func (d Date) Year() int         { return int(d) / 10000 }
func (d Date) Month() time.Month { return time.Month(int(d) / 100 % 100) }
func (d Date) Day() int          { return int(d) % 100 }

// Midnight returns 00:00 of d in loc (UTC when loc is nil).
func (d Date) Midnight(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}

// AddDays returns d shifted by n days.
func (d Date) AddDays(n int) Date { return MakeDate(d.Year(), d.Month(), d.Day()+n) }

// DaysUntil returns the whole days from d to e (negative when e is earlier).
func (d Date) DaysUntil(e Date) int {
	return int(e.Midnight(time.UTC).Sub(d.Midnight(time.UTC)).Hours() / 24)
}

func (d Date) String() string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year(), int(d.Month()), d.Day())
}

// MarshalText encodes d as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	*d = v
	return err
}
