package dimse

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"lightbox/internal/dcm"
)

// subOpSender performs C-STORE sub-operations for C-MOVE (over a new
// association) or C-GET (over the requesting association).
type subOpSender interface {
	send(ctx context.Context, inst Instance) (status uint16, err error)
	close()
}

func (d *dispatcher) retrieve(ctx context.Context, a *Association, m *message) error {
	c := m.cmd
	final := NewResponse(c, StatusSuccess)
	ident, done, err := readRequestData(a, m, final, c.CommandField.String())
	if done {
		return err
	}
	h, _ := d.mux.lookup(c.AffectedSOPClassUID).(RetrieveHandler)
	if h == nil || c.AffectedSOPClassUID != m.pc.AbstractSyntax || d.server == nil {
		final.Status = StatusSOPClassNotSupported
		return a.respond(m.pc, final, nil)
	}
	if ident == nil {
		final.Status = StatusDataSetDoesNotMatchSOPClass
		return a.respond(m.pc, final, nil)
	}
	opCtx, cancelled, release := a.registerCancel(ctx, c.MessageID)
	defer release()
	req := &RetrieveRequest{Assoc: a.info, Command: c.CommandField, MessageID: c.MessageID, Priority: c.Priority,
		SOPClassUID: c.AffectedSOPClassUID, TransferSyntaxUID: m.pc.TransferSyntax, Identifier: ident, MoveDestination: c.MoveDestination}
	log := a.log.With("op", c.CommandField.String(), "sop_class", c.AffectedSOPClassUID)

	insts, herr := h.Retrieve(opCtx, req)
	if herr != nil {
		if cancelled() {
			final.Status = StatusCancel
		} else {
			final.Status, final.ErrorComment = statusFromError(a, c.CommandField.String(), herr)
		}
		return a.respond(m.pc, final, nil)
	}
	if len(insts) > 0xFFFF {
		final.Status, final.ErrorComment = StatusOutOfResourcesNumMatches, "too many instances"
		return a.respond(m.pc, final, nil)
	}

	var sender subOpSender
	if c.CommandField == CMoveRQ {
		s, st, comment := d.server.openMove(ctx, a, c, insts)
		if st != StatusSuccess {
			final.Status, final.ErrorComment = st, comment
			log.Info("dimse: C-MOVE refused", "destination", c.MoveDestination, "status", fmt.Sprintf("0x%04X", st))
			return a.respond(m.pc, final, nil)
		}
		sender = s
	} else {
		sender = &getSender{a: a}
	}
	defer sender.close()

	total := len(insts)
	var completed, failed, warning int
	var failedUIDs []string
	for i, inst := range insts {
		if cancelled() {
			break
		}
		if ctx.Err() != nil || a.Err() != nil {
			return errors.Join(ctx.Err(), a.Err())
		}
		st, err := sender.send(ctx, inst)
		switch {
		case err != nil:
			log.Warn("dimse: sub-operation failed", "sop_class", inst.SOPClassUID, "err", err)
			failed++
			failedUIDs = append(failedUIDs, inst.SOPInstanceUID)
		case ClassifyStatus(st) == KindSuccess:
			completed++
		case ClassifyStatus(st) == KindWarning:
			warning++
		default:
			failed++
			failedUIDs = append(failedUIDs, inst.SOPInstanceUID)
		}
		if a.Err() != nil {
			return a.Err()
		}
		if i+1 < total && !cancelled() {
			p := NewResponse(c, StatusPending)
			p.SetCounts(uint16(total-i-1), uint16(completed), uint16(failed), uint16(warning))
			if err := a.respond(m.pc, p, nil); err != nil {
				return err
			}
		}
	}
	remaining := total - completed - failed - warning
	switch {
	case cancelled():
		final.Status = StatusCancel
		final.SetCounts(uint16(remaining), uint16(completed), uint16(failed), uint16(warning))
	case failed == 0 && warning == 0:
		final.Status = StatusSuccess
		final.SetCounts(0, uint16(completed), 0, 0)
		final.Remaining = 0
	case completed == 0 && warning == 0:
		final.Status = StatusOutOfResourcesSubOperations
		final.SetCounts(0, 0, uint16(failed), 0)
	default:
		final.Status = StatusSubOperationsWarning
		final.SetCounts(0, uint16(completed), uint16(failed), uint16(warning))
	}
	if final.Status != StatusCancel {
		// Remaining is only sent with Cancel (and pending) responses.
		final.present &^= hasRemaining
	}
	log.Info("dimse: retrieve finished", "instances", total, "completed", completed, "failed", failed, "warning", warning, "status", fmt.Sprintf("0x%04X", final.Status))
	if len(failedUIDs) > 0 {
		return a.respond(m.pc, final, bytesReader(encodeFailedUIDList(failedUIDs, m.pc.TransferSyntax)))
	}
	return a.respond(m.pc, final, nil)
}

