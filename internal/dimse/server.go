package dimse

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"lightbox/internal/dcm"
	"lightbox/internal/netserve"
	"lightbox/internal/opt"
)

// Default implementation identification sent in A-ASSOCIATE-AC/RQ.
const (
	DefaultImplementationClassUID    = "2.25.183230254819237563538438722154617361340"
	DefaultImplementationVersionName = "LIGHTBOX_DIMSE"
)

// Server is a DICOM application entity acting as association acceptor.
type Server struct {
	Addr      string      // TCP address to listen on, ":104" if empty
	AETitle   string      // our AE title; used as calling AE for C-MOVE sub-operations
	TLSConfig *tls.Config // when set, ListenAndServe uses DICOM TLS
	Handler   *Mux        // SOP class registry; nil = Verification only
	// AcceptPolicy decides on each association. When nil, the called AE
	// title must equal AETitle (if AETitle is set).
	AcceptPolicy AcceptPolicy
	// AEResolver resolves C-MOVE destinations; nil makes every C-MOVE fail
	// with 0xA801.
	AEResolver AEResolver
	// Transcode is used for C-MOVE/C-GET sub-operations when the peer did
	// not accept an instance's transfer syntax. Optional.
	Transcode TranscodeFunc
	// MaxAssociations limits concurrent negotiated associations (0 =
	// unlimited); extra ones are rejected transient, "local limit
	// exceeded". MaxPeerAssociations does the same per remote IP. Sockets
	// that have not sent an A-ASSOCIATE-RQ never count: a stranger's idle
	// connections cannot lock registered AEs out.
	MaxAssociations, MaxPeerAssociations int
	// MaxPending and MaxPeerPending cap connections still waiting for their
	// A-ASSOCIATE-RQ (each for at most the ARTIM timeout), in total and per
	// remote IP; a connection over a cap is closed at once (0 = unlimited).
	MaxPending, MaxPeerPending int
	// MaxPDULength is the maximum P-DATA-TF length we accept (default
	// 256 KiB).
	MaxPDULength uint32
	// MoveAssociations is how many sub-associations a C-MOVE of at least
	// 2×moveLaneMin instances opens to its destination, sharing the
	// instances (default 2; 1 sends all over one). A destination that takes
	// one association at a time (DCMTK storescp, movescu) accepts the next
	// one when the first is released, which then finds no work left.
	MoveAssociations int
	// PendingInterval is the least time between two pending C-MOVE/C-GET
	// responses (default 100 ms; negative: one after every sub-operation).
	PendingInterval           time.Duration
	Timeouts                  Timeouts
	ImplementationClassUID    string
	ImplementationVersionName string
	Logger                    *slog.Logger

	mu        sync.Mutex
	listeners netserve.Listeners
	assocs    map[*Association]struct{}
	active    atomic.Int32
	pending   *netserve.Limit
	limit     *netserve.Limit
	wg        sync.WaitGroup
	shutdown  atomic.Bool
	baseCtx   context.Context
	cancelCtx context.CancelFunc
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("dimse: server closed")

func (s *Server) logger() *slog.Logger { return opt.Logger(s.Logger) }

func (s *Server) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.assocs == nil {
		s.assocs = map[*Association]struct{}{}
		s.pending = &netserve.Limit{Total: s.MaxPending, PerPeer: s.MaxPeerPending}
		s.limit = &netserve.Limit{Total: s.MaxAssociations, PerPeer: s.MaxPeerAssociations}
		s.baseCtx, s.cancelCtx = context.WithCancel(context.Background())
	}
}

// ListenAndServe listens on s.Addr (with TLS when TLSConfig is set) and
// serves associations.
func (s *Server) ListenAndServe() error {
	addr := s.Addr
	if addr == "" {
		addr = ":104"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("dimse: listen %s: %w", addr, err)
	}
	if s.TLSConfig != nil {
		l = tls.NewListener(l, s.TLSConfig)
	}
	return s.Serve(l)
}

