package hl7

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		prec Precision
		frac int
		zone bool
		utc  string // RFC3339Nano of the instant
	}{
		{"2024", PrecisionYear, 0, false, "2024-01-01T00:00:00Z"},
		{"202403", PrecisionMonth, 0, false, "2024-03-01T00:00:00Z"},
		{"20240315", PrecisionDay, 0, false, "2024-03-15T00:00:00Z"},
		{"2024031508", PrecisionHour, 0, false, "2024-03-15T08:00:00Z"},
		{"202403150830", PrecisionMinute, 0, false, "2024-03-15T08:30:00Z"},
		{"20240315083005", PrecisionSecond, 0, false, "2024-03-15T08:30:05Z"},
		{"20240315083005.1", PrecisionSecond, 1, false, "2024-03-15T08:30:05.1Z"},
		{"20240315083005.1234", PrecisionSecond, 4, false, "2024-03-15T08:30:05.1234Z"},
		{"20240315083005-0500", PrecisionSecond, 0, true, "2024-03-15T13:30:05Z"},
		{"20240315083005.123+0130", PrecisionSecond, 3, true, "2024-03-15T07:00:05.123Z"},
		{"20240315+0000", PrecisionDay, 0, true, "2024-03-15T00:00:00Z"},
		{"20240229", PrecisionDay, 0, false, "2024-02-29T00:00:00Z"},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tt.in, err)
			continue
		}
		if got.Precision != tt.prec || got.FracDigits != tt.frac || got.HasZone != tt.zone ||
			got.Time.UTC().Format(time.RFC3339Nano) != tt.utc {
			t.Errorf("ParseTime(%q) = %+v", tt.in, got)
		}
		if got.String() != tt.in {
			t.Errorf("String() = %q want %q", got.String(), tt.in)
		}
	}
	for _, bad := range []string{"20", "202", "2024031", "20240230", "20231301", "20240315250000", "2024031508300", "20240315.5",
		"20240315083005.", "20240315083005.1234567890", "20240315X", "20240315+05", "20240315+2500", "20240315+0560", "abcd", "2024-03-15"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) should fail", bad)
		}
	}
	if z, err := ParseTime(""); err != nil || !z.IsZero() || z.String() != "" {
		t.Errorf("empty: %+v %v", z, err)
	}
	if z, err := ParseTime(`""`); err != nil || !z.IsZero() {
		t.Errorf("null: %+v %v", z, err)
	}
}

func TestTimeIn(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata")
	}
	local := MustParseTime("202407011200")
	if got := local.In(ny).UTC().Hour(); got != 16 {
		t.Errorf("wall clock in NY -> %d UTC", got)
	}
	zoned := MustParseTime("202407011200+0000")
	if got := zoned.In(ny).UTC().Hour(); got != 12 {
		t.Errorf("zoned -> %d UTC", got)
	}
	nt := NewTime(time.Date(2024, 7, 1, 12, 30, 45, 0, time.FixedZone("", -4*3600)), PrecisionMinute)
	if nt.String() != "202407011230-0400" {
		t.Errorf("NewTime: %s", nt)
	}
}
