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
	"slices"
	"time"

	"lightbox/internal/dcm"
)

// ContextProposal is one presentation context proposed by Dial.
type ContextProposal struct {
	AbstractSyntax   string
	TransferSyntaxes []string // default: explicit VR LE, implicit VR LE
	// SCPRole proposes SCP/SCU role selection with us (the requestor) as
	// SCP too: needed for the storage contexts of a C-GET.
	SCPRole bool
}

// DialOptions configures Dial. The zero value is usable.
type DialOptions struct {
	TLSConfig    *tls.Config // DICOM TLS when set
	UserIdentity *UserIdentity
	MaxPDULength uint32 // maximum P-DATA-TF length we accept (default 256 KiB)
	Timeouts     Timeouts
	Logger       *slog.Logger
	// Transcode is called by Store when the peer did not accept the data
	// set's transfer syntax for its SOP class. Optional.
	Transcode TranscodeFunc
	// Handler serves requests the peer sends on this association (C-STORE
	// outside Get, N-EVENT-REPORT, ...). C-ECHO is always answered.
	Handler                   *Mux
	ImplementationClassUID    string
	ImplementationVersionName string
	dialer                    *net.Dialer
	// connected is called once the transport is connected, before the
	// A-ASSOCIATE-RQ (and before a TLS handshake).
	connected func()
}

