package setup

import (
	"context"
	"fmt"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/model"
	"lightbox/internal/roster"
)

// Kinds of one-off roster change (issue #17 point 1: swap, vacation,
// extra shift). Each is stored on the reader documents: an extra shift is
// a model.Block, a vacation a model.Absence, a swap both (the reader who
// gives the time away is absent, the colleague on duty).
const (
	ChangeExtra    = "extra"
	ChangeVacation = "vacation"
	ChangeSwap     = "swap"
)

// Change is one one-off roster change in absolute time.
type Change struct {
	Kind     string          `json:"kind"`
	ReaderID string          `json:"reader_id"`
	With     string          `json:"with,omitempty"` // swap: the colleague who takes the time
	Type     model.ShiftType `json:"type,omitempty"` // extra, swap: the shift type on duty
	Start    time.Time       `json:"start"`
	End      time.Time       `json:"end"`
	Reason   string          `json:"reason,omitempty"`
}

// check validates a change: a vacation may run for weeks, a shift not.
func (c Change) check() error {
	if !c.End.After(c.Start) {
		return invalid("end", "a change ends after it starts")
	}
	limit := 36 * time.Hour
	if c.Kind == ChangeVacation {
		limit = 60 * 24 * time.Hour
	}
	if c.End.Sub(c.Start) > limit {
		return invalid("end", "a %s lasts at most %s", c.Kind, limit)
	}
	switch c.Kind {
	case ChangeExtra, ChangeVacation:
	case ChangeSwap:
		if c.With == "" || c.With == c.ReaderID {
			return invalid("with", "a swap names the colleague who takes the time")
		}
	default:
		return invalid("kind", "kind is extra, vacation or swap")
	}
	return nil
}

// ApplyChange records a one-off change, audited, in one transaction (a
// swap edits both readers or neither).
func (s *Service) ApplyChange(ctx context.Context, by Actor, c Change) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.Type == "" {
		c.Type = model.Swing
	}
	ch := readerChange
	ch.object, ch.detail = "shift", fmt.Sprintf("%s for %s", c.Kind, c.ReaderID)
	if c.With != "" {
		ch.detail += " with " + c.With
	}
	return s.write(ctx, by, ch, func(tx *db.Tx) error {
		edit := func(id, field string, fn func(*model.Reader)) error {
			r, err := roster.ReaderTx(ctx, tx, id)
			if err != nil {
				return &Error{Code: CodeUnknownReader, Field: field, Msg: fmt.Sprintf("no reader %q", id)}
			}
			fn(r)
			return roster.PutReader(ctx, tx, r)
		}
		switch c.Kind {
		case ChangeExtra:
			return edit(c.ReaderID, "reader_id", func(r *model.Reader) {
				r.Blocks = append(r.Blocks, model.Block{Type: c.Type, Start: c.Start, End: c.End})
			})
		case ChangeVacation:
			return edit(c.ReaderID, "reader_id", func(r *model.Reader) {
				r.Away = append(r.Away, model.Absence{Reason: ChangeVacation, Start: c.Start, End: c.End})
			})
		}
		if err := edit(c.ReaderID, "reader_id", func(r *model.Reader) {
			r.Away = append(r.Away, model.Absence{Reason: ChangeSwap, Start: c.Start, End: c.End, With: c.With})
		}); err != nil {
			return err
		}
		return edit(c.With, "with", func(r *model.Reader) {
			r.Blocks = append(r.Blocks, model.Block{Type: c.Type, Start: c.Start, End: c.End})
		})
	})
}
