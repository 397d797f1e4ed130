package peerreview

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"lightbox/internal/bgloop"
	"lightbox/internal/db"
)

// Drawer draws a month's sample: where the finals and the reviewers come
// from, and whom to tell of each new review. The API's manual draw and the
// automatic monthly one share it.
type Drawer struct {
	Store     Store
	Finals    func(ctx context.Context, from, to time.Time) ([]Final, error)
	Reviewers func(ctx context.Context) ([]Reviewer, error)
	// Assigned, when set, is told of each new review (the reviewer's notice).
	Assigned func(ctx context.Context, r Review)
}

// Outcome is what one draw did.
type Outcome struct {
	Month      string   `json:"month"`
	Finals     int      `json:"finals"`
	Drawn      []Review `json:"drawn"`
	Unassigned int      `json:"unassigned"`
}

// Month draws the finals signed in the month starting at from.
func (d Drawer) Month(ctx context.Context, from time.Time) (Outcome, error) {
	out := Outcome{Month: Period(from), Drawn: []Review{}}
	fs, err := d.Finals(ctx, from, from.AddDate(0, 1, 0))
	if err != nil {
		return out, err
	}
	revs, err := d.Reviewers(ctx)
	if err != nil {
		return out, err
	}
	drawn, unassigned, err := d.Store.Draw(ctx, fs, revs, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	if err != nil {
		return out, err
	}
	out.Finals, out.Unassigned = len(fs), len(unassigned)
	if drawn != nil {
		out.Drawn = drawn
	}
	if d.Assigned != nil {
		for _, r := range drawn {
			d.Assigned(ctx, r)
		}
	}
	return out, nil
}

// staleClaim is how long a claimed draw may stay unfinished before another
// node takes it over (its node died mid-draw; Draw is idempotent).
const staleClaim = 10 * time.Minute

// claim makes node the one that draws period, unless another node has
// drawn it or is drawing it now: the row's primary key admits one.
func (d Drawer) claim(ctx context.Context, period, node string, now time.Time) (bool, error) {
	res, err := d.Store.DB.Exec(ctx, "INSERT INTO peer_review_draw (period, node, claimed_at) VALUES (?, ?, ?) ON CONFLICT (period) DO NOTHING",
		period, node, db.Now(now))
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	res, err = d.Store.DB.Exec(ctx, "UPDATE peer_review_draw SET node = ?, claimed_at = ? WHERE period = ? AND done_at = '' AND claimed_at < ?",
		node, db.Now(now), period, db.Now(now.Add(-staleClaim)))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Due draws the month before now's, once cluster-wide: the node that wins
// the month's row draws it; every other node, and every later call, does
// nothing. It reports whether this call drew.
func (d Drawer) Due(ctx context.Context, now time.Time, node string) (*Outcome, error) {
	p, err := d.Store.Policy(ctx)
	if err != nil || p.Value == 0 {
		return nil, err
	}
	u := now.UTC()
	from := time.Date(u.Year(), u.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	won, err := d.claim(ctx, Period(from), node, now)
	if err != nil || !won {
		return nil, err
	}
	out, err := d.Month(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("monthly peer review draw %s: %w", out.Month, err)
	}
	if _, err := d.Store.DB.Exec(ctx, "UPDATE peer_review_draw SET done_at = ?, drawn = ? WHERE period = ?", db.Now(now), len(out.Drawn), out.Month); err != nil {
		return nil, err
	}
	return &out, nil
}

// Run calls Due every check until ctx ends.
func (d Drawer) Run(ctx context.Context, node string, check time.Duration, log *slog.Logger) {
	bgloop.Poll(ctx, check, nil, func(ctx context.Context) error {
		out, err := d.Due(ctx, d.Store.now(), node)
		if out != nil {
			log.Info("peer review: month drawn", "month", out.Month, "finals", out.Finals, "drawn", len(out.Drawn), "unassigned", out.Unassigned)
		}
		return err
	}, func(err error) { log.Warn("peer review draw", "err", err) })
}