// Serve accepts connections on l until it fails or the server is shut
// down. l is closed on return. Serve does not add TLS: pass a
// tls.NewListener for DICOM TLS (ListenAndServe does so from TLSConfig).
func (s *Server) Serve(l net.Listener) error {
	s.init()
	if s.shutdown.Load() || !s.listeners.Add(l) {
		_ = l.Close()
		return ErrServerClosed
	}
	defer s.listeners.Remove(l)
	acc := netserve.Acceptor{Closing: s.shutdown.Load}
	for {
		c, err := acc.Accept(l)
		if err != nil {
			if s.shutdown.Load() {
				return ErrServerClosed
			}
			return fmt.Errorf("dimse: accept: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
		}()
	}
}

// Close closes all listeners and transports immediately.
func (s *Server) Close() error {
	s.init()
	s.shutdown.Store(true)
	s.cancelCtx()
	s.listeners.Close()
	s.mu.Lock()
	for a := range s.assocs {
		_ = a.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Shutdown stops accepting, then waits for the associations in progress to
// finish until ctx expires, after which they are aborted.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.shutdown.Store(true)
	s.listeners.Close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancelCtx()
		return nil
	case <-ctx.Done():
		s.cancelCtx()
		s.mu.Lock()
		for a := range s.assocs {
			go a.abortLocal(AbortSourceServiceUser, AbortReasonNotSpecified, errors.New("server shutdown"))
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// ActiveAssociations returns the number of connections being served
// (negotiated or not).
func (s *Server) ActiveAssociations() int { return int(s.active.Load()) }

func (s *Server) serveConn(c net.Conn) {
	log := s.logger().With("remote", c.RemoteAddr().String())
	peer := netserve.PeerKey(c.RemoteAddr())
	endPending, ok := s.pending.Acquire(peer)
	if !ok {
		log.Warn("dimse: too many connections without an association; closing")
		_ = c.Close()
		return
	}
	defer endPending()
	s.active.Add(1)
	defer s.active.Add(-1)
	defer func() {
		if r := recover(); r != nil {
			log.Error("dimse: panic serving association", "panic", r, "stack", string(debug.Stack()))
			_ = c.Close()
		}
	}()
	to := s.Timeouts.withDefaults(true)
	a := newAssociation(c, false, to, log)
	// A sender with Nagle's algorithm on (DCMTK's storescu unless
	// TCP_NODELAY is in its environment) holds a PDU's tail until the
	// previous segment is acknowledged: each C-STORE would wait out our
	// 40 ms delayed ACK.
	a.quickAck = newQuickAcker(c)
	a.ourMax = s.MaxPDULength
	a.transcode = s.Transcode
	if a.ourMax == 0 {
		a.ourMax = defaultMaxPDULength
	}
	if a.ourMax < minMaxPDULength {
		a.ourMax = minMaxPDULength
	}
	s.mu.Lock()
	s.assocs[a] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.assocs, a)
		s.mu.Unlock()
	}()
	release, ok := s.accept(a, peer)
	endPending()
	if !ok {
		return
	}
	defer release()
	go a.readLoop()
	s.serveRequests(a)
	<-a.closed
}

// accept runs the acceptor side of association establishment. It returns
// true when the association is established, with the release of its slot
// in the association limit.
func (s *Server) accept(a *Association, peer string) (release func(), established bool) {
	release = func() {}
	ok := s.establish(a, peer, &release)
	if !ok {
		release()
	}
	return release, ok
}

func (s *Server) establish(a *Association, peer string, release *func()) bool {
	c := a.conn
	log := a.log
	_, _, _ = a.fsm.step(evt5) // AE-5: start ARTIM
	_ = c.SetReadDeadline(time.Now().Add(a.artimDuration()))
	if tc, ok := c.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(s.baseCtx, a.artimDuration())
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			log.Warn("dimse: TLS handshake failed", "err", err)
			_ = c.Close()
			return false
		}
	}
	p, _, err := ReadPDU(c, a.ourMax, nil)
	if err != nil {
		var perr *ProtocolError
		if errors.As(err, &perr) {
			log.Warn("dimse: invalid first PDU", "err", err)
			_, _, _ = a.fsm.step(evt19) // AA-1
			_ = a.writePDU(&Abort{Source: AbortSourceServiceProvider, Reason: perr.Reason})
			a.drainUntilClose()
			return false
		}
		log.Debug("dimse: connection closed before A-ASSOCIATE-RQ", "err", err)
		_ = c.Close()
		return false
	}
	act, _, _ := a.fsm.step(pduEvent(p))
	rq, ok := p.(*AssociateRQ)
	if !ok || act != ae6 {
		log.Warn("dimse: expected A-ASSOCIATE-RQ", "pdu", p.Type().String())
		if act == aa1 {
			_ = a.writePDU(&Abort{Source: AbortSourceServiceUser})
			a.drainUntilClose()
			return false
		}
		_ = c.Close()
		return false
	}
	info := &AssociationInfo{
		CallingAE:                 rq.CallingAE,
		CalledAE:                  rq.CalledAE,
		RemoteAddr:                c.RemoteAddr(),
		LocalAddr:                 c.LocalAddr(),
		Identity:                  rq.UserInfo.UserIdentity,
		ImplementationClassUID:    rq.UserInfo.ImplementationClassUID,
		ImplementationVersionName: rq.UserInfo.ImplementationVersionName,
	}
	if tc, ok := c.(*tls.Conn); ok {
		st := tc.ConnectionState()
		info.TLS = &st
	}
	a.info = info
	log = log.With("calling_ae", rq.CallingAE, "called_ae", rq.CalledAE)
	a.log = log

	rej := s.decide(info, rq, peer, release)
	if rej == nil {
		ac, pcs := s.negotiate(a, rq)
		if ac == nil {
			rej = RejectNoReason()
		} else {
			act, _, err := a.fsm.step(evt7)
			if err != nil || act != ae7 {
				_ = c.Close()
				return false
			}
			a.setContexts(pcs)
			a.peerMax = rq.UserInfo.MaxPDULength
			if err := a.writePDU(ac); err != nil {
				log.Warn("dimse: sending A-ASSOCIATE-AC failed", "err", err)
				_ = c.Close()
				return false
			}
			accepted := 0
			for _, pc := range ac.PresentationContexts {
				if pc.Result == PCAcceptance {
					accepted++
				}
			}
			log.Info("dimse: association accepted", "contexts_proposed", len(rq.PresentationContexts), "contexts_accepted", accepted, "peer_max_pdu", a.peerMax)
			return true
		}
	}
	log.Info("dimse: association rejected", "result", rej.Result, "source", rej.Source, "reason", rej.Reason, "why", rej.describe())
	if act, _, err := a.fsm.step(evt8); err == nil && act == ae8 {
		_ = a.writePDU(&AssociateRJ{Result: rej.Result, Source: rej.Source, Reason: rej.Reason})
	}
	a.drainUntilClose()
	return false
}

