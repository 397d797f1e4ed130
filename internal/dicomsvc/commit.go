package dicomsvc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/audit"
	"lightbox/internal/dcm"
	"lightbox/internal/dimse"
	"lightbox/internal/event"
)

// Storage Commitment Push Model SCP (PS3.4 Annex J): a modality asks with
// N-ACTION (Request Storage Commitment, action type 1) whether Lightbox
// holds the instances it sent; Lightbox records the request durably,
// answers the N-ACTION and reports the outcome with N-EVENT-REPORT (event
// type 1: all committed, 2: some failed), on the same association when it
// is still open, else on a new association to the requester's registered
// AE, retried until delivered, across restarts (commitstore.go).

// Attributes of the Storage Commitment module (PS3.3 C.14).
const (
	tagTransactionUID dcm.Tag = 0x00081195
)

// Failure Reason values (PS3.3 C.14.1.1).
const (
	failProcessing        uint16 = 0x0110
	failNoSuchInstance    uint16 = 0x0112
	failClassInstanceConf uint16 = 0x0119
)

type commitRef struct{ class, inst string }

// commitSCP serves the Storage Commitment Push Model SOP class.
type commitSCP struct{ s *Service }

// HandleN answers N-ACTION Request Storage Commitment.
func (h commitSCP) HandleN(ctx context.Context, req *dimse.NRequest) dimse.NResponse {
	if req.Command != dimse.NActionRQ {
		return dimse.NResponse{Status: dimse.StatusUnrecognizedOperation}
	}
	if req.SOPInstanceUID != dimse.StorageCommitmentPushModelID {
		return dimse.NResponse{Status: dimse.StatusNoSuchSOPInstance}
	}
	if req.ActionTypeID != 1 {
		return dimse.NResponse{Status: dimse.StatusNoSuchActionType}
	}
	ds, err := dcm.ReadDataset(bytes.NewReader(req.Data), req.TransferSyntaxUID, dcm.ReadOptions{})
	if err != nil {
		return dimse.NResponse{Status: dimse.StatusInvalidAttributeValue, ErrorComment: clip(err.Error())}
	}
	txn := ds.Str(tagTransactionUID)
	items := ds.Seq(dcm.TagReferencedSOPSequence)
	if txn == "" || len(items) == 0 {
		return dimse.NResponse{Status: dimse.StatusMissingAttribute, ErrorComment: "Transaction UID and Referenced SOP Sequence are required"}
	}
	refs := make([]commitRef, 0, len(items))
	for _, it := range items {
		refs = append(refs, commitRef{class: it.Str(dcm.TagReferencedSOPClassUID), inst: it.Str(dcm.TagReferencedSOPInstanceUID)})
	}
	c := callerOf(req.Assoc)
	if h.s.commits == nil {
		return dimse.NResponse{Status: dimse.StatusProcessingFailure, ErrorComment: "storage commitment is not configured"}
	}
	// Success promises a report: the request is durable before the answer.
	pk, err := h.s.commits.add(ctx, c, txn, req.TransferSyntaxUID, refs)
	if err != nil {
		h.s.log.Error("storage commitment request not recorded", "calling", c.ae, "err", err)
		return dimse.NResponse{Status: dimse.StatusProcessingFailure, ErrorComment: "could not record the request; retry later"}
	}
	return dimse.NResponse{Status: dimse.StatusSuccess, After: func(a *dimse.Association) {
		event.CrashPoint(CrashCommitAcknowledged)
		ctx, cancel := context.WithTimeout(context.Background(), commitClaim)
		defer cancel()
		r, ok, err := h.s.commits.claim(ctx, pk)
		if err != nil {
			h.s.log.Warn("storage commitment", "err", err)
		}
		if ok { // else a poller has it: the grace passed
			h.s.report(ctx, a, r)
		}
	}}
}

// CrashCommitAcknowledged is the crash point (event.CrashEnv) between a
// Storage Commitment request's acknowledgement and its report.
const CrashCommitAcknowledged = "stgcmt.acknowledged"

