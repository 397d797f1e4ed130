package server

import (
	"context"
	"log/slog"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/critical"
	"lightbox/internal/dispatch"
	"lightbox/internal/model"
	"lightbox/internal/notify"
	"lightbox/internal/roster"
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
func (s *Server) onDecision(ctx context.Context, d assign.Decision) {
	m, to, ok := notify.FromDecision(d)
	if !ok {
		return
	}
	if err := s.Notify.Send(context.WithoutCancel(ctx), m, to...); err != nil {
		s.log.Warn("notify", "event", m.Event, "err", err)
	}
}

// watch raises the notifications no single event triggers, every minute:
// final reports whose delivery the facility never acknowledged, and (hourly)
// the 90/60/30-day (and lapsed) reminders of every reader's licences,
// privileges and other dated credentials. Each goes once: the delivery log
// deduplicates.
func (s *Server) watch(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for n := 0; ; n++ {
		if fs, err := s.Reports.FailedDeliveries(ctx); err == nil {
			for _, d := range fs {
				m, to := notify.FromUnackedReport(d)
				if err := s.Notify.Send(ctx, m, to...); err != nil {
					s.log.Warn("notify", "event", m.Event, "err", err)
				}
			}
		}
		s.watchDeadlines(ctx)
		if n%60 == 0 {
			s.watchCredentials(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) watchCredentials(ctx context.Context) {
	rs, err := roster.Store{DB: s.Storage.DB}.Readers(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("credential watch", "err", err)
		}
		return
	}
	list := make([]model.Reader, len(rs))
	for i, r := range rs {
		list[i] = *r
	}
	for _, a := range model.Expiring(list, time.Now(), model.DefaultOffsets()) {
		m, to := notify.FromExpiry(a)
		if err := s.Notify.Send(ctx, m, to...); err != nil {
			s.log.Warn("notify", "event", m.Event, "err", err)
		}
	}
}

// watchDeadlines tells the coordinators about each unread study whose
// first-read deadline is at risk (notify.AtRisk), once per study.
func (s *Server) watchDeadlines(ctx context.Context) {
	open, err := dispatch.Open(ctx, s.Storage.DB)
	if err != nil {
		return
	}
	facs := map[string]*model.Facility{}
	if fs, err := (roster.Store{DB: s.Storage.DB}).Facilities(ctx); err == nil {
		for _, f := range fs {
			facs[f.ID] = f
		}
	}
	now := time.Now()
	for i := range open {
		st := &open[i]
		st.Facility = facs[st.FacilityID]
		if !notify.AtRisk(st, now) {
			continue
		}
		m, to := notify.FromDeadline(st, now)
		if err := s.Notify.Send(ctx, m, to...); err != nil {
			s.log.Warn("notify", "event", m.Event, "err", err)
		}
	}
}