// Dial opens an association to addr as requestor.
func Dial(ctx context.Context, addr, callingAE, calledAE string, contexts []ContextProposal, opts *DialOptions) (*Association, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	if len(contexts) == 0 {
		return nil, errors.New("dimse: Dial: no presentation context proposed")
	}
	if len(contexts) > 128 {
		return nil, errors.New("dimse: Dial: more than 128 presentation contexts")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("remote", addr, "calling_ae", callingAE, "called_ae", calledAE)
	to := opts.Timeouts.withDefaults(false)
	d := opts.dialer
	if d == nil {
		d = &net.Dialer{}
	}
	var conn net.Conn
	var err error
	f := newFSM(true)
	_, _, _ = f.step(evt1) // AE-1: transport connect
	conn, err = d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dimse: dial %s: %w", addr, err)
	}
	quickAck := newQuickAcker(conn) // on the TCP connection, under any TLS
	if opts.connected != nil {
		opts.connected()
	}
	if opts.TLSConfig != nil {
		cfg := opts.TLSConfig
		if cfg.ServerName == "" {
			// As tls.Dialer does.
			cfg = cfg.Clone()
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("dimse: dial %s: %w", addr, err)
		}
		conn = tc
	}
	a := newAssociation(conn, true, to, log)
	a.fsm = f
	a.quickAck = quickAck
	a.ourMax = opts.MaxPDULength
	if a.ourMax == 0 {
		a.ourMax = defaultMaxPDULength
	}
	if a.ourMax < minMaxPDULength {
		a.ourMax = minMaxPDULength
	}
	rq := &AssociateRQ{ProtocolVersion: 1, CalledAE: calledAE, CallingAE: callingAE, ApplicationContext: ApplicationContextUID}
	rq.UserInfo.MaxPDULength = a.ourMax
	rq.UserInfo.ImplementationClassUID = cmp.Or(opts.ImplementationClassUID, DefaultImplementationClassUID)
	rq.UserInfo.ImplementationVersionName = cmp.Or(opts.ImplementationVersionName, DefaultImplementationVersionName)
	rq.UserInfo.UserIdentity = opts.UserIdentity
	roleDone := map[string]bool{}
	for i, c := range contexts {
		ts := c.TransferSyntaxes
		if len(ts) == 0 {
			ts = []string{dcm.ExplicitVRLittleEndian, dcm.ImplicitVRLittleEndian}
		}
		rq.PresentationContexts = append(rq.PresentationContexts, PresentationContextRQ{ID: byte(2*i + 1), AbstractSyntax: c.AbstractSyntax, TransferSyntaxes: ts})
		if c.SCPRole && !roleDone[c.AbstractSyntax] {
			roleDone[c.AbstractSyntax] = true
			rq.UserInfo.RoleSelections = append(rq.UserInfo.RoleSelections, RoleSelection{SOPClassUID: c.AbstractSyntax, SCURole: true, SCPRole: true})
		}
	}
	// Close the connection if ctx ends during establishment.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	_, _, _ = a.fsm.step(evt2) // AE-2
	if err := a.writePDU(rq); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("dimse: sending A-ASSOCIATE-RQ: %w", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(a.artimDuration()))
	p, _, err := ReadPDU(conn, a.ourMax, nil)
	if err != nil {
		var perr *ProtocolError
		if errors.As(err, &perr) {
			_ = a.writePDU(&Abort{Source: AbortSourceServiceProvider, Reason: perr.Reason})
		}
		_ = conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("dimse: awaiting A-ASSOCIATE-AC: %w", err)
	}
	act, _, _ := a.fsm.step(pduEvent(p))
	switch act {
	case ae3:
	case ae4:
		rj := p.(*AssociateRJ)
		_ = conn.Close()
		return nil, &RejectError{Result: rj.Result, Source: rj.Source, Reason: rj.Reason}
	case aa3:
		ab := p.(*Abort)
		_ = conn.Close()
		return nil, &AbortError{Source: ab.Source, Reason: ab.Reason}
	default:
		_ = a.writePDU(&Abort{Source: AbortSourceServiceProvider, Reason: AbortReasonUnexpectedPDU})
		_ = conn.Close()
		return nil, fmt.Errorf("dimse: unexpected %v during association", p.Type())
	}
	ac := p.(*AssociateAC)
	acRoles := map[string]RoleSelection{}
	for _, r := range ac.UserInfo.RoleSelections {
		acRoles[r.SOPClassUID] = r
	}
	var pcs []*PresentationContext
	for _, res := range ac.PresentationContexts {
		if res.Result != PCAcceptance {
			continue
		}
		idx := int(res.ID-1) / 2
		if res.ID%2 == 0 || idx >= len(rq.PresentationContexts) {
			a.abortLocal(AbortSourceServiceProvider, AbortReasonInvalidParameter, nil)
			_ = conn.Close()
			return nil, fmt.Errorf("dimse: A-ASSOCIATE-AC accepts unknown presentation context %d", res.ID)
		}
		prop := rq.PresentationContexts[idx]
		if !slices.Contains(prop.TransferSyntaxes, res.TransferSyntax) {
			_ = a.writePDU(&Abort{Source: AbortSourceServiceProvider, Reason: AbortReasonInvalidParameter})
			_ = conn.Close()
			return nil, fmt.Errorf("dimse: A-ASSOCIATE-AC chose transfer syntax %s not proposed for context %d", res.TransferSyntax, res.ID)
		}
		pc := &PresentationContext{ID: res.ID, AbstractSyntax: prop.AbstractSyntax, TransferSyntax: res.TransferSyntax, RequestorSCU: true}
		if r, ok := acRoles[prop.AbstractSyntax]; ok && roleDone[prop.AbstractSyntax] {
			pc.RequestorSCU, pc.RequestorSCP = r.SCURole, r.SCPRole
		}
		pcs = append(pcs, pc)
	}
	a.setContexts(pcs)
	a.peerMax = ac.UserInfo.MaxPDULength
	a.identityResponse = ac.UserInfo.UserIdentityResponse
	a.info = &AssociationInfo{
		CallingAE:                 callingAE,
		CalledAE:                  calledAE,
		RemoteAddr:                conn.RemoteAddr(),
		LocalAddr:                 conn.LocalAddr(),
		Identity:                  opts.UserIdentity,
		ImplementationClassUID:    ac.UserInfo.ImplementationClassUID,
		ImplementationVersionName: ac.UserInfo.ImplementationVersionName,
	}
	if tc, ok := conn.(*tls.Conn); ok {
		st := tc.ConnectionState()
		a.info.TLS = &st
	}
	if len(pcs) == 0 {
		a.log.Info("dimse: no presentation context accepted")
	}
	go a.readLoop()
	go a.serveIncoming(&dispatcher{mux: opts.Handler})
	a.transcode = opts.Transcode
	a.log.Debug("dimse: association established", "contexts_accepted", len(pcs), "peer_max_pdu", a.peerMax)
	return a, nil
}

