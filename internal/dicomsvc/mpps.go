package dicomsvc

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/db"
	"lightbox/internal/dcm"
	"lightbox/internal/dimse"
	"lightbox/internal/event"
	"lightbox/internal/order"
)

const (
	tagPPSStatus                       dcm.Tag = 0x00400252
	tagScheduledStepAttributesSequence dcm.Tag = 0x00400270
)

// HandleN serves MPPS: N-CREATE opens a performed step (IN PROGRESS, T1),
// N-SET moves it to COMPLETED (T2, and the study goes on the worklist at
// once) or DISCONTINUED.
func (s *Service) HandleN(ctx context.Context, req *dimse.NRequest) dimse.NResponse {
	if req.SOPClassUID != dimse.ModalityPerformedProcedure {
		return dimse.NResponse{Status: dimse.StatusSOPClassNotSupported}
	}
	ds, err := dcm.ReadDataset(bytes.NewReader(req.Data), req.TransferSyntaxUID, dcm.ReadOptions{})
	if err != nil {
		return dimse.NResponse{Status: dimse.StatusInvalidAttributeValue, ErrorComment: clip(err.Error())}
	}
	c := callerOf(req.Assoc)
	now := time.Now()
	switch req.Command {
	case dimse.NCreateRQ:
		return s.mppsCreate(ctx, c, req, ds, now)
	case dimse.NSetRQ:
		return s.mppsSet(ctx, c, req, ds, now)
	}
	return dimse.NResponse{Status: dimse.StatusUnrecognizedOperation}
}

func (s *Service) mppsCreate(ctx context.Context, c *caller, req *dimse.NRequest, ds *dcm.Dataset, now time.Time) dimse.NResponse {
	uid := req.SOPInstanceUID
	if uid == "" {
		uid = dcm.NewUID()
	}
	if st := ds.Str(tagPPSStatus); st != "IN PROGRESS" {
		return dimse.NResponse{Status: dimse.StatusInvalidAttributeValue, ErrorComment: "N-CREATE status must be IN PROGRESS"}
	}
	var study, accession string
	if items := ds.Seq(tagScheduledStepAttributesSequence); len(items) > 0 {
		study, accession = items[0].Str(dcm.TagStudyInstanceUID), items[0].Str(dcm.TagAccessionNumber)
	}
	if study == "" {
		study = ds.Str(dcm.TagStudyInstanceUID)
	}
	ts := db.Now(now)
	_, err := s.opt.DB.Exec(ctx, `INSERT INTO mpps (sop_uid, study_uid, accession, facility_id, status, source_ae, created_at, updated_at) VALUES (?, ?, ?, ?, 'IN PROGRESS', ?, ?, ?)`,
		uid, study, accession, c.facility, c.ae, ts, ts)
	if db.IsUniqueViolation(err) {
		return dimse.NResponse{Status: dimse.StatusDuplicateSOPInstance}
	}
	if err != nil {
		s.log.Error("mpps create", "err", err)
		return dimse.NResponse{Status: dimse.StatusProcessingFailure}
	}
	s.audit(ctx, audit.RecordEvent(c.actor(), audit.ProcedureRecord, audit.Create, "mpps", "", "", nonEmpty(study)...))
	if _, err := s.opt.Orders.MPPSInProgress(ctx, order.StepKey{StudyUID: study, FacilityID: c.facility, Accession: accession}, now); err != nil {
		s.log.Info("mpps without a matching order", "calling", c.ae, "reason", err.Error())
	}
	return dimse.NResponse{Status: dimse.StatusSuccess, SOPInstanceUID: uid}
}

func (s *Service) mppsSet(ctx context.Context, c *caller, req *dimse.NRequest, ds *dcm.Dataset, now time.Time) dimse.NResponse {
	var study, accession, facility, status string
	err := s.opt.DB.QueryRow(ctx, "SELECT study_uid, accession, facility_id, status FROM mpps WHERE sop_uid = ?", req.SOPInstanceUID).Scan(&study, &accession, &facility, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return dimse.NResponse{Status: dimse.StatusNoSuchSOPInstance}
	}
	if err != nil {
		return dimse.NResponse{Status: dimse.StatusProcessingFailure}
	}
	if status != "IN PROGRESS" {
		// PS3.4 F.7.2.2: a completed or discontinued step may not change.
		return dimse.NResponse{Status: dimse.StatusProcessingFailure, ErrorComment: "performed procedure step is already " + status}
	}
	next := ds.Str(tagPPSStatus)
	switch next {
	case "", "IN PROGRESS":
		return dimse.NResponse{Status: dimse.StatusSuccess}
	case "COMPLETED", "DISCONTINUED":
	default:
		return dimse.NResponse{Status: dimse.StatusInvalidAttributeValue, ErrorComment: "unknown performed procedure step status"}
	}
	// The step's new state and what follows from it (the order's status, the
	// study on the reading worklist) commit together: the followers run
	// from a durable event (internal/event), again after a crash.
	key := order.StepKey{StudyUID: study, FacilityID: facility, Accession: accession}
	err = s.opt.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE mpps SET status = ?, updated_at = ? WHERE sop_uid = ?", next, db.Now(now), req.SOPInstanceUID); err != nil {
			return err
		}
		return event.Publish(ctx, tx, EventMPPSEnded, study, MPPSEnded{Step: key, Status: next, At: now})
	})
	if err != nil {
		s.log.Error("mpps: n-set", "err", err)
		return dimse.NResponse{Status: dimse.StatusProcessingFailure}
	}
	s.audit(ctx, audit.RecordEvent(c.actor(), audit.ProcedureRecord, audit.Update, "mpps", "", "", nonEmpty(study)...))
	event.CrashPoint(EventMPPSEnded) // test-only
	if _, err := s.opt.Events.Drain(ctx); err != nil {
		s.log.Warn("mpps: events pending (retried)", "err", err)
	}
	return dimse.NResponse{Status: dimse.StatusSuccess}
}

// EventMPPSEnded is the durable event of a performed procedure step that
// was completed or discontinued (N-SET, PS3.4 F.7.2.2).
const EventMPPSEnded = "mpps.ended"

// MPPSEnded is its payload.
type MPPSEnded struct {
	Step   order.StepKey `json:"step"`
	Status string        `json:"status"` // COMPLETED | DISCONTINUED
	At     time.Time     `json:"at"`
}

// mppsEnded moves the order (a step without a matching order is only
// logged) and, when completed, puts the study on the reading worklist.
// Both are idempotent.
func (s *Service) mppsEnded(ctx context.Context, e event.Event) error {
	var m MPPSEnded
	if err := e.Decode(&m); err != nil {
		return err
	}
	if s.opt.Orders == nil {
		return nil
	}
	if m.Status != "COMPLETED" {
		if _, err := s.opt.Orders.MPPSDiscontinued(ctx, m.Step, m.At, "MPPS DISCONTINUED"); err != nil {
			s.log.Info("mpps discontinued without a matching order", "reason", err.Error())
		}
		return nil
	}
	if _, err := s.opt.Orders.MPPSCompleted(ctx, m.Step, m.At); err != nil {
		s.log.Info("mpps completed without a matching order", "reason", err.Error())
	}
	if s.opt.Dispatch != nil && m.Step.StudyUID != "" {
		if err := s.opt.Dispatch.Complete(ctx, m.Step.StudyUID); err != nil {
			return fmt.Errorf("mpps: put study on the worklist: %w", err)
		}
	}
	return nil
}

func nonEmpty(uids ...string) []string {
	var out []string
	for _, u := range uids {
		if u != "" {
			out = append(out, u)
		}
	}
	return out
}
