package model

import (
	"fmt"
	"slices"
	"time"
)

// ShiftType names a coverage model (docs/domain.md §8).
type ShiftType string

const (
	Nighthawk ShiftType = "nighthawk"
	Dayhawk   ShiftType = "dayhawk"
	Swing     ShiftType = "swing"
)

// Clock is a wall-clock time of day in minutes after midnight.
type Clock int

// ParseClock parses "HH:MM".
func ParseClock(s string) (Clock, error) {
	var h, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("credential: bad clock %q", s)
	}
	return Clock(h*60 + m), nil
}

// MustClock is ParseClock for literals.
func MustClock(s string) Clock {
	c, err := ParseClock(s)
	if err != nil {
		panic(err)
	}
	return c
}

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// MarshalText encodes HH:MM.
func (c Clock) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes HH:MM.
func (c *Clock) UnmarshalText(b []byte) error {
	v, err := ParseClock(string(b))
	*c = v
	return err
}

// Break is an unavailable period inside a shift, on the reader's wall clock.
type Break struct {
	Start   Clock `json:"start"`
	Minutes int   `json:"minutes"`
}

// Shift is a weekly recurring shift on the reader's wall clock. Days are
// the weekdays the shift starts on (empty = every day). End <= Start means
// the shift ends the next day. Wall-clock times are resolved per date with
// time.Date, so a 22:00–08:00 shift across a DST change lasts 9 or 11 hours
// of real time, as it does for the person working it.
type Shift struct {
	Type   ShiftType      `json:"type"`
	Days   []time.Weekday `json:"days,omitempty"`
	Start  Clock          `json:"start"`
	End    Clock          `json:"end"`
	Breaks []Break        `json:"breaks,omitempty"`
}

