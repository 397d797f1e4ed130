package retention

import (
	"context"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/bgloop"
	"lightbox/internal/db"
	"lightbox/internal/facility"
)

const timerName = "retention"

// timerActor is who the scheduled runs are audited as.
var timerActor = audit.Actor{UserID: "retention-timer", Role: "system"}

// claim moves the timer's next run forward if it is due, and reports
// whether this node won the period: exactly one node of a cluster does, as
// the UPDATE is conditional on the value every node read.
func (s *Service) claim(ctx context.Context, node string, every time.Duration) (bool, error) {
	now := s.now()
	if _, err := s.DB.Exec(ctx, `INSERT INTO retention_timer (name, next_run_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		timerName, db.Now(now), db.Now(now)); err != nil {
		return false, err
	}
	res, err := s.DB.Exec(ctx, `UPDATE retention_timer SET next_run_at = ?, owner = ?, updated_at = ? WHERE name = ? AND next_run_at <= ?`,
		db.Now(now.Add(every)), node, db.Now(now), timerName, db.Now(now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Tick is one step of the timer: it drains the blob-deletion queue (any
// node may: entries are claimed), and runs retention when some facility has
// a retention period and this node wins the due period. It reports whether
// it ran.
func (s *Service) Tick(ctx context.Context, node string, every time.Duration) (bool, error) {
	if _, err := s.Drain(ctx); err != nil {
		return false, err
	}
	years, err := facility.RetentionYears(ctx, s.DB)
	if err != nil || len(years) == 0 {
		return false, err // nothing to apply: no run, no audit record
	}
	won, err := s.claim(ctx, node, every)
	if err != nil || !won {
		return false, err
	}
	_, err = s.Run(ctx, timerActor, false)
	return true, err
}

// Timer runs Tick every check until ctx ends: retention once per period
// cluster-wide (every, e.g. 24 h), the queue drained at each check.
func (s *Service) Timer(ctx context.Context, node string, every, check time.Duration) {
	bgloop.Poll(ctx, check, nil,
		func(ctx context.Context) error { _, err := s.Tick(ctx, node, every); return err },
		func(err error) { s.log().Warn("retention timer", "err", err) })
}
