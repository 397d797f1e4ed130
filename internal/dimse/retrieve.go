package dimse

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"lightbox/internal/dcm"
)

// moveLaneMin is the least number of instances per C-MOVE sub-association
// worth opening another one for.
const moveLaneMin = 8

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

	total := len(insts)
	// Sub-associations still being opened once every instance is accounted
	// for have nothing to take: their dials are abandoned rather than
	// waited for (a destination that never answers would hold the final
	// response for the connect or ARTIM timeout).
	dialCtx, stopDials := context.WithCancel(ctx)
	defer stopDials()
	r := &subOps{insts: insts, total: total, allDone: stopDials, cancelled: cancelled, ctx: ctx, log: log, progressed: make(chan struct{}, 1)}
	pending := func() error {
		completed, failed, warning := r.counts()
		p := NewResponse(c, StatusPending)
		p.SetCounts(uint16(total-completed-failed-warning), uint16(completed), uint16(failed), uint16(warning))
		return a.respond(m.pc, p, nil)
	}
	var wg sync.WaitGroup
	if c.CommandField == CMoveRQ {
		lanes, st, comment := d.server.openMove(ctx, a, c, insts, pending)
		if st != StatusSuccess {
			final.Status, final.ErrorComment = st, comment
			log.Info("dimse: C-MOVE refused", "destination", c.MoveDestination, "status", fmt.Sprintf("0x%04X", st))
			return a.respond(m.pc, final, nil)
		}
		for _, open := range lanes {
			wg.Go(func() {
				l := open(dialCtx)
				if l == nil {
					return
				}
				r.run(l)
				l.release()
			})
		}
	} else {
		wg.Go(func() { r.run(&lane{a: a, asSCP: true}) })
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	// Pending responses are optional (PS3.4 C.4.2.3, C.4.3.3): one per
	// interval tells the requestor how far along the retrieval is without
	// a response per instance.
	every := d.server.PendingInterval
	if every == 0 {
		every = 100 * time.Millisecond
	}
	var last time.Time
	for wait := true; wait; {
		select {
		case <-r.progressed:
			if time.Since(last) < every || cancelled() || a.Err() != nil {
				continue
			}
			if completed, failed, warning := r.counts(); completed+failed+warning == total {
				continue
			}
			last = time.Now()
			if err := pending(); err != nil {
				<-finished
				return err
			}
		case <-finished:
			wait = false
		}
	}
	if ctx.Err() != nil || a.Err() != nil {
		return errors.Join(ctx.Err(), a.Err())
	}
	if !cancelled() {
		// Instances no sub-association could take (each one failed).
		for _, inst := range r.rest() {
			r.done(inst, 0, errors.New("no association to send on"))
		}
	}
	completed, failed, warning := r.counts()
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
	if len(r.failedUIDs) > 0 {
		return a.respond(m.pc, final, bytesReader(encodeFailedUIDList(r.failedUIDs, m.pc.TransferSyntax)))
	}
	return a.respond(m.pc, final, nil)
}

// subOps hands the instances of one C-MOVE/C-GET to its lanes and counts
// the outcomes.
type subOps struct {
	ctx        context.Context
	log        *slog.Logger
	cancelled  func() bool
	progressed chan struct{} // a sub-operation finished

	total   int    // instances of the retrieval
	allDone func() // called once all total are done (each once or more)

	mu                         sync.Mutex
	insts                      []Instance // not yet taken
	completed, failed, warning int
	failedUIDs                 []string
}

// next takes the next instance unless the retrieval is cancelled or over.
func (r *subOps) next() (Instance, bool) {
	if r.cancelled() || r.ctx.Err() != nil {
		return Instance{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.insts) == 0 {
		return Instance{}, false
	}
	in := r.insts[0]
	r.insts = r.insts[1:]
	return in, true
}

// giveBack returns an instance a lane took but could not send.
func (r *subOps) giveBack(in Instance) {
	r.mu.Lock()
	r.insts = append([]Instance{in}, r.insts...)
	r.mu.Unlock()
}

func (r *subOps) rest() []Instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	rest := r.insts
	r.insts = nil
	return rest
}

func (r *subOps) counts() (completed, failed, warning int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.completed, r.failed, r.warning
}

// done records the outcome of one sub-operation.
func (r *subOps) done(inst Instance, st uint16, err error) {
	r.mu.Lock()
	switch {
	case err != nil:
		r.log.Warn("dimse: sub-operation failed", "sop_class", inst.SOPClassUID, "err", err)
		r.failed++
		r.failedUIDs = append(r.failedUIDs, inst.SOPInstanceUID)
	case ClassifyStatus(st) == KindSuccess:
		r.completed++
	case ClassifyStatus(st) == KindWarning:
		r.warning++
	default:
		r.failed++
		r.failedUIDs = append(r.failedUIDs, inst.SOPInstanceUID)
	}
	all := r.completed+r.failed+r.warning == r.total
	r.mu.Unlock()
	if all && r.allDone != nil {
		r.allDone()
	}
	select {
	case r.progressed <- struct{}{}:
	default:
	}
}