// decide applies the protocol checks, the association limit and the
// accept policy.
func (s *Server) decide(info *AssociationInfo, rq *AssociateRQ, peer string, release *func()) *RejectError {
	if rq.ProtocolVersion&1 == 0 {
		return &RejectError{RejectPermanent, RejectSourceServiceProviderACSE, ReasonProtocolVersionNotSupported}
	}
	if rq.ApplicationContext != ApplicationContextUID {
		return &RejectError{RejectPermanent, RejectSourceServiceUser, ReasonAppContextNotSupported}
	}
	if s.shutdown.Load() {
		return &RejectError{RejectTransient, RejectSourceServiceProviderPres, ReasonTemporaryCongestion}
	}
	r, ok := s.limit.Acquire(peer)
	if !ok {
		return &RejectError{RejectTransient, RejectSourceServiceProviderPres, ReasonLocalLimitExceeded}
	}
	*release = r
	if s.AcceptPolicy == nil {
		if s.AETitle != "" && info.CalledAE != s.AETitle {
			return RejectCalledAE()
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(s.baseCtx, 30*time.Second)
	defer cancel()
	err := s.AcceptPolicy(ctx, info)
	if err == nil {
		return nil
	}
	var rej *RejectError
	if errors.As(err, &rej) {
		return rej
	}
	s.logger().Warn("dimse: accept policy error", "err", err)
	return RejectNoReason()
}

// negotiate builds the A-ASSOCIATE-AC.
func (s *Server) negotiate(a *Association, rq *AssociateRQ) (*AssociateAC, []*PresentationContext) {
	roles := map[string]RoleSelection{}
	for _, r := range rq.UserInfo.RoleSelections {
		roles[r.SOPClassUID] = r
	}
	ac := &AssociateAC{
		ProtocolVersion:    1,
		CalledAE:           rq.CalledAE,
		CallingAE:          rq.CallingAE,
		ApplicationContext: ApplicationContextUID,
	}
	ac.UserInfo.MaxPDULength = a.ourMax
	ac.UserInfo.ImplementationClassUID = cmp.Or(s.ImplementationClassUID, DefaultImplementationClassUID)
	ac.UserInfo.ImplementationVersionName = cmp.Or(s.ImplementationVersionName, DefaultImplementationVersionName)
	if rq.UserInfo.AsyncOps != nil {
		ac.UserInfo.AsyncOps = &AsyncOpsWindow{MaxInvoked: 1, MaxPerformed: 1}
	}
	if id := rq.UserInfo.UserIdentity; id != nil && id.PositiveResponseRequested {
		// Username (and passcode) identities get an empty server response.
		ac.UserInfo.UserIdentityResponse = []byte{}
	}
	var pcs []*PresentationContext
	seen := map[byte]bool{}
	roleAnswered := map[string]bool{}
	hasGet := s.Handler.hasGet()
	for _, p := range rq.PresentationContexts {
		res := PresentationContextAC{ID: p.ID}
		if seen[p.ID] {
			res.Result = PCNoReason
			ac.PresentationContexts = append(ac.PresentationContexts, res)
			continue
		}
		seen[p.ID] = true
		role, hasRole := roles[p.AbstractSyntax]
		reqSCU, reqSCP := true, false
		if hasRole {
			reqSCU, reqSCP = role.SCURole, role.SCPRole
		}
		h := s.Handler.lookup(p.AbstractSyntax)
		_, isStore := h.(StoreHandler)
		storage := isStore || IsStorageSOPClass(p.AbstractSyntax)
		getTarget := reqSCP && hasGet && storage
		var supported bool
		switch {
		case p.AbstractSyntax == VerificationSOPClass:
			supported = true
		case storage:
			supported = isStore || getTarget
		default:
			supported = h != nil
		}
		if !supported {
			res.Result = PCAbstractSyntaxNotSupported
			ac.PresentationContexts = append(ac.PresentationContexts, res)
			continue
		}
		ts := chooseTS(p.TransferSyntaxes, storage)
		if getTarget {
			// We send on this context (C-GET): the receiver lists its
			// preference first, and taking it lets a stored syntax travel
			// unchanged when the receiver asked for it.
			ts = firstSupportedTS(p.TransferSyntaxes)
		}
		if ts == "" {
			res.Result = PCTransferSyntaxesNotSupported
			ac.PresentationContexts = append(ac.PresentationContexts, res)
			continue
		}
		res.Result = PCAcceptance
		res.TransferSyntax = ts
		ac.PresentationContexts = append(ac.PresentationContexts, res)
		pc := &PresentationContext{ID: p.ID, AbstractSyntax: p.AbstractSyntax, TransferSyntax: ts, RequestorSCU: true}
		if hasRole {
			pc.RequestorSCU = reqSCU && (isStore || !storage)
			pc.RequestorSCP = getTarget
			if !roleAnswered[p.AbstractSyntax] {
				roleAnswered[p.AbstractSyntax] = true
				ac.UserInfo.RoleSelections = append(ac.UserInfo.RoleSelections, RoleSelection{SOPClassUID: p.AbstractSyntax, SCURole: pc.RequestorSCU, SCPRole: pc.RequestorSCP})
			}
		}
		pcs = append(pcs, pc)
	}
	return ac, pcs
}

// chooseTS picks the transfer syntax for a proposed context: explicit VR
// little endian, then implicit VR little endian, then (storage only) the
// first other supported syntax as offered (compressed, deflated, big
// endian).
func chooseTS(offered []string, storage bool) string {
	for _, want := range []string{dcm.ExplicitVRLittleEndian, dcm.ImplicitVRLittleEndian} {
		if slices.Contains(offered, want) {
			return want
		}
	}
	if !storage {
		return ""
	}
	for _, ts := range offered {
		if ts == dcm.ExplicitVRBigEndian || slices.Contains(storageExtraTS[:], ts) {
			return ts
		}
	}
	return ""
}

// firstSupportedTS is the first offered syntax Lightbox can send.
func firstSupportedTS(offered []string) string {
	for _, ts := range offered {
		if ts == dcm.ExplicitVRLittleEndian || ts == dcm.ImplicitVRLittleEndian || ts == dcm.ExplicitVRBigEndian || slices.Contains(storageExtraTS[:], ts) {
			return ts
		}
	}
	return ""
}

// serveRequests handles the peer's requests one at a time until the
// association ends.
func (s *Server) serveRequests(a *Association) {
	ctx, cancel := context.WithCancel(s.baseCtx)
	defer cancel()
	go func() {
		select {
		case <-a.ended:
			cancel()
		case <-ctx.Done():
		}
	}()
	d := &dispatcher{mux: s.Handler, server: s}
	for {
		select {
		case m := <-a.requests:
			if !d.handle(ctx, a, m) {
				return
			}
		case <-a.ended:
			return
		}
	}
}

// dispatcher executes one request on an association, for the Server and
// for the SCU side (C-GET stores, unsolicited requests).
type dispatcher struct {
	mux    *Mux
	server *Server // nil on the SCU side
}

// handle runs one request; it returns false when the association is gone.
func (d *dispatcher) handle(ctx context.Context, a *Association, m *message) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("dimse: panic in handler", "command", m.cmd.CommandField.String(), "panic", r, "stack", string(debug.Stack()))
			a.abortLocal(AbortSourceServiceUser, AbortReasonNotSpecified, fmt.Errorf("handler panic: %v", r))
			ok = false
		}
	}()
	c := m.cmd
	start := time.Now()
	var err error
	switch c.CommandField {
	case CEchoRQ:
		_ = m.discard()
		err = a.respond(m.pc, NewResponse(c, StatusSuccess), nil)
	case CStoreRQ:
		err = d.store(ctx, a, m)
	case CFindRQ:
		err = d.find(ctx, a, m)
	case CMoveRQ, CGetRQ:
		err = d.retrieve(ctx, a, m)
	case NCreateRQ, NSetRQ, NActionRQ, NEventReportRQ:
		err = d.normalized(ctx, a, m)
	default:
		_ = m.discard()
		a.log.Warn("dimse: unsupported operation", "command", c.CommandField.String())
		rsp := NewResponse(c, StatusUnrecognizedOperation)
		err = a.respond(m.pc, rsp, nil)
	}
	a.log.Debug("dimse: request handled", "command", c.CommandField.String(), "sop_class", c.AffectedSOPClassUID, "duration", time.Since(start))
	if err != nil {
		if a.Err() == nil {
			a.log.Warn("dimse: request failed", "command", c.CommandField.String(), "err", err)
		}
		return a.Err() == nil
	}
	return true
}