func (a *Association) serveIncoming(d *dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-a.ended:
			cancel()
		case <-ctx.Done():
		}
	}()
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

// Release releases the association (A-RELEASE) and waits for the transport
// to close. If ctx ends first the association is aborted.
func (a *Association) Release(ctx context.Context) error {
	a.wmu.Lock()
	act, st, err := a.fsm.step(evt11)
	if err != nil {
		a.wmu.Unlock()
		if e := a.Err(); e != nil && !errors.Is(e, ErrReleased) {
			return e
		}
		return fmt.Errorf("dimse: cannot release in state %v", st)
	}
	if act == ar1 {
		if err := a.writePDU(&ReleaseRQ{}); err != nil {
			a.wmu.Unlock()
			a.failWrite(err)
			return fmt.Errorf("dimse: sending A-RELEASE-RQ: %w", err)
		}
	}
	a.wmu.Unlock()
	a.startARTIM()
	select {
	case <-a.closed:
	case <-ctx.Done():
		_ = a.Abort()
		return ctx.Err()
	}
	if err := a.Err(); err != nil && !errors.Is(err, ErrReleased) {
		return err
	}
	return nil
}

// TransferSyntax returns the transfer syntax accepted for sopClass (the
// first accepted context), for encoding identifiers.
func (a *Association) TransferSyntax(sopClass string) (string, bool) {
	pc := a.contextFor(sopClass, "", false)
	if pc == nil {
		return "", false
	}
	return pc.TransferSyntax, true
}

// NoContextError reports that no presentation context was accepted for the
// requested SOP class / transfer syntax.
type NoContextError struct {
	SOPClassUID       string
	TransferSyntaxUID string
}

func (e *NoContextError) Error() string {
	return withDetail("dimse: no accepted presentation context for SOP class "+e.SOPClassUID, " with transfer syntax ", e.TransferSyntaxUID)
}

// simple runs a request whose only response is final.
func (a *Association) simple(ctx context.Context, pc *PresentationContext, cmd *Command, data io.Reader) (*Command, []byte, error) {
	wait, err := a.start(pc, cmd, data)
	if err != nil {
		return nil, nil, err
	}
	return wait(ctx)
}

// start sends a request whose only response is final and returns the wait
// for that response, so that the caller can prepare its next request while
// the peer works on this one. The wait must be called.
func (a *Association) start(pc *PresentationContext, cmd *Command, data io.Reader) (func(ctx context.Context) (*Command, []byte, error), error) {
	id, ch, err := a.request(pc, cmd, data)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (*Command, []byte, error) {
		defer a.doneRequest(id)
		for {
			m, err := a.await(ctx, ch)
			if err != nil {
				if ctx.Err() != nil {
					// The response would arrive later and confuse the peer's
					// state; abort.
					a.abortLocal(AbortSourceServiceUser, AbortReasonNotSpecified, ctx.Err())
				}
				return nil, nil, err
			}
			body, err := readSmallDataSet(m)
			if err != nil {
				return nil, nil, err
			}
			if IsPending(m.cmd.Status) {
				continue
			}
			return m.cmd, body, nil
		}
	}, nil
}

// Echo sends C-ECHO and returns nil on success status.
func (a *Association) Echo(ctx context.Context) error {
	pc := a.contextFor(VerificationSOPClass, "", false)
	if pc == nil {
		return &NoContextError{SOPClassUID: VerificationSOPClass}
	}
	rsp, _, err := a.simple(ctx, pc, NewCEchoRQ(), nil)
	if err != nil {
		return err
	}
	if rsp.Status != StatusSuccess {
		return &StatusError{Status: rsp.Status, Comment: rsp.ErrorComment}
	}
	return nil
}

