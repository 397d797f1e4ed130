package setup

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/model"
	"lightbox/internal/roster"
)

// ShiftCSVHeader is the weekly-pattern exchange format: one shift a row,
// times on the reader's wall clock (their time zone), days the shift starts
// on (empty = every day), end ≤ start = ends the next day.
var ShiftCSVHeader = []string{"reader_id", "type", "days", "start", "end"}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseDays reads "mon tue", "mon,wed,fri", "mon-fri" or "" (every day).
func ParseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == ',' || r == ';' }) {
		if a, b, ok := strings.Cut(f, "-"); ok {
			from, ok1 := weekdays[trim3(a)]
			to, ok2 := weekdays[trim3(b)]
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("unknown day range %q", f)
			}
			for d := from; ; d = (d + 1) % 7 {
				out = append(out, d)
				if d == to {
					break
				}
			}
			continue
		}
		d, ok := weekdays[trim3(f)]
		if !ok {
			return nil, fmt.Errorf("unknown day %q (sun, mon, tue, wed, thu, fri, sat)", f)
		}
		out = append(out, d)
	}
	return out, nil
}

func trim3(s string) string {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}

// FormatDays is the inverse of ParseDays.
func FormatDays(ds []time.Weekday) string {
	var b []string
	for _, d := range ds {
		b = append(b, strings.ToLower(d.String()[:3]))
	}
	return strings.Join(b, " ")
}

func checkShift(s model.Shift) error {
	switch s.Type {
	case model.Nighthawk, model.Dayhawk, model.Swing:
	default:
		return invalid("type", "must be nighthawk, dayhawk or swing, not %q", s.Type)
	}
	return nil // end ≤ start ends the next day; equal is a 24-hour shift
}

// editReader loads a reader, lets fn change it and saves it, audited.
func (s *Service) editReader(ctx context.Context, by Actor, id, detail string, fn func(*model.Reader) error) error {
	c := readerChange
	c.object, c.detail = "shift", detail
	return s.write(ctx, by, c, func(tx *db.Tx) error {
		r, err := roster.ReaderTx(ctx, tx, id)
		if err != nil {
			return &Error{Code: CodeUnknownReader, Field: "reader_id", Msg: fmt.Sprintf("no reader %q", id)}
		}
		if err := fn(r); err != nil {
			return err
		}
		return roster.PutReader(ctx, tx, r)
	})
}

// SetShifts replaces a reader's weekly shift pattern.
func (s *Service) SetShifts(ctx context.Context, by Actor, readerID string, shifts []model.Shift) error {
	for i, sh := range shifts {
		if err := checkShift(sh); err != nil {
			e := err.(*Error)
			e.Field = fmt.Sprintf("shifts[%d].%s", i, e.Field)
			return e
		}
	}
	return s.editReader(ctx, by, readerID, "set shifts of "+readerID, func(r *model.Reader) error {
		r.Shifts = shifts
		return nil
	})
}

// AddShift adds one weekly shift to a reader's pattern.
func (s *Service) AddShift(ctx context.Context, by Actor, readerID string, sh model.Shift) error {
	if err := checkShift(sh); err != nil {
		return err
	}
	return s.editReader(ctx, by, readerID, "add shift to "+readerID, func(r *model.Reader) error {
		r.Shifts = append(r.Shifts, sh)
		return nil
	})
}

// AddBlock adds a one-off shift (an extra or swapped shift) in absolute time.
func (s *Service) AddBlock(ctx context.Context, by Actor, readerID string, b model.Block) error {
	if !b.End.After(b.Start) || b.End.Sub(b.Start) > 36*time.Hour {
		return invalid("end", "a one-off shift ends after it starts, within 36 hours")
	}
	if b.Type == "" {
		b.Type = model.Swing
	}
	return s.editReader(ctx, by, readerID, "add one-off shift to "+readerID, func(r *model.Reader) error {
		r.Blocks = append(r.Blocks, b)
		return nil
	})
}

// SetExtraWork records a reader's opt-in to (or out of) extra work; the
// engine reads it with the reader's document.
func (s *Service) SetExtraWork(ctx context.Context, by Actor, readerID string, on bool) error {
	what := "opt out of extra work: "
	if on {
		what = "opt in to extra work: "
	}
	return s.editReader(ctx, by, readerID, what+readerID, func(r *model.Reader) error {
		r.ExtraWork = on
		return nil
	})
}

// ImportShifts reads weekly shifts as CSV (ShiftCSVHeader); the valid rows
// replace the weekly patterns of the readers they name.
func (s *Service) ImportShifts(ctx context.Context, by Actor, r io.Reader) (*Report, error) {
	rep := &Report{Kind: "shifts", Rejected: []Rejected{}}
	recs, readers, err := s.readReaderCSV(ctx, r, ShiftCSVHeader, rep)
	if err != nil {
		return rep, err
	}
	type shiftRow struct {
		reader string
		shift  model.Shift
		err    error
	}
	rows := make([]row[shiftRow], 0, len(recs))
	for _, rec := range recs {
		v := rec.v
		sr := shiftRow{reader: v[0], shift: model.Shift{Type: model.ShiftType(strings.ToLower(v[1]))}}
		var e1, e2, e3 error
		sr.shift.Days, e1 = ParseDays(v[2])
		sr.shift.Start, e2 = model.ParseClock(v[3])
		sr.shift.End, e3 = model.ParseClock(v[4])
		switch {
		case e1 != nil:
			sr.err = invalid("days", "%v", e1)
		case e2 != nil || e3 != nil:
			sr.err = invalid("start", "start and end are HH:MM on the reader's clock")
		}
		rows = append(rows, row[shiftRow]{n: rec.n, v: sr})
	}
	fresh := map[string][]model.Shift{}
	im := importer[shiftRow]{
		check: func(sr *shiftRow) (string, error) {
			key := fmt.Sprintf("%s|%s|%s", sr.reader, FormatDays(sr.shift.Days), sr.shift.Start)
			if sr.err != nil {
				return key, sr.err
			}
			if readers[sr.reader] == nil {
				return key, &Error{Code: CodeUnknownReader, Field: "reader_id", Msg: fmt.Sprintf("no reader %q", sr.reader)}
			}
			return key, checkShift(sr.shift)
		},
		save: func(_ context.Context, _ *db.Tx, sr *shiftRow) error {
			fresh[sr.reader] = append(fresh[sr.reader], sr.shift)
			return nil
		},
		finish: func(ctx context.Context, tx *db.Tx) error {
			for id, shifts := range fresh {
				rd := readers[id]
				rd.Shifts = shifts
				if err := roster.PutReader(ctx, tx, rd); err != nil {
					return err
				}
			}
			return nil
		},
		change: readerChange,
	}
	im.change.object = "shift"
	return rep, im.run(ctx, s, by, rep, rows)
}

// ExportShifts writes every reader's weekly shifts as CSV.
func (s *Service) ExportShifts(ctx context.Context, w io.Writer) error {
	rs, err := roster.Store{DB: s.DB}.Readers(ctx)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(ShiftCSVHeader)
	for _, r := range rs {
		for _, sh := range r.Shifts {
			_ = cw.Write([]string{r.ID, string(sh.Type), FormatDays(sh.Days), sh.Start.String(), sh.End.String()})
		}
	}
	cw.Flush()
	return cw.Error()
}
