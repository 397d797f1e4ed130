package roster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"lightbox/internal/db"
)

// OnCall is one reader on call for a subspecialty in a window; lower rank
// is called first.
type OnCall struct {
	Subspecialty string    `json:"subspecialty"`
	ReaderID     string    `json:"reader_id"`
	Rank         int       `json:"rank"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
}

// SetOnCall replaces the on-call list of a subspecialty for the window
// [start, end): entries overlapping it are removed, the new ones stored.
func (s Store) SetOnCall(ctx context.Context, subspecialty string, start, end time.Time, list []OnCall) error {
	subspecialty = strings.ToLower(strings.TrimSpace(subspecialty))
	if subspecialty == "" || !end.After(start) {
		return fmt.Errorf("on-call list needs a subspecialty and a window that ends after it starts")
	}
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM oncall WHERE subspecialty = ? AND starts_at < ? AND ends_at > ?", subspecialty, db.Now(end), db.Now(start)); err != nil {
			return err
		}
		for i, o := range list {
			if o.ReaderID == "" {
				return fmt.Errorf("on-call entry %d has no reader", i+1)
			}
			st, en := o.Start, o.End
			if st.IsZero() {
				st = start
			}
			if en.IsZero() {
				en = end
			}
			if _, err := tx.Exec(ctx, "INSERT INTO oncall (subspecialty, reader_id, rank, starts_at, ends_at) VALUES (?, ?, ?, ?, ?)",
				subspecialty, o.ReaderID, o.Rank, db.Now(st), db.Now(en)); err != nil {
				return fmt.Errorf("save on-call: %w", err)
			}
		}
		return nil
	})
}

// OnCallAt lists who is on call for a subspecialty at a time, in call order.
func (s Store) OnCallAt(ctx context.Context, subspecialty string, at time.Time) ([]OnCall, error) {
	return db.List("on-call", db.Rows(s.DB.Query(ctx, `SELECT subspecialty, reader_id, rank, starts_at, ends_at FROM oncall
		WHERE subspecialty = ? AND starts_at <= ? AND ends_at > ? ORDER BY rank, reader_id`, strings.ToLower(subspecialty), db.Now(at), db.Now(at))), func(sc db.Scanner) (OnCall, error) {
		var o OnCall
		var st, en string
		if err := sc.Scan(&o.Subspecialty, &o.ReaderID, &o.Rank, &st, &en); err != nil {
			return OnCall{}, err
		}
		o.Start, _ = db.ParseTime(st)
		o.End, _ = db.ParseTime(en)
		return o, nil
	})
}