// encodeFailedUIDList encodes (0008,0058) Failed SOP Instance UID List in
// ts (implicit or explicit VR little endian, or explicit big endian).
func encodeFailedUIDList(uids []string, ts string) []byte {
	v := strings.Join(uids, `\`)
	for len(v) > 0xFFFE {
		uids = uids[:len(uids)-1]
		v = strings.Join(uids, `\`)
	}
	if len(v)%2 == 1 {
		v += "\x00"
	}
	var b []byte
	switch ts {
	case dcm.ImplicitVRLittleEndian:
		b = binary.LittleEndian.AppendUint16(b, 0x0008)
		b = binary.LittleEndian.AppendUint16(b, 0x0058)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	case dcm.ExplicitVRBigEndian:
		b = binary.BigEndian.AppendUint16(b, 0x0008)
		b = binary.BigEndian.AppendUint16(b, 0x0058)
		b = append(b, 'U', 'I')
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	default:
		b = binary.LittleEndian.AppendUint16(b, 0x0008)
		b = binary.LittleEndian.AppendUint16(b, 0x0058)
		b = append(b, 'U', 'I')
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	}
	return append(b, v...)
}

// sendInstance opens inst and stores it through a.
func sendInstance(ctx context.Context, a *Association, inst Instance, origAE string, origID uint16, asSCP bool) (uint16, error) {
	if inst.Open == nil {
		return 0, errors.New("instance has no Open function")
	}
	rc, err := inst.Open()
	if err != nil {
		return 0, fmt.Errorf("opening instance: %w", err)
	}
	defer rc.Close()
	rsp, err := a.store(ctx, inst.SOPClassUID, inst.SOPInstanceUID, inst.TransferSyntaxUID, rc, origAE, origID, asSCP)
	if err != nil {
		return 0, err
	}
	return rsp.Status, nil
}

// getSender performs C-GET sub-operations on the requesting association.
type getSender struct {
	a *Association
}

func (g *getSender) send(ctx context.Context, inst Instance) (uint16, error) {
	return sendInstance(ctx, g.a, inst, "", 0, true)
}

func (g *getSender) close() {}

// moveSender performs C-MOVE sub-operations on a separate association.
type moveSender struct {
	sub    *Association
	origAE string
	origID uint16
}

func (m *moveSender) send(ctx context.Context, inst Instance) (uint16, error) {
	return sendInstance(ctx, m.sub, inst, m.origAE, m.origID, false)
}

func (m *moveSender) close() {
	ctx, cancel := context.WithTimeout(context.Background(), m.sub.artimDuration())
	defer cancel()
	if err := m.sub.Release(ctx); err != nil {
		m.sub.log.Warn("dimse: releasing C-MOVE sub-association", "err", err)
	}
}

// openMove resolves the move destination and opens the sub-association.
func (s *Server) openMove(ctx context.Context, a *Association, c *Command, insts []Instance) (subOpSender, uint16, string) {
	if s.AEResolver == nil || c.MoveDestination == "" {
		return nil, StatusMoveDestinationUnknown, "move destination unknown"
	}
	dest, err := s.AEResolver.ResolveAE(ctx, c.MoveDestination)
	if err != nil {
		if !errors.Is(err, ErrUnknownAE) {
			a.log.Warn("dimse: resolving move destination", "destination", c.MoveDestination, "err", err)
		}
		return nil, StatusMoveDestinationUnknown, "move destination unknown"
	}
	if len(insts) == 0 {
		return &nopSender{}, StatusSuccess, ""
	}
	// One context per (SOP class, transfer syntax), plus an uncompressed
	// fallback per SOP class when transcoding is possible.
	type key struct{ class, ts string }
	seen := map[key]bool{}
	var props []ContextProposal
	for _, in := range insts {
		k := key{in.SOPClassUID, in.TransferSyntaxUID}
		if !seen[k] && len(props) < 128 {
			seen[k] = true
			props = append(props, ContextProposal{AbstractSyntax: in.SOPClassUID, TransferSyntaxes: []string{in.TransferSyntaxUID}})
		}
		fk := key{in.SOPClassUID, "*"}
		if s.Transcode != nil && !seen[fk] && len(props) < 128 {
			seen[fk] = true
			props = append(props, ContextProposal{AbstractSyntax: in.SOPClassUID, TransferSyntaxes: []string{dcm.ExplicitVRLittleEndian, dcm.ImplicitVRLittleEndian}})
		}
	}
	calling := s.AETitle
	if calling == "" {
		calling = a.info.CalledAE
	}
	sub, err := Dial(ctx, dest.Addr, calling, c.MoveDestination, props, &DialOptions{
		TLSConfig:                 dest.TLSConfig,
		Timeouts:                  s.Timeouts,
		Logger:                    s.logger(),
		Transcode:                 s.Transcode,
		MaxPDULength:              s.MaxPDULength,
		ImplementationClassUID:    s.ImplementationClassUID,
		ImplementationVersionName: s.ImplementationVersionName,
	})
	if err != nil {
		a.log.Warn("dimse: C-MOVE sub-association failed", "destination", c.MoveDestination, "err", err)
		return nil, StatusOutOfResourcesSubOperations, "cannot open association to move destination"
	}
	return &moveSender{sub: sub, origAE: a.info.CallingAE, origID: c.MessageID}, StatusSuccess, ""
}

type nopSender struct{}

func (nopSender) send(context.Context, Instance) (uint16, error) {
	return 0, errors.New("no association")
}
func (nopSender) close() {}
