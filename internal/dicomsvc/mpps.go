package dicomsvc

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/db"
	"lightbox/internal/dcm"
	"lightbox/internal/dimse"
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
	if _, err := s.opt.DB.Exec(ctx, "UPDATE mpps SET status = ?, updated_at = ? WHERE sop_uid = ?", next, db.Now(now), req.SOPInstanceUID); err != nil {
		return dimse.NResponse{Status: dimse.StatusProcessingFailure}
	}
	key := order.StepKey{StudyUID: study, FacilityID: facility, Accession: accession}
	s.audit(ctx, audit.RecordEvent(c.actor(), audit.ProcedureRecord, audit.Update, "mpps", "", "", nonEmpty(study)...))
	if next == "COMPLETED" {
		if _, err := s.opt.Orders.MPPSCompleted(ctx, key, now); err != nil {
			s.log.Info("mpps completed without a matching order", "calling", c.ae, "reason", err.Error())
		}
		if s.opt.Dispatch != nil && study != "" {
			if err := s.opt.Dispatch.Complete(ctx, study); err != nil {
				s.log.Warn("mpps: put study on the worklist", "err", err)
			}
		}
	} else if _, err := s.opt.Orders.MPPSDiscontinued(ctx, key, now, "MPPS DISCONTINUED"); err != nil {
		s.log.Info("mpps discontinued without a matching order", "calling", c.ae, "reason", err.Error())
	}
	return dimse.NResponse{Status: dimse.StatusSuccess}
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