// Block is a one-off scheduled interval in absolute time (for example a
// "7 on / 7 off" rota expanded by the scheduler, or a simulated shift).
type Block struct {
	Type  ShiftType `json:"type"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

type interval struct{ start, end time.Time }

// wallTime returns the instant at a wall-clock time on a civil date,
// tolerating clocks past midnight.
func wallTime(y int, m time.Month, d int, c Clock, loc *time.Location) time.Time {
	return time.Date(y, m, d, int(c)/60, int(c)%60, 0, 0, loc)
}

// intervals expands the reader's schedule into on-duty intervals that
// overlap [from, to), with breaks cut out, sorted and merged.
func (r *Reader) intervals(from, to time.Time) []interval {
	loc := r.location()
	var out []interval
	for _, b := range r.Blocks {
		if b.End.After(from) && b.Start.Before(to) {
			out = append(out, interval{b.Start, b.End})
		}
	}
	if len(r.Shifts) > 0 {
		// Start one day early so an overnight shift that began yesterday is seen.
		day := from.In(loc).AddDate(0, 0, -1)
		for d := time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, loc); d.Before(to.Add(24 * time.Hour)); d = d.AddDate(0, 0, 1) {
			for _, s := range r.Shifts {
				if len(s.Days) > 0 && !slices.Contains(s.Days, d.Weekday()) {
					continue
				}
				y, m, dd := d.Date()
				st := wallTime(y, m, dd, s.Start, loc)
				endDay := dd
				if s.End <= s.Start {
					endDay++
				}
				en := wallTime(y, m, endDay, s.End, loc)
				if !en.After(from) || !st.Before(to) {
					continue
				}
				cur := st
				brs := slices.Clone(s.Breaks)
				slices.SortFunc(brs, func(a, b Break) int { return int(a.Start - b.Start) })
				for _, br := range brs {
					bd := dd
					if br.Start < s.Start {
						bd = endDay
					}
					bs := wallTime(y, m, bd, br.Start, loc)
					be := bs.Add(time.Duration(br.Minutes) * time.Minute)
					if bs.After(cur) && bs.Before(en) {
						out = append(out, interval{cur, bs})
					}
					if be.After(cur) {
						cur = be
					}
				}
				if cur.Before(en) {
					out = append(out, interval{cur, en})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b interval) int { return a.start.Compare(b.start) })
	merged := out[:0]
	for _, iv := range out {
		if n := len(merged); n > 0 && !iv.start.After(merged[n-1].end) {
			if iv.end.After(merged[n-1].end) {
				merged[n-1].end = iv.end
			}
			continue
		}
		merged = append(merged, iv)
	}
	return cutAway(merged, r.Away)
}

// Absence is a one-off period off duty in absolute time: a vacation, or a
// shift handed to a colleague in a swap (who gets a Block for it).
type Absence struct {
	Reason string    `json:"reason"` // vacation, swap, sick ...
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	With   string    `json:"with,omitempty"` // the colleague who covers (a swap)
}

// cutAway removes the absences from sorted, merged on-duty intervals.
func cutAway(ivs []interval, away []Absence) []interval {
	if len(away) == 0 {
		return ivs
	}
	out := make([]interval, 0, len(ivs))
	for _, iv := range ivs {
		parts := []interval{iv}
		for _, a := range away {
			var next []interval
			for _, p := range parts {
				if !a.End.After(p.start) || !a.Start.Before(p.end) {
					next = append(next, p)
					continue
				}
				if a.Start.After(p.start) {
					next = append(next, interval{p.start, a.Start})
				}
				if a.End.Before(p.end) {
					next = append(next, interval{a.End, p.end})
				}
			}
			parts = next
		}
		out = append(out, parts...)
	}
	return out
}

// DutyBlocks expands the reader's weekly shifts and one-off blocks into
// absolute on-duty blocks overlapping [from, to), breaks cut out, each
// typed by the shift it belongs to. The simulator drives log-ins from
// blocks, so a roster kept as weekly patterns is replayed through this.
func DutyBlocks(r *Reader, from, to time.Time) []Block {
	ivs := r.intervals(from, to)
	out := make([]Block, 0, len(ivs))
	for _, iv := range ivs {
		typ, _ := ShiftTypeAt(r, iv.start)
		out = append(out, Block{Type: typ, Start: iv.start, End: iv.end})
	}
	return out
}

// OnShift reports whether the reader is scheduled (and not on a break) at.
func OnShift(r *Reader, at time.Time) bool {
	on, _ := ShiftWindow(r, at)
	return on
}

// ShiftWindow reports whether the reader is on shift at `at` and until when
// that answer holds (the next start or end, looking at most 8 days ahead;
// zero when nothing changes in that horizon). Callers cache the answer
// until then instead of recomputing on every event.
func ShiftWindow(r *Reader, at time.Time) (on bool, until time.Time) {
	horizon := at.Add(8 * 24 * time.Hour)
	for _, iv := range r.intervals(at, horizon) {
		if !at.Before(iv.start) && at.Before(iv.end) {
			return true, iv.end
		}
		if iv.start.After(at) {
			return false, iv.start
		}
	}
	return false, time.Time{}
}

// ShiftTypeAt returns the type of the shift covering at, if any.
func ShiftTypeAt(r *Reader, at time.Time) (ShiftType, bool) {
	for _, b := range r.Blocks {
		if !at.Before(b.Start) && at.Before(b.End) {
			return b.Type, true
		}
	}
	loc := r.location()
	for back := -1; back <= 0; back++ {
		d := at.In(loc).AddDate(0, 0, back)
		y, m, dd := d.Date()
		for _, s := range r.Shifts {
			if len(s.Days) > 0 && !slices.Contains(s.Days, d.Weekday()) {
				continue
			}
			endDay := dd
			if s.End <= s.Start {
				endDay++
			}
			if st, en := wallTime(y, m, dd, s.Start, loc), wallTime(y, m, endDay, s.End, loc); !at.Before(st) && at.Before(en) {
				return s.Type, true
			}
		}
	}
	return "", false
}

// OfflineAfter is how long without a heartbeat makes a reader offline.
const OfflineAfter = 60 * time.Second

// PresenceAt derives live presence from the last heartbeat: offline once
// OfflineAfter has passed with no heartbeat (or none ever), otherwise
// online, or away when the reader said so.
func PresenceAt(lastHeartbeat time.Time, declaredAway bool, at time.Time) Presence {
	if lastHeartbeat.IsZero() || at.Sub(lastHeartbeat) >= OfflineAfter {
		return Offline
	}
	if declaredAway {
		return Away
	}
	return Online
}

// ShiftState is the reader's live availability handed to Check.
type ShiftState struct {
	OnShift  bool
	Presence Presence
	// NoDisplayCheck: the reader has no passed display check in the last
	// 24 h (matters only under Rules.RequireMammoDisplayCheck). Negative so
	// that hypothetical states (coverage, signing) need not claim a check.
	NoDisplayCheck bool
}

// Signing returns the ShiftState to pass to Check at report signature: the
// reader is evidently present, and finishing a report after the shift has
// ended is allowed.
func Signing() ShiftState { return ShiftState{OnShift: true, Presence: Online} }