// report checks a claimed request's instances and delivers the report: on
// the requesting association a while it is open (J.3.3), else on a new
// association to the requester's registered AE; then records the outcome.
func (s *Service) report(ctx context.Context, a *dimse.Association, r *commitRequest) {
	c := r.caller
	ok, failed := s.checkCommitted(ctx, c, r.refs)
	ev := &dcm.Dataset{}
	ev.Put(dcm.StrElement(tagTransactionUID, "UI", r.txn))
	eventType := uint16(1)
	if len(ok) > 0 {
		ev.SetSeq(dcm.TagReferencedSOPSequence, ok...)
	}
	if len(failed) > 0 {
		eventType = 2
		ev.SetSeq(dcm.TagFailedSOPSequence, failed...)
	}
	how, err := "same", error(nil)
	if a != nil && a.Err() == nil {
		err = s.sendCommitEvent(ctx, a, eventType, ev, r.ts)
		if err != nil && a.Err() == nil {
			s.log.Warn("storage commitment report on the same association", "calling", c.ae, "err", err)
		}
	}
	if a == nil || a.Err() != nil || err != nil {
		// Lightbox in the SCP role for the SOP class (J.3.3, role selection).
		how, err = "new", s.reportOnNewAssociation(ctx, c, eventType, ev)
	}
	left, ferr := s.commits.finish(context.WithoutCancel(ctx), r, err)
	if ferr != nil {
		s.log.Error("storage commitment", "err", ferr)
	}
	switch {
	case err == nil:
		s.log.Info("storage commitment reported", "calling", c.ae, "committed", len(ok), "failed", len(failed), "association", how)
	case left:
		s.log.Error("storage commitment report not delivered; given up", "calling", c.ae, "attempts", r.attempts, "err", err)
	default:
		s.log.Warn("storage commitment report (retried)", "calling", c.ae, "attempts", r.attempts, "err", err)
		return
	}
	s.auditCommitment(ctx, c, r.refs, len(ok), len(failed), err)
}

func (s *Service) auditCommitment(ctx context.Context, c *caller, refs []commitRef, nok, nfailed int, sendErr error) {
	studies := map[string]bool{}
	for _, r := range refs {
		if ref, err := s.opt.Archive.Instance(ctx, r.inst); err == nil {
			studies[ref.StudyUID] = true
		}
	}
	var uids []string
	for u := range studies {
		uids = append(uids, u)
	}
	e := audit.RecordEvent(c.actor(), audit.ProcedureRecord, audit.Execute, "storage-commitment", "", "", uids...)
	e.Detail = fmt.Sprintf("storage commitment: %d committed, %d failed", nok, nfailed)
	if nfailed > 0 {
		e.Outcome = audit.MinorFailure
	}
	if sendErr != nil {
		e.Detail += "; report not delivered"
		e.Outcome = audit.SeriousFailure
	}
	s.audit(ctx, e)
}

// checkCommitted splits refs into Referenced SOP Sequence items (held) and
// Failed SOP Sequence items (with their Failure Reason).
func (s *Service) checkCommitted(ctx context.Context, c *caller, refs []commitRef) (ok, failed []*dcm.Dataset) {
	for _, r := range refs {
		item := &dcm.Dataset{}
		item.Put(dcm.StrElement(dcm.TagReferencedSOPClassUID, "UI", r.class))
		item.Put(dcm.StrElement(dcm.TagReferencedSOPInstanceUID, "UI", r.inst))
		reason := uint16(0)
		ref, err := s.opt.Archive.Held(ctx, r.inst)
		switch {
		case errors.Is(err, archive.ErrNotFound):
			reason = failNoSuchInstance
		case err != nil:
			s.log.Warn("storage commitment check", "err", err)
			reason = failProcessing
		case !c.scope.AllowsFacility(ref.FacilityID):
			// Another facility's instance is not the requester's to know of.
			reason = failNoSuchInstance
		case ref.SOPClassUID != r.class:
			reason = failClassInstanceConf
		}
		if reason != 0 {
			item.SetUint16(dcm.TagFailureReason, reason)
			failed = append(failed, item)
			continue
		}
		ok = append(ok, item)
	}
	return ok, failed
}

func (s *Service) sendCommitEvent(ctx context.Context, a *dimse.Association, eventType uint16, ev *dcm.Dataset, ts string) error {
	if t, ok := a.TransferSyntax(dimse.StorageCommitmentPushModel); ok {
		ts = t
	}
	var b bytes.Buffer
	if err := dcm.WriteDataset(&b, ev, ts); err != nil {
		return err
	}
	rsp, _, err := a.SendN(ctx, dimse.NewNEventReportRQ(dimse.StorageCommitmentPushModel, dimse.StorageCommitmentPushModelID, eventType, true), b.Bytes())
	if err != nil {
		return err
	}
	if dimse.IsFailure(rsp.Status) {
		return &dimse.StatusError{Status: rsp.Status, Comment: rsp.ErrorComment}
	}
	return nil
}

func (s *Service) reportOnNewAssociation(ctx context.Context, c *caller, eventType uint16, ev *dcm.Dataset) error {
	dest, err := s.ResolveAE(ctx, c.ae)
	if err != nil {
		return fmt.Errorf("requester AE %q: %w", c.ae, err)
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	a, err := dimse.Dial(dctx, dest.Addr, s.opt.AETitle, c.ae, []dimse.ContextProposal{
		{AbstractSyntax: dimse.StorageCommitmentPushModel, SCPRole: true},
	}, &dimse.DialOptions{TLSConfig: dest.TLSConfig, Logger: s.log})
	if err != nil {
		return err
	}
	err = s.sendCommitEvent(dctx, a, eventType, ev, dimse.ExplicitVRLittleEndian)
	if rerr := a.Release(dctx); err == nil && rerr != nil {
		s.log.Debug("storage commitment release", "err", rerr)
	}
	return err
}
