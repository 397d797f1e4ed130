package model

import (
	"strings"
	"testing"
	"time"
)

func TestOvernightShiftAcrossDST(t *testing.T) {
	r := &Reader{ID: "N", TimeZone: "America/Chicago", Shifts: []Shift{{Type: Nighthawk, Start: MustClock("22:00"), End: MustClock("08:00")}}}
	if err := r.Resolve(); err != nil {
		t.Fatal(err)
	}
	loc := r.Loc
	// Spring forward: 2026-03-08 02:00 CST -> 03:00 CDT. Shift starts Sat 22:00 CST.
	start := time.Date(2026, 3, 7, 22, 0, 0, 0, loc)
	on, until := ShiftWindow(r, start)
	if !on {
		t.Fatal("should be on at 22:00")
	}
	if want := time.Date(2026, 3, 8, 8, 0, 0, 0, loc); !until.Equal(want) {
		t.Fatalf("until %v want %v", until, want)
	}
	if got := until.Sub(start); got != 9*time.Hour {
		t.Fatalf("spring-forward night lasts %v, want 9h", got)
	}
	if !OnShift(r, time.Date(2026, 3, 8, 7, 59, 0, 0, loc)) || OnShift(r, time.Date(2026, 3, 8, 8, 0, 0, 0, loc)) {
		t.Fatal("wrong edge at 08:00 CDT")
	}
	// Fall back: 2026-11-01; the night is 11 h.
	s2 := time.Date(2026, 10, 31, 22, 0, 0, 0, loc)
	_, u2 := ShiftWindow(r, s2)
	if got := u2.Sub(s2); got != 11*time.Hour {
		t.Fatalf("fall-back night lasts %v, want 11h", got)
	}
	if OnShift(r, time.Date(2026, 3, 8, 12, 0, 0, 0, loc)) {
		t.Fatal("on at noon")
	}
	if ty, ok := ShiftTypeAt(r, time.Date(2026, 3, 8, 3, 30, 0, 0, loc)); !ok || ty != Nighthawk {
		t.Fatal("shift type")
	}
}

func TestShiftDaysAndBreaks(t *testing.T) {
	r := &Reader{ID: "D", TimeZone: "America/New_York", Shifts: []Shift{{Type: Dayhawk, Days: []time.Weekday{time.Monday}, Start: MustClock("08:00"), End: MustClock("16:00"), Breaks: []Break{{Start: MustClock("12:00"), Minutes: 30}}}}}
	_ = r.Resolve()
	loc := r.Loc
	mon := time.Date(2026, 6, 1, 0, 0, 0, 0, loc) // a Monday
	if mon.Weekday() != time.Monday {
		t.Fatal("calendar")
	}
	for _, c := range []struct {
		h, m int
		want bool
	}{{7, 59, false}, {8, 0, true}, {12, 10, false}, {12, 30, true}, {15, 59, true}, {16, 0, false}} {
		if got := OnShift(r, mon.Add(time.Duration(c.h)*time.Hour+time.Duration(c.m)*time.Minute)); got != c.want {
			t.Errorf("%02d:%02d got %v", c.h, c.m, got)
		}
	}
	if OnShift(r, mon.AddDate(0, 0, 1).Add(9*time.Hour)) {
		t.Fatal("on Tuesday")
	}
	// Blocks are absolute.
	r.Blocks = []Block{{Type: Swing, Start: mon.AddDate(0, 0, 1).Add(14 * time.Hour), End: mon.AddDate(0, 0, 2)}}
	if !OnShift(r, mon.AddDate(0, 0, 1).Add(20*time.Hour)) {
		t.Fatal("block ignored")
	}
}

func TestPresence(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if PresenceAt(time.Time{}, false, t0) != Offline {
		t.Fatal("never seen should be offline")
	}
	if PresenceAt(t0, false, t0.Add(59*time.Second)) != Online {
		t.Fatal("59s online")
	}
	if PresenceAt(t0, true, t0.Add(10*time.Second)) != Away {
		t.Fatal("away")
	}
	if PresenceAt(t0, false, t0.Add(60*time.Second)) != Offline {
		t.Fatal("60s offline")
	}
}

func TestExpiringAndICS(t *testing.T) {
	r := *testReader()
	r.Name = "Dr Long Name, with; specials and ünïcödé characters to force folding of the summary line"
	now := time.Date(2026, 8, 1, 9, 0, 0, 0, time.UTC)
	al := Expiring([]Reader{r}, now, []int{90, 60, 30})
	if len(al) != 1 || al[0].Kind != "licence" || al[0].DaysLeft != 61 || al[0].Offset != 90 {
		t.Fatalf("alerts %+v", al)
	}
	al = Expiring([]Reader{r}, time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC), DefaultOffsets())
	if len(al) == 0 || !al[0].Expired {
		t.Fatalf("expired alert missing: %+v", al)
	}
	var b strings.Builder
	if err := WriteICS(&b, "Group expiries", ExpiryEvents([]Reader{r}), now); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Fatalf("line longer than 75 octets: %q", l)
		}
		if strings.Contains(l, "\n") {
			t.Fatalf("bare LF in %q", l)
		}
	}
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "DTSTART;VALUE=DATE:20261001\r\n", "DTEND;VALUE=DATE:20261002\r\n", "DTSTAMP:20260801T090000Z\r\n", "UID:R1-licence-TX_T1-2026-10-01@lightbox\r\n", `\,`, `\;`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	unfolded := strings.ReplaceAll(out, "\r\n ", "")
	if !strings.Contains(unfolded, "ünïcödé characters to force folding") {
		t.Fatal("folding broke UTF-8 or content")
	}
}

func TestRVU(t *testing.T) {
	tab := DefaultRVU()
	if v, ok := tab.Lookup("70450", MustDate("2025-06-01")); !ok || v != 0.85 {
		t.Fatalf("2025 70450 = %v %v", v, ok)
	}
	if v, ok := tab.Lookup("70450", MustDate("2026-01-01")); !ok || v != 0.83 {
		t.Fatalf("2026 70450 = %v", v)
	}
	if _, ok := tab.Lookup("70496", MustDate("2026-02-01")); ok {
		t.Fatal("70496 deleted in 2026")
	}
	if _, ok := tab.Lookup("70450", MustDate("2023-12-31")); ok {
		t.Fatal("before first effective date")
	}
	m := ProcedureMap{Facility: "F1", Codes: map[string]string{"CTHEAD": "70450"}}
	if c, ok := m.CPT("CTHEAD"); !ok || c != "70450" {
		t.Fatal("map")
	}
}