// lane performs C-STORE sub-operations over one association: the
// requesting one for C-GET, a sub-association for C-MOVE.
type lane struct {
	a      *Association
	origAE string
	origID uint16
	asSCP  bool
}

// opened is an instance whose data set is open, ready to send.
type opened struct {
	inst Instance
	rc   io.ReadCloser
	err  error
}

func openInstance(inst Instance) opened {
	if inst.Open == nil {
		return opened{inst: inst, err: errors.New("instance has no Open function")}
	}
	rc, err := inst.Open()
	if err != nil {
		return opened{inst: inst, err: fmt.Errorf("opening instance: %w", err)}
	}
	return opened{inst: inst, rc: rc}
}

// run sends instances until none is left or the association fails. The
// next instance is opened while the peer works on the current one.
func (r *subOps) run(l *lane) {
	in, ok := r.next()
	if !ok {
		return
	}
	cur := openInstance(in)
	for {
		if r.cancelled() {
			// Taken before the C-CANCEL: it counts as remaining.
			if cur.rc != nil {
				cur.rc.Close()
			}
			r.giveBack(cur.inst)
			return
		}
		var wait func(context.Context) (*Command, []byte, error)
		err := cur.err
		if err == nil {
			wait, err = l.a.startStore(r.ctx, cur.inst.SOPClassUID, cur.inst.SOPInstanceUID, cur.inst.TransferSyntaxUID, cur.rc, l.origAE, l.origID, l.asSCP)
			cur.rc.Close()
		}
		in, ok := r.next()
		var nxt opened
		if ok {
			nxt = openInstance(in)
		}
		var st uint16
		if wait != nil {
			var rsp *Command
			if rsp, _, err = wait(r.ctx); err == nil {
				st = rsp.Status
			}
		}
		r.done(cur.inst, st, err)
		if ok && l.a.Err() != nil {
			// Another lane (if any) sends it; else it fails with the rest.
			if nxt.rc != nil {
				nxt.rc.Close()
			}
			r.giveBack(in)
		}
		if !ok || l.a.Err() != nil {
			return
		}
		cur = nxt
	}
}

// release ends a C-MOVE sub-association.
func (l *lane) release() {
	ctx, cancel := context.WithTimeout(context.Background(), l.a.artimDuration())
	defer cancel()
	if err := l.a.Release(ctx); err != nil {
		l.a.log.Warn("dimse: releasing C-MOVE sub-association", "err", err)
	}
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

// openMove resolves the move destination and opens the first
// sub-association; it returns one opener per lane (the first already open,
// the others dialled with the context given when the lane starts:
// Server.MoveAssociations).
// pending sends a pending response on the requesting association.
func (s *Server) openMove(ctx context.Context, a *Association, c *Command, insts []Instance, pending func() error) ([]func(context.Context) *lane, uint16, string) {
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
		return nil, StatusSuccess, ""
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
	opts := DialOptions{
		TLSConfig:                 dest.TLSConfig,
		Timeouts:                  s.Timeouts,
		Logger:                    s.logger(),
		Transcode:                 s.Transcode,
		MaxPDULength:              s.MaxPDULength,
		ImplementationClassUID:    s.ImplementationClassUID,
		ImplementationVersionName: s.ImplementationVersionName,
		connected: func() {
			// A requestor that is its own move destination may look for
			// an incoming association only between reads of its C-MOVE
			// association (DCMTK movescu polls once a second): a pending
			// response now lets it accept at once. A failure shows later.
			_ = pending()
		},
	}
	sub, err := Dial(ctx, dest.Addr, calling, c.MoveDestination, props, &opts)
	if err != nil {
		a.log.Warn("dimse: C-MOVE sub-association failed", "destination", c.MoveDestination, "err", err)
		return nil, StatusOutOfResourcesSubOperations, "cannot open association to move destination"
	}
	newLane := func(sub *Association) *lane {
		return &lane{a: sub, origAE: a.info.CallingAE, origID: c.MessageID}
	}
	l := newLane(sub)
	lanes := []func(context.Context) *lane{func(context.Context) *lane { return l }}
	n := cmp.Or(s.MoveAssociations, 2)
	for i := 1; i < n && len(insts) >= (i+1)*moveLaneMin; i++ {
		lanes = append(lanes, func(dctx context.Context) *lane {
			sub, err := Dial(dctx, dest.Addr, calling, c.MoveDestination, props, &opts)
			if err != nil {
				// The lanes open already take its share (or have sent all).
				if dctx.Err() == nil {
					a.log.Info("dimse: extra C-MOVE sub-association not opened", "destination", c.MoveDestination, "err", err)
				}
				return nil
			}
			return newLane(sub)
		})
	}
	return lanes, StatusSuccess, ""
}
