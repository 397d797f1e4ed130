package critical

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lightbox/internal/db"
)

// Scheduler fires persisted escalation timers and retries pending report
// addenda. Any number of schedulers may run against one database (one per
// node): each firing is claimed with a conditional UPDATE, so it happens
// once. Timers live in the database, so a restart keeps every deadline.
type Scheduler struct {
	s *Service
	// MaxWait bounds the sleep between passes (default 5 s), so timers
	// written by other nodes are picked up promptly.
	MaxWait time.Duration
	// Batch is how many due loops one query fetches (default 100).
	Batch int
}

// NewScheduler returns a scheduler for the service.
func (s *Service) NewScheduler() *Scheduler { return &Scheduler{s: s} }

// Run fires due timers until ctx ends, waking at the next due time, when
// the service changes a timer, and at least every MaxWait.
func (sc *Scheduler) Run(ctx context.Context) error {
	maxWait := sc.MaxWait
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	for {
		if _, err := sc.Tick(ctx); err != nil && ctx.Err() == nil {
			sc.s.log.Warn("critical scheduler pass failed", "err", err)
		}
		wait := maxWait
		if next, ok, err := sc.NextDue(ctx); err == nil && ok {
			switch d := next.Sub(sc.s.now()); {
			case d <= 0: // still due after a pass: failing; do not spin
				wait = min(wait, time.Second)
			case d < wait:
				wait = max(d, 10*time.Millisecond)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-sc.s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// NextDue is the earliest pending timer or addendum retry.
func (sc *Scheduler) NextDue(ctx context.Context) (time.Time, bool, error) {
	var a, b string
	err := sc.s.db.QueryRow(ctx, `SELECT COALESCE(MIN(next_due_at), ''), (SELECT COALESCE(MIN(addendum_due_at), '') FROM crit_result
		WHERE addendum_due_at <> '') FROM crit_result WHERE next_due_at <> ''`).Scan(&a, &b)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("critical: next due: %w", err)
	}
	ta, tb := db.ParseOptional(a), db.ParseOptional(b)
	if sc.s.addenda == nil {
		tb = time.Time{}
	}
	switch {
	case ta.IsZero() && tb.IsZero():
		return time.Time{}, false, nil
	case ta.IsZero():
		return tb, true, nil
	case tb.IsZero() || ta.Before(tb):
		return ta, true, nil
	}
	return tb, true, nil
}

func (sc *Scheduler) due(ctx context.Context, col string, now time.Time) ([]string, error) {
	batch := sc.Batch
	if batch <= 0 {
		batch = 100
	}
	ids, err := db.Strings(sc.s.db.Query(ctx, "SELECT id FROM crit_result WHERE "+col+" <> '' AND "+col+" <= ? ORDER BY "+col+", id LIMIT ?", db.FormatOptional(now), batch))
	if err != nil {
		return nil, fmt.Errorf("critical: due: %w", err)
	}
	return ids, nil
}

// Tick fires every timer due now (one rung per loop per round, repeating
// while loops are still due, e.g. after a long outage) and retries due
// addenda. It returns how many timers this scheduler fired.
func (sc *Scheduler) Tick(ctx context.Context) (int, error) {
	fired := 0
	var errs []error
	for round := 0; round < 32; round++ {
		ids, err := sc.due(ctx, "next_due_at", sc.s.now())
		if err != nil {
			return fired, err
		}
		progress := false
		for _, id := range ids {
			ok, err := sc.s.fire(ctx, id)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ok {
				fired++
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	if sc.s.addenda == nil {
		return fired, errors.Join(errs...)
	}
	ids, err := sc.due(ctx, "addendum_due_at", sc.s.now())
	if err != nil {
		return fired, err
	}
	for _, id := range ids {
		if err := sc.s.writeAddendum(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return fired, errors.Join(errs...)
}

// fire advances one loop's timer if it is due: the next escalation rung
// (notifying its contacts) or the overdue notice. It reports whether this
// call fired it; a concurrent scheduler that fired first makes it a no-op.
func (s *Service) fire(ctx context.Context, id string) (bool, error) {
	var kind string
	var level int
	_, err := s.mutate(ctx, id, func(tx *db.Tx, r *Result, now time.Time) ([]Notification, error) {
		next := r.nextTimer()
		if next.IsZero() || next.After(now) {
			return nil, errNoChange
		}
		escalate := r.EscalationLevel < r.maxLevel && !r.warnAt.Add(time.Duration(r.EscalationLevel)*r.step).After(next)
		if escalate {
			r.EscalationLevel++
			kind, level = "escalated", r.EscalationLevel
			n, err := s.rungNotification(ctx, tx, r, "escalated", r.EscalationLevel, now)
			if err != nil {
				return nil, err
			}
			detail := "rung " + n.Rung
			if len(n.Targets) == 0 {
				detail += " (no contact in directory)"
			}
			if err := addEvent(ctx, tx, r.ID, now, "escalated", r.EscalationLevel, "", detail); err != nil {
				return nil, err
			}
			return []Notification{*n}, nil
		}
		r.overdueNotified = true
		kind, level = "overdue", r.EscalationLevel
		n, err := s.rungNotification(ctx, tx, r, "overdue", r.EscalationLevel, now)
		if err != nil {
			return nil, err
		}
		return []Notification{*n}, addEvent(ctx, tx, r.ID, now, "overdue", r.EscalationLevel, "", "")
	})
	if errors.Is(err, errNoChange) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.log.Info("critical result timer fired", "result", id, "kind", kind, "level", level)
	return true, nil
}