// countingReader counts the bytes read.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (d *dispatcher) storeHandler(a *Association, sopClass string) StoreHandler {
	if !a.requestor {
		if h, ok := d.mux.lookup(sopClass).(StoreHandler); ok {
			return h
		}
		return nil
	}
	if sh := a.getStore.Load(); sh != nil && sh.h != nil {
		return sh.h
	}
	if h, ok := d.mux.lookup(sopClass).(StoreHandler); ok {
		return h
	}
	return nil
}

func (d *dispatcher) store(ctx context.Context, a *Association, m *message) error {
	c := m.cmd
	rsp := NewResponse(c, StatusSuccess)
	if m.data == nil {
		rsp.Status = StatusCannotUnderstand
		rsp.ErrorComment = "C-STORE without data set"
		return a.respond(m.pc, rsp, nil)
	}
	h := d.storeHandler(a, c.AffectedSOPClassUID)
	if c.AffectedSOPClassUID != m.pc.AbstractSyntax || h == nil {
		_ = m.discard()
		rsp.Status = StatusSOPClassNotSupported
		rsp.ErrorComment = "SOP class does not match presentation context"
		if h == nil {
			rsp.ErrorComment = "SOP class not supported"
		}
		return a.respond(m.pc, rsp, nil)
	}
	cr := &countingReader{r: m.data}
	req := &StoreRequest{
		Assoc:                 a.info,
		MessageID:             c.MessageID,
		Priority:              c.Priority,
		SOPClassUID:           c.AffectedSOPClassUID,
		SOPInstanceUID:        c.AffectedSOPInstanceUID,
		TransferSyntaxUID:     m.pc.TransferSyntax,
		MoveOriginatorAETitle: c.MoveOriginatorAETitle,
		Data:                  cr,
	}
	if c.HasMoveOriginator() {
		req.MoveOriginatorMessageID = c.MoveOriginatorMessageID
	}
	status, comment := h.Store(ctx, req)
	if err := m.discard(); err != nil {
		return fmt.Errorf("dimse: receiving C-STORE data set: %w", err)
	}
	rsp.Status, rsp.ErrorComment = status, comment
	a.log.Info("dimse: C-STORE", "sop_class", c.AffectedSOPClassUID, "transfer_syntax", m.pc.TransferSyntax, "bytes", cr.n, "status", fmt.Sprintf("0x%04X", status))
	return a.respond(m.pc, rsp, nil)
}