// Store sends one C-STORE. ts is the transfer syntax of data. When the peer
// did not accept ts for sopClass, the DialOptions.Transcode function is
// used to convert to an accepted one; without it Store fails with a
// *NoContextError. It returns the response status (warnings and failures
// are not errors); err is set only when no response was obtained.
func (a *Association) Store(ctx context.Context, sopClass, sopInstance, ts string, data io.Reader) (uint16, error) {
	rsp, err := a.store(ctx, sopClass, sopInstance, ts, data, "", 0, false)
	if err != nil {
		return 0, err
	}
	return rsp.Status, nil
}

func (a *Association) store(ctx context.Context, sopClass, sopInstance, ts string, data io.Reader, origAE string, origID uint16, asSCP bool) (*Command, error) {
	wait, err := a.startStore(ctx, sopClass, sopInstance, ts, data, origAE, origID, asSCP)
	if err != nil {
		return nil, err
	}
	rsp, _, err := wait(ctx)
	return rsp, err
}

// startStore sends a C-STORE-RQ (transcoding when the peer did not accept
// ts) and returns the wait for its response.
func (a *Association) startStore(ctx context.Context, sopClass, sopInstance, ts string, data io.Reader, origAE string, origID uint16, asSCP bool) (func(ctx context.Context) (*Command, []byte, error), error) {
	needSCP := asSCP
	pc := a.contextFor(sopClass, ts, needSCP)
	if pc == nil {
		alt := a.contextFor(sopClass, "", needSCP)
		if alt == nil {
			return nil, &NoContextError{SOPClassUID: sopClass}
		}
		if a.transcode == nil {
			return nil, &NoContextError{SOPClassUID: sopClass, TransferSyntaxUID: ts}
		}
		conv, err := a.transcode(ctx, data, ts, alt.TransferSyntax)
		if err != nil {
			return nil, fmt.Errorf("dimse: transcoding %s to %s: %w", ts, alt.TransferSyntax, err)
		}
		pc, data = alt, conv
	}
	cmd := NewCStoreRQ(sopClass, sopInstance, PriorityMedium)
	if origAE != "" {
		cmd.SetMoveOriginator(origAE, origID)
	}
	return a.start(pc, cmd, data)
}

// Find sends a C-FIND with identifier (encoded in the transfer syntax that
// TransferSyntax(sopClass) reports) and calls fn for each pending
// response's identifier. When ctx is cancelled or fn returns an error, a
// C-CANCEL is sent and the remaining responses are drained. It returns the
// final status.
func (a *Association) Find(ctx context.Context, sopClass string, identifier []byte, fn func(identifier []byte) error) (uint16, error) {
	pc := a.contextFor(sopClass, "", false)
	if pc == nil {
		return 0, &NoContextError{SOPClassUID: sopClass}
	}
	rsp, _, err := a.multi(ctx, pc, NewCFindRQ(sopClass, PriorityMedium), identifier, func(m *message) error {
		if m.data == nil {
			return nil
		}
		b, err := readSmallDataSet(m)
		if err != nil {
			return err
		}
		return fn(b)
	})
	if rsp == nil {
		return 0, err
	}
	return rsp.Status, err
}

// multi runs a request with pending responses and C-CANCEL support.
func (a *Association) multi(ctx context.Context, pc *PresentationContext, cmd *Command, identifier []byte, onPending func(*message) error) (*Command, []byte, error) {
	id, ch, err := a.request(pc, cmd, bytesReader(identifier))
	if err != nil {
		return nil, nil, err
	}
	defer a.doneRequest(id)
	var userErr error
	cancelSent := false
	waitCtx := ctx
	var stop context.CancelFunc = func() {}
	defer func() { stop() }()
	sendCancel := func() error {
		cancelSent = true
		stop()
		waitCtx, stop = context.WithTimeout(context.Background(), 2*a.artimDuration())
		return a.sendMessage(pc, NewCCancelRQ(id), nil)
	}
	for {
		m, err := a.await(waitCtx, ch)
		if err != nil {
			if !cancelSent && ctx.Err() != nil {
				if err := sendCancel(); err != nil {
					return nil, nil, err
				}
				continue
			}
			if cancelSent && waitCtx.Err() != nil {
				a.abortLocal(AbortSourceServiceUser, AbortReasonNotSpecified, errors.New("no response to C-CANCEL"))
			}
			return nil, nil, err
		}
		if IsPending(m.cmd.Status) {
			if cancelSent || userErr != nil {
				_ = m.discard()
				continue
			}
			if err := onPending(m); err != nil {
				_ = m.discard()
				userErr = err
				if err := sendCancel(); err != nil {
					return nil, nil, err
				}
				continue
			}
			_ = m.discard()
			continue
		}
		body, err := readSmallDataSet(m)
		if err != nil {
			return nil, nil, err
		}
		if userErr == nil && cancelSent {
			userErr = ctx.Err()
		}
		return m.cmd, body, userErr
	}
}

