package server

import (
	"context"
	"log/slog"
	"time"

	"lightbox/internal/credential"
	"lightbox/internal/critical"
	"lightbox/internal/notify"
	"lightbox/internal/roster"
	"lightbox/internal/worklist"
)

// Notifications: domain events (critical-result escalation and
// acknowledgement requests, uncovered studies, readers dropping offline
// with cases, deadlines at risk, credentials about to lapse) become
// e-mails, signed webhooks and in-app notices through internal/notify.

// criticalNotifier logs each critical-result notification (without patient
// data) and hands it to notify.
type criticalNotifier struct {
	log *slog.Logger
	n   *notify.Service
}

func (c criticalNotifier) Notify(ctx context.Context, m critical.Notification) error {
	c.log.Warn("critical result notification", "kind", m.Kind, "result_id", m.ResultID, "facility", m.FacilityID,
		"category", m.Category, "level", m.Level, "rung", m.Rung, "targets", len(m.Targets))
	msg, to := notify.FromCritical(m)
	return c.n.Send(ctx, msg, to...)
}

// onDecision tells people about the engine decisions that need them.
func (s *Server) onDecision(ctx context.Context, d worklist.Decision) {
	m, to, ok := notify.FromDecision(d)
	if !ok {
		return
	}
	if err := s.Notify.Send(context.WithoutCancel(ctx), m, to...); err != nil {
		s.log.Warn("notify", "event", m.Event, "err", err)
	}
}

// watchCredentials sends the 90/60/30-day (and lapsed) reminders of every
// reader's licences, privileges and other dated credentials, hourly; each
// reminder goes once (the delivery log deduplicates by reminder).
func (s *Server) watchCredentials(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		rs, err := roster.Store{DB: s.Storage.DB}.Readers(ctx)
		if err == nil {
			list := make([]credential.Reader, len(rs))
			for i, r := range rs {
				list[i] = *r
			}
			for _, a := range credential.Expiring(list, time.Now(), credential.DefaultOffsets()) {
				m, to := notify.FromExpiry(a)
				if err := s.Notify.Send(ctx, m, to...); err != nil {
					s.log.Warn("notify", "event", m.Event, "err", err)
				}
			}
		} else if ctx.Err() == nil {
			s.log.Warn("credential watch", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