// maxIdentifierLen bounds C-FIND/C-MOVE/C-GET identifiers and N-* data sets
// held in memory.
const maxIdentifierLen = 16 << 20

func readSmallDataSet(m *message) ([]byte, error) {
	if m.data == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(m.data, maxIdentifierLen+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxIdentifierLen {
		if err := m.discard(); err != nil {
			return nil, err
		}
		return nil, &StatusError{Status: StatusOutOfResources, Comment: "data set too large"}
	}
	return b, nil
}

// readRequestData reads the data set of request m. When that fails and the
// association is still fine, it answers with rsp carrying the status the
// error maps to (op names the operation in the log); done then tells the
// caller to return err.
func readRequestData(a *Association, m *message, rsp *Command, op string) (data []byte, done bool, err error) {
	data, err = readSmallDataSet(m)
	if err == nil {
		return data, false, nil
	}
	if a.Err() != nil {
		return nil, true, err
	}
	rsp.Status, rsp.ErrorComment = statusFromError(a, op, err)
	return nil, true, a.respond(m.pc, rsp, nil)
}

// statusFromError maps a handler error to a DIMSE status and comment.
func statusFromError(a *Association, op string, err error) (uint16, string) {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status, se.Comment
	}
	a.log.Warn("dimse: handler failed", "op", op, "err", err)
	return StatusUnableToProcess, "unable to process"
}

