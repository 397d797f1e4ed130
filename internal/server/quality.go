package server

import (
	"context"
	"fmt"
	"slices"

	"lightbox/internal/auth"
	"lightbox/internal/mentor"
	"lightbox/internal/model"
	"lightbox/internal/notify"
	"lightbox/internal/roster"
	"lightbox/internal/tumorboard"
)

// mentorSigned is the mentored-reading hook of report signing
// (report.Options.OnSigned): a new reader's signed report may be assigned
// to a senior for over-reading (internal/mentor), who is told.
func (s *Server) mentorSigned(ctx context.Context, studyUID, readerID string, kind model.ReadKind) error {
	rs, err := roster.Store{DB: s.Storage.DB}.Readers(ctx)
	if err != nil {
		return err
	}
	readers := make([]mentor.Reader, len(rs))
	for i, r := range rs {
		readers[i] = mentor.Reader{ID: r.ID, Subspecialties: r.Subspecialties}
	}
	o, ok, err := mentor.Store{DB: s.Storage.DB}.Signed(ctx, studyUID, readerID, kind == model.Final, readers)
	if err != nil || !ok || s.Notify == nil {
		return err
	}
	return s.Notify.Send(context.WithoutCancel(ctx), notify.Message{Event: notify.Mentoring, Key: fmt.Sprintf("overread/%d", o.ID),
		Subject: "A mentored over-read was assigned to you",
		Text:    "A new colleague's report awaits your over-read and comments.", Link: "/mentoring"}, notify.Recipient{ID: o.Mentor})
}

// usesBoardGrant reports whether user reaches study through a tumor-board
// grant rather than their own scope, so the audit trail marks each use.
func (s *Server) usesBoardGrant(ctx context.Context, p *auth.Principal, study string) bool {
	studies, err := tumorboard.Store{DB: s.Storage.DB}.Active(ctx, p.Username)
	if err != nil || !slices.Contains(studies, study) {
		return false
	}
	fac, exists, err := s.Query.StudyFacility(ctx, study)
	return err == nil && exists && !p.Sees(fac)
}