// RetrieveProgress reports the sub-operation counters of a C-MOVE/C-GET.
type RetrieveProgress struct {
	Status                                uint16
	Remaining, Completed, Failed, Warning uint16
}

// RetrieveResult is the final response of a C-MOVE/C-GET.
type RetrieveResult struct {
	RetrieveProgress
	ErrorComment string
	// Data is the final response's data set (e.g. Failed SOP Instance UID
	// List), encoded in the context's transfer syntax; nil when absent.
	Data []byte
}

func progressOf(c *Command) RetrieveProgress {
	return RetrieveProgress{Status: c.Status, Remaining: c.Remaining, Completed: c.Completed, Failed: c.Failed, Warning: c.Warning}
}

// Move sends a C-MOVE to destination AE title dest. progress (optional) is
// called for each pending response. Cancelling ctx sends C-CANCEL.
func (a *Association) Move(ctx context.Context, sopClass, dest string, identifier []byte, progress func(RetrieveProgress)) (RetrieveResult, error) {
	pc := a.contextFor(sopClass, "", false)
	if pc == nil {
		return RetrieveResult{}, &NoContextError{SOPClassUID: sopClass}
	}
	return a.retrieveRQ(ctx, pc, NewCMoveRQ(sopClass, dest, PriorityMedium), identifier, progress)
}

// Get sends a C-GET; the instances arrive as C-STORE requests on this
// association and are passed to store. The storage SOP classes must have
// been proposed with ContextProposal.SCPRole.
func (a *Association) Get(ctx context.Context, sopClass string, identifier []byte, store StoreHandler, progress func(RetrieveProgress)) (RetrieveResult, error) {
	pc := a.contextFor(sopClass, "", false)
	if pc == nil {
		return RetrieveResult{}, &NoContextError{SOPClassUID: sopClass}
	}
	a.getStore.Store(&storeHolder{h: store})
	defer a.getStore.Store(nil)
	return a.retrieveRQ(ctx, pc, NewCGetRQ(sopClass, PriorityMedium), identifier, progress)
}

func (a *Association) retrieveRQ(ctx context.Context, pc *PresentationContext, cmd *Command, identifier []byte, progress func(RetrieveProgress)) (RetrieveResult, error) {
	rsp, body, err := a.multi(ctx, pc, cmd, identifier, func(m *message) error {
		if progress != nil {
			progress(progressOf(m.cmd))
		}
		return nil
	})
	if rsp == nil {
		return RetrieveResult{}, err
	}
	return RetrieveResult{RetrieveProgress: progressOf(rsp), ErrorComment: rsp.ErrorComment, Data: body}, err
}

// SendN sends a normalized request (N-CREATE, N-SET, N-ACTION,
// N-EVENT-REPORT, built with the New*RQ constructors) with an optional data
// set and returns the response command and data set.
func (a *Association) SendN(ctx context.Context, cmd *Command, data []byte) (*Command, []byte, error) {
	sopClass := cmd.AffectedSOPClassUID
	if sopClass == "" {
		sopClass = cmd.RequestedSOPClassUID
	}
	pc := a.contextFor(sopClass, "", false)
	if pc == nil {
		return nil, nil, &NoContextError{SOPClassUID: sopClass}
	}
	var r io.Reader
	if data != nil {
		r = bytesReader(data)
	}
	return a.simple(ctx, pc, cmd, r)
}