// registerCancel arranges for C-CANCEL of message id to cancel the
// returned context; cancelled reports whether that happened.
func (a *Association) registerCancel(ctx context.Context, id uint16) (context.Context, func() bool, func()) {
	opCtx, cancel := context.WithCancel(ctx)
	var byPeer atomic.Bool
	a.mu.Lock()
	a.cancels[id] = func() { byPeer.Store(true); cancel() }
	a.mu.Unlock()
	return opCtx, byPeer.Load, func() {
		a.mu.Lock()
		delete(a.cancels, id)
		a.mu.Unlock()
		cancel()
	}
}

func (d *dispatcher) find(ctx context.Context, a *Association, m *message) error {
	c := m.cmd
	final := NewResponse(c, StatusSuccess)
	ident, done, err := readRequestData(a, m, final, "C-FIND")
	if done {
		return err
	}
	h, _ := d.mux.lookup(c.AffectedSOPClassUID).(FindHandler)
	if h == nil || c.AffectedSOPClassUID != m.pc.AbstractSyntax || ident == nil {
		final.Status = StatusSOPClassNotSupported
		if ident == nil {
			final.Status = StatusDataSetDoesNotMatchSOPClass
		}
		return a.respond(m.pc, final, nil)
	}
	opCtx, cancelled, release := a.registerCancel(ctx, c.MessageID)
	defer release()
	req := &FindRequest{Assoc: a.info, MessageID: c.MessageID, Priority: c.Priority, SOPClassUID: c.AffectedSOPClassUID, TransferSyntaxUID: m.pc.TransferSyntax, Identifier: ident}
	matches := 0
	var sendErr error
	send := func(identifier []byte) error {
		if sendErr != nil {
			return sendErr
		}
		if cancelled() {
			return errCanceled
		}
		if err := opCtx.Err(); err != nil {
			return err
		}
		st := StatusPending
		if req.OptionalKeysUnsupported {
			st = StatusPendingOptionalKeysUnsup
		}
		rsp := NewResponse(c, st)
		if err := a.respond(m.pc, rsp, bytesReader(identifier)); err != nil {
			sendErr = err
			return err
		}
		matches++
		return nil
	}
	herr := h.Find(opCtx, req, send)
	if a.Err() != nil {
		return a.Err()
	}
	switch {
	case cancelled():
		final.Status = StatusCancel
	case herr != nil && !errors.Is(herr, errCanceled):
		final.Status, final.ErrorComment = statusFromError(a, "C-FIND", herr)
	}
	a.log.Info("dimse: C-FIND", "sop_class", c.AffectedSOPClassUID, "matches", matches, "status", fmt.Sprintf("0x%04X", final.Status))
	return a.respond(m.pc, final, nil)
}

