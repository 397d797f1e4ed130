package model

import (
	"cmp"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultOffsets are the reminder offsets of docs/domain.md §1 L4 (days).
func DefaultOffsets() []int { return []int{90, 60, 30} }

// Alert is one expiry reminder.
type Alert struct {
	ReaderID   string `json:"reader_id"`
	ReaderName string `json:"reader_name"`
	Kind       string `json:"kind"` // licence, privilege, malpractice, enrolment, mqsa
	Item       string `json:"item"` // e.g. "TX 12345", facility ID, carrier
	Expires    Date   `json:"expires"`
	DaysLeft   int    `json:"days_left"`
	// Offset is the reminder bucket crossed: the smallest configured offset
	// that is ≥ DaysLeft, or 0 once expired. A scheduler sends each
	// (reader, kind, item, offset) once.
	Offset  int  `json:"offset"`
	Expired bool `json:"expired"`
}

func (a Alert) String() string {
	if a.Expired {
		return fmt.Sprintf("%s: %s %s expired %s", a.ReaderName, a.Kind, a.Item, a.Expires)
	}
	return fmt.Sprintf("%s: %s %s expires %s (%d days)", a.ReaderName, a.Kind, a.Item, a.Expires, a.DaysLeft)
}

// dated is one credential with an expiry date.
type dated struct {
	kind, item, summary string
	expires             Date
}

func (r *Reader) datedCredentials() []dated {
	var out []dated
	for _, l := range r.Licenses {
		out = append(out, dated{"licence", l.State + " " + l.Number, l.State + " licence " + l.Number, l.Expires})
	}
	for _, p := range r.Privileges {
		out = append(out, dated{"privilege", p.Facility, "privileges at " + p.Facility, p.Expires})
	}
	for _, m := range r.Malpractice {
		out = append(out, dated{"malpractice", m.Carrier, "malpractice (" + m.Carrier + ")", m.Expires})
	}
	for _, e := range r.Enrolments {
		out = append(out, dated{"enrolment", e.Payer, e.Payer + " enrolment", e.Expires})
	}
	if r.MQSA.Qualified {
		out = append(out, dated{"mqsa", "MQSA", "MQSA qualification", r.MQSA.QualifiedUntil})
	}
	return out
}

// datedOf yields every credential of readers that has an expiry date,
// with its reader.
func datedOf(readers []Reader) iter.Seq2[*Reader, dated] {
	return func(yield func(*Reader, dated) bool) {
		for i := range readers {
			for _, d := range readers[i].datedCredentials() {
				if !d.expires.IsZero() && !yield(&readers[i], d) {
					return
				}
			}
		}
	}
}

// Expiring returns reminders for every dated credential that expires
// within the largest offset of `at` (UTC date) or has already expired,
// sorted by days left then reader.
func Expiring(readers []Reader, at time.Time, offsets []int) []Alert {
	offs := slices.Clone(offsets)
	slices.Sort(offs)
	maxOff := 0
	if len(offs) > 0 {
		maxOff = offs[len(offs)-1]
	}
	today := DateIn(at, time.UTC)
	var out []Alert
	for r, d := range datedOf(readers) {
		left := today.DaysUntil(d.expires)
		a := Alert{ReaderID: r.ID, ReaderName: r.Name, Kind: d.kind, Item: d.item, Expires: d.expires, DaysLeft: left}
		if left < 0 {
			a.Expired = true
			out = append(out, a)
			continue
		}
		if left > maxOff {
			continue
		}
		for _, o := range offs {
			if left <= o {
				a.Offset = o
				break
			}
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(a.DaysLeft, b.DaysLeft), cmp.Compare(a.ReaderID, b.ReaderID),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Item, b.Item))
	})
	return out
}

// CalEvent is one all-day calendar entry.
type CalEvent struct {
	UID         string
	Date        Date
	Summary     string
	Description string
}

// ExpiryEvents returns one all-day event per dated credential of the
// given readers (pass one reader for a personal calendar, all for the
// group's). UIDs are stable so re-importing updates rather than duplicates.
func ExpiryEvents(readers []Reader) []CalEvent {
	var out []CalEvent
	for r, d := range datedOf(readers) {
		uid := fmt.Sprintf("%s-%s-%s-%s@lightbox", r.ID, d.kind, strings.ReplaceAll(d.item, " ", "_"), d.expires)
		out = append(out, CalEvent{
			UID:         uid,
			Date:        d.expires,
			Summary:     fmt.Sprintf("%s: %s expires", r.Name, d.summary),
			Description: fmt.Sprintf("Last valid day of %s for %s (%s). Renew before this date; no grace period applies.", d.summary, r.Name, r.ID),
		})
	}
	slices.SortFunc(out, func(a, b CalEvent) int { return cmp.Or(cmp.Compare(a.Date, b.Date), cmp.Compare(a.UID, b.UID)) })
	return out
}

// WriteICS writes an RFC 5545 calendar. stamp becomes every DTSTAMP
// (pass the generation time; it is a parameter so output is reproducible).
func WriteICS(w io.Writer, name string, events []CalEvent, stamp time.Time) error {
	var b strings.Builder
	line := func(s string) { b.WriteString(foldLine(s)) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Lightbox//Credential expiry//EN")
	line("CALSCALE:GREGORIAN")
	line("X-WR-CALNAME:" + escapeText(name))
	ds := stamp.UTC().Format("20060102T150405Z")
	for _, e := range events {
		line("BEGIN:VEVENT")
		line("UID:" + e.UID)
		line("DTSTAMP:" + ds)
		line("DTSTART;VALUE=DATE:" + compactDate(e.Date))
		line("DTEND;VALUE=DATE:" + compactDate(e.Date.AddDays(1)))
		line("SUMMARY:" + escapeText(e.Summary))
		if e.Description != "" {
			line("DESCRIPTION:" + escapeText(e.Description))
		}
		line("TRANSP:TRANSPARENT")
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	_, err := io.WriteString(w, b.String())
	return err
}

func compactDate(d Date) string {
	return fmt.Sprintf("%04d%02d%02d", d.Year(), int(d.Month()), d.Day())
}

// escapeText escapes TEXT values (RFC 5545 §3.3.11).
func escapeText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`)
	return r.Replace(s)
}

// foldLine folds a content line at 75 octets without splitting a UTF-8
// sequence (RFC 5545 §3.1) and terminates it with CRLF.
func foldLine(s string) string {
	var b strings.Builder
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts toward the next line's 75
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}
