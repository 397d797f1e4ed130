package server

import (
	"context"
	"errors"

	"lightbox/internal/db"
	"lightbox/internal/dicomsvc"
	"lightbox/internal/dispatch"
	"lightbox/internal/order"
	"lightbox/internal/priors"
)

// buildPriors wires internal/priors: the dispatcher waits for a study's
// priors before assignment, an approved order asks for them ahead, and
// the fetched study goes on the worklist as soon as its fetch ends.
func (s *Server) buildPriors(dopt *dispatch.Options) {
	c := s.cfg
	remote := dicomsvc.New(dicomsvc.Options{AETitle: c.AETitle, Archive: s.Storage.Archive, Logger: s.log}).PACS()
	s.Priors = priors.New(priors.Options{DB: s.Storage.DB, Remote: remote, Local: s.Storage.Archive.HasStudy, Audit: s.Audit, Logger: s.log,
		Ready: func(ctx context.Context, studyUID string) error {
			if s.Dispatch == nil {
				return errors.New("no dispatcher")
			}
			return s.Dispatch.Complete(ctx, studyUID)
		}})
	dopt.Hold = s.Priors.Hold
	notify := s.Orders.Notify
	s.Orders.Notify = func(ctx context.Context, tx *db.Tx, o order.Order, ev order.Status) error {
		if notify != nil {
			if err := notify(ctx, tx, o, ev); err != nil {
				return err
			}
		}
		if ev != order.StatusScheduled {
			return nil
		}
		return s.Priors.Request(ctx, tx, priors.Request{StudyUID: o.StudyUID, FacilityID: o.FacilityID, Modality: o.Modality, By: "order approved",
			Patient: priors.Patient{Issuer: o.Patient.Issuer, ID: o.Patient.ID, Name: o.Patient.Name, BirthDate: o.Patient.BirthDate}})
	}
}