func (d *dispatcher) normalized(ctx context.Context, a *Association, m *message) error {
	c := m.cmd
	rsp := NewResponse(c, StatusSuccess)
	data, done, err := readRequestData(a, m, rsp, c.CommandField.String())
	if done {
		return err
	}
	sopClass := c.AffectedSOPClassUID
	inst := c.AffectedSOPInstanceUID
	if c.CommandField == NSetRQ || c.CommandField == NActionRQ {
		sopClass, inst = c.RequestedSOPClassUID, c.RequestedSOPInstanceUID
	}
	h, _ := d.mux.lookup(sopClass).(NHandler)
	if h == nil || sopClass != m.pc.AbstractSyntax {
		rsp.Status = StatusSOPClassNotSupported
		if h != nil {
			rsp.Status = StatusUnrecognizedOperation
		}
		return a.respond(m.pc, rsp, nil)
	}
	req := &NRequest{Assoc: a.info, Command: c.CommandField, MessageID: c.MessageID, SOPClassUID: sopClass, SOPInstanceUID: inst,
		TransferSyntaxUID: m.pc.TransferSyntax, ActionTypeID: c.ActionTypeID, EventTypeID: c.EventTypeID,
		AttributeIdentifierList: c.AttributeIdentifierList, Data: data}
	res := h.HandleN(ctx, req)
	rsp.Status, rsp.ErrorComment = res.Status, res.ErrorComment
	rsp.AffectedSOPClassUID = sopClass
	rsp.AffectedSOPInstanceUID = inst
	if res.SOPInstanceUID != "" {
		rsp.AffectedSOPInstanceUID = res.SOPInstanceUID
	}
	var body io.Reader
	if res.Data != nil {
		body = bytesReader(res.Data)
	}
	a.log.Info("dimse: "+c.CommandField.String(), "sop_class", sopClass, "status", fmt.Sprintf("0x%04X", res.Status))
	err = a.respond(m.pc, rsp, body)
	if res.After != nil {
		go res.After(a)
	}
	return err
}
