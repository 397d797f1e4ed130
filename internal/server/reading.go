package server

import (
	"context"
	"errors"
	"net/http"

	"lightbox/internal/api"
	"lightbox/internal/auth"
	"lightbox/internal/critical"
	"lightbox/internal/dispatch"
	"lightbox/internal/hl7report"
	"lightbox/internal/mentor"
	"lightbox/internal/model"
	"lightbox/internal/report"
)

// The reading side of a node: reports (lifecycle, delivery, FHIR) and the
// critical-results loop, wired to the dispatcher, orders and each other.

// reportAddenda lets the critical loop write its communication statement
// into the report as an addendum.
type reportAddenda struct{ r *report.Service }

func (a reportAddenda) Addendum(ctx context.Context, studyUID, text string, by critical.Signer) error {
	_, err := a.r.Addendum(ctx, studyUID, text, report.Signer{ReaderID: by.ReaderID, Display: by.Display})
	return err
}

func (s *Server) buildReading() error {
	s.Reports = report.New(s.Storage.DB, report.Options{Orders: s.Orders, Logger: s.log, SendingApp: s.cfg.AETitle, Events: s.events, Results: hl7report.Outbox,
		OnSigned: func(ctx context.Context, studyUID, readerID string, kind model.ReadKind) error {
			if err := (mentor.Store{DB: s.Storage.DB}).OnSigned(ctx, s.Notify, studyUID, readerID, kind == model.Final); err != nil {
				s.log.Warn("mentored reading", "err", err)
			}
			err := s.Dispatch.Signed(ctx, studyUID, readerID, kind)
			if errors.Is(err, dispatch.ErrNotHolder) {
				// A prelim signed after its lease moved: the engine keeps
				// the study; retrying would not change that.
				s.log.Warn("report signed by a reader not holding the study", "kind", kind.String())
				return nil
			}
			return err
		},
		NotifyDiscrepancy: func(ctx context.Context, prelimReader string, d report.Discrepancy) {
			// The prelim reader learns on their live worklist (SSE) that the
			// final differs, with who signed it; the discrepancy is kept for QA.
			s.Dispatch.Notify(prelimReader, "discrepancy", d.StudyUID, "final by "+d.FinalReader+" differs from your preliminary read")
		},
		OnDiscrepancy: func(ctx context.Context, d report.Discrepancy) error {
			// docs/domain.md §5 situation 2 / CR4: a communicated prelim that the final
			// changes materially must be communicated again.
			_, err := s.Critical.OpenOnce(ctx, critical.OpenRequest{StudyUID: d.StudyUID, FacilityID: d.FacilityID, Category: "2", IdentifiedAt: d.At,
				Finding: critical.Finding{Text: "Final report differs materially from the communicated preliminary report"},
				By:      critical.Actor{ID: d.FinalReader, Coordinator: true}})
			return err
		},
	})
	var err error
	s.Critical, err = critical.New(critical.Options{DB: s.Storage.DB, Orders: s.Orders, Logger: s.log,
		Holder:   func(uid string) string { r, _ := s.Dispatch.Holder(uid); return r },
		Notifier: criticalNotifier{log: s.log, n: s.Notify},
		Addenda:  reportAddenda{r: s.Reports},
	})
	return err
}

func (s *Server) readingRoutes(mux *routeRecorder, principal func(*http.Request) (*auth.Principal, error)) {
	(&api.Reports{Service: s.Reports, Logger: s.log, Principal: principal,
		RecentAuth: func(r *http.Request) error { return s.Auth.RequireRecentAuth(r.Context()) },
		Granted: func(ctx context.Context, p *auth.Principal, study string) bool {
			return s.grants().Allows(ctx, p.Username, p.Role == auth.Radiologist, study)
		},
	}).Routes(mux)
	(&api.Critical{Service: s.Critical, Logger: s.log, Principal: principal}).Routes(mux)
}
