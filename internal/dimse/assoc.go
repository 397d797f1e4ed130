package dimse

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// RejectResult, RejectSource and RejectReason are the fields of an
// A-ASSOCIATE-RJ PDU (PS3.8 9.3.4).
type (
	RejectResult byte
	RejectSource byte
	RejectReason byte
)

// Reject results.
const (
	RejectPermanent RejectResult = 1
	RejectTransient RejectResult = 2
)

// Reject sources.
const (
	RejectSourceServiceUser         RejectSource = 1
	RejectSourceServiceProviderACSE RejectSource = 2
	RejectSourceServiceProviderPres RejectSource = 3
)

// Reject reasons. The meaning depends on the source.
const (
	// Source 1 (service-user).
	ReasonNoReasonGiven          RejectReason = 1
	ReasonAppContextNotSupported RejectReason = 2
	ReasonCallingAENotRecognized RejectReason = 3
	ReasonCalledAENotRecognized  RejectReason = 7
	// Source 2 (service-provider, ACSE).
	ReasonProtocolVersionNotSupported RejectReason = 2
	// Source 3 (service-provider, presentation).
	ReasonTemporaryCongestion RejectReason = 1
	ReasonLocalLimitExceeded  RejectReason = 2
)

// RejectError is an association rejection: returned by Dial when the peer
// rejects, and returned by an AcceptPolicy to reject.
type RejectError struct {
	Result RejectResult
	Source RejectSource
	Reason RejectReason
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("dimse: association rejected (result %d, source %d, reason %d: %s)", e.Result, e.Source, e.Reason, e.describe())
}

func (e *RejectError) describe() string {
	switch e.Source {
	case RejectSourceServiceUser:
		switch e.Reason {
		case ReasonAppContextNotSupported:
			return "application context name not supported"
		case ReasonCallingAENotRecognized:
			return "calling AE title not recognized"
		case ReasonCalledAENotRecognized:
			return "called AE title not recognized"
		}
		return "no reason given"
	case RejectSourceServiceProviderACSE:
		if e.Reason == ReasonProtocolVersionNotSupported {
			return "protocol version not supported"
		}
		return "no reason given"
	case RejectSourceServiceProviderPres:
		switch e.Reason {
		case ReasonTemporaryCongestion:
			return "temporary congestion"
		case ReasonLocalLimitExceeded:
			return "local limit exceeded"
		}
	}
	return "unknown reason"
}

// Convenience constructors for common rejections.

// RejectCalledAE returns the rejection for an unknown called AE title.
func RejectCalledAE() *RejectError {
	return &RejectError{RejectPermanent, RejectSourceServiceUser, ReasonCalledAENotRecognized}
}

// RejectCallingAE returns the rejection for an unknown calling AE title.
func RejectCallingAE() *RejectError {
	return &RejectError{RejectPermanent, RejectSourceServiceUser, ReasonCallingAENotRecognized}
}

// RejectNoReason returns a permanent rejection without a reason (e.g. bad
// user identity).
func RejectNoReason() *RejectError {
	return &RejectError{RejectPermanent, RejectSourceServiceUser, ReasonNoReasonGiven}
}

// AbortError reports that the association was aborted.
type AbortError struct {
	Local  bool // we sent the A-ABORT
	Source AbortSource
	Reason AbortReason
	Cause  error // local cause, if any
}

func (e *AbortError) Error() string {
	who := "peer"
	if e.Local {
		who = "local"
	}
	s := fmt.Sprintf("dimse: association aborted by %s (source %d, reason %d)", who, e.Source, e.Reason)
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *AbortError) Unwrap() error { return e.Cause }

// ErrReleased is reported once an association has been released normally.
var ErrReleased = errors.New("dimse: association released")

// errCanceled is returned to handlers whose operation was cancelled by C-CANCEL.
var errCanceled = errors.New("dimse: operation cancelled by peer")

// AssociationInfo describes an established association. Handlers receive it
// with every request; an AcceptPolicy may set Principal.
type AssociationInfo struct {
	CallingAE                 string
	CalledAE                  string
	RemoteAddr                net.Addr
	LocalAddr                 net.Addr
	Identity                  *UserIdentity // nil when the requestor sent none
	ImplementationClassUID    string
	ImplementationVersionName string
	TLS                       *tls.ConnectionState // nil on plain TCP
	// Principal is free for the AcceptPolicy to record who the peer is
	// (e.g. the authenticated Lightbox user); dimse never reads it.
	Principal any
}

// PresentationContext is an accepted presentation context.
type PresentationContext struct {
	ID             byte
	AbstractSyntax string
	TransferSyntax string
	// RequestorSCU/RequestorSCP are the negotiated roles of the association
	// requestor for this SOP class (default: SCU only).
	RequestorSCU bool
	RequestorSCP bool
}

// Timeouts configures an association. Zero values select the defaults
// documented on each field; a negative value disables the timeout.
type Timeouts struct {
	// ARTIM bounds the wait for A-ASSOCIATE-RQ/AC and for the peer to close
	// the connection after a release, reject or abort (default 10s).
	ARTIM time.Duration
	// Read bounds the time to receive the rest of a PDU once its header has
	// arrived (default 30s): a peer that stalls mid-PDU is aborted.
	Read time.Duration
	// Idle bounds the time without any PDU while the peer is expected to
	// send (default: 2m for servers, none for clients).
	Idle time.Duration
	// Write bounds the time to send one PDU (default 30s).
	Write time.Duration
}

func (t Timeouts) withDefaults(server bool) Timeouts {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
		if *v < 0 {
			*v = 0
		}
	}
	def(&t.ARTIM, 10*time.Second)
	def(&t.Read, 30*time.Second)
	def(&t.Write, 30*time.Second)
	if server {
		def(&t.Idle, 2*time.Minute)
	} else {
		def(&t.Idle, -1)
	}
	return t
}

// message is one received DIMSE message.
type message struct {
	pc   *PresentationContext
	cmd  *Command
	data *dataPipe // nil when no data set
}

// discard drains and closes the message's data set.
func (m *message) discard() error {
	if m.data == nil {
		return nil
	}
	_, err := io.Copy(io.Discard, m.data)
	return err
}

// Association is an established DICOM association, used by both the
// acceptor (Server) and the requestor (Dial). Its methods are safe for
// concurrent use, but DIMSE operations are performed one at a time
// (asynchronous operations are not negotiated).
type Association struct {
	conn             net.Conn
	br               *bufio.Reader // the reader goroutine's, over conn
	fsm              *fsm
	log              *slog.Logger
	requestor        bool
	info             *AssociationInfo
	contexts         map[byte]*PresentationContext
	ordered          []*PresentationContext
	ourMax           uint32 // maximum P-DATA-TF length we receive
	peerMax          uint32 // maximum P-DATA-TF length the peer receives (0: none)
	to               Timeouts
	identityResponse []byte
	transcode        TranscodeFunc
	quickAck         func() // acknowledges received segments at once (see Dial)
	// wrote is set by every PDU sent: sending a reply is what puts the
	// kernel back into delayed acknowledgements (Linux's "pingpong" mode;
	// TCP_QUICKACK leaves it, and nothing but our sends re-enters it), so
	// only the first PDU read after one needs quickAck, not every PDU of
	// a data set.
	wrote atomic.Bool

	wmu    sync.Mutex // serializes outgoing PDUs and messages
	wbufA  []byte
	wbufB  []byte
	pw     pdvWriter
	nextID atomic.Uint32

	mu      sync.Mutex
	waiters map[uint16]chan *message
	cancels map[uint16]context.CancelFunc
	curPR   *dataPipe // data set being received

	dlMu          sync.Mutex // deadline bookkeeping
	localOwes     int        // peer requests we have not finished answering
	peerOwes      int        // our requests the peer has not finished answering
	headerWaiting bool
	artimAt       time.Time

	requests chan *message
	ended    chan struct{} // association unusable
	closed   chan struct{} // transport closed, reader exited
	endOnce  sync.Once
	endErr   error

	// per-association request handling (client side: C-GET stores)
	getStore atomic.Pointer[storeHolder]
}

type storeHolder struct{ h StoreHandler }

// newQuickAcker is quickAcker, replaced by tests to count the calls.
var newQuickAcker = quickAcker

func newAssociation(conn net.Conn, requestor bool, to Timeouts, log *slog.Logger) *Association {
	a := &Association{
		conn:      conn,
		fsm:       newFSM(requestor),
		log:       log,
		requestor: requestor,
		to:        to,
		contexts:  map[byte]*PresentationContext{},
		waiters:   map[uint16]chan *message{},
		cancels:   map[uint16]context.CancelFunc{},
		requests:  make(chan *message, 1),
		ended:     make(chan struct{}),
		closed:    make(chan struct{}),
	}
	return a
}

// Info returns the association's description.
func (a *Association) Info() *AssociationInfo { return a.info }

// Contexts returns the accepted presentation contexts.
func (a *Association) Contexts() []PresentationContext {
	out := make([]PresentationContext, 0, len(a.ordered))
	for _, pc := range a.ordered {
		out = append(out, *pc)
	}
	return out
}

// UserIdentityResponse returns the server response of user identity
// negotiation (nil when the acceptor sent none).
func (a *Association) UserIdentityResponse() []byte { return a.identityResponse }

// Done is closed when the association can no longer be used.
func (a *Association) Done() <-chan struct{} { return a.ended }

// Err returns why the association ended (ErrReleased after a normal
// release), or nil while it is usable.
func (a *Association) Err() error {
	select {
	case <-a.ended:
		return a.endErr
	default:
		return nil
	}
}

func (a *Association) setContexts(pcs []*PresentationContext) {
	a.ordered = pcs
	for _, pc := range pcs {
		a.contexts[pc.ID] = pc
	}
}

// end marks the association unusable with err. It does not close the
// transport (the reader does, honouring ARTIM).
func (a *Association) end(err error) {
	a.endOnce.Do(func() {
		a.endErr = err
		close(a.ended)
		a.mu.Lock()
		pr := a.curPR
		a.curPR = nil
		a.mu.Unlock()
		if pr != nil {
			pr.closeWrite(err)
		}
	})
}

// startARTIM makes the reader wait at most ARTIM for the peer to close.
func (a *Association) startARTIM() {
	a.dlMu.Lock()
	a.artimAt = time.Now().Add(a.artimDuration())
	_ = a.conn.SetReadDeadline(a.artimAt)
	a.dlMu.Unlock()
}

func (a *Association) artimDuration() time.Duration {
	if a.to.ARTIM <= 0 {
		return 10 * time.Second
	}
	return a.to.ARTIM
}

// writeRaw writes one PDU with the write deadline; callers hold wmu.
func (a *Association) writeRaw(bufs ...[]byte) error {
	if a.to.Write > 0 {
		_ = a.conn.SetWriteDeadline(time.Now().Add(a.to.Write))
	}
	// Before the write, so a reply the peer sends on receiving it finds
	// the flag set, and after, so a header read while it went out does
	// not clear it for good (one quickAck to spare at worst).
	a.wrote.Store(true)
	nb := net.Buffers(bufs)
	_, err := nb.WriteTo(a.conn)
	a.wrote.Store(true)
	return err
}

func (a *Association) writePDU(p PDU) error {
	b, err := EncodePDU(p)
	if err != nil {
		return err
	}
	return a.writeRaw(b)
}

// abortLocal sends an A-ABORT (if the state machine allows it), ends the
// association with an AbortError and lets the reader close the transport.
func (a *Association) abortLocal(source AbortSource, reason AbortReason, cause error) {
	act, _, err := a.fsm.step(evt15)
	a.end(&AbortError{Local: true, Source: source, Reason: reason, Cause: cause})
	if err == nil && act == aa1 {
		if !a.lockWrite() {
			// A message is stuck mid-stream (e.g. on its data source): the
			// A-ABORT cannot be framed, close the transport instead.
			_ = a.conn.Close()
			return
		}
		werr := a.writePDU(&Abort{Source: source, Reason: reason})
		a.wmu.Unlock()
		if werr != nil {
			_ = a.conn.Close()
		}
		a.startARTIM()
		return
	}
	_ = a.conn.Close()
}

// lockWrite acquires wmu, waiting at most the write timeout (or 2s). On
// failure the lock is released in the background once obtained.
func (a *Association) lockWrite() bool {
	if a.wmu.TryLock() {
		return true
	}
	d := a.to.Write
	if d <= 0 {
		d = 2 * time.Second
	}
	locked := make(chan struct{})
	go func() {
		a.wmu.Lock()
		close(locked)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-locked:
		return true
	case <-t.C:
		go func() {
			<-locked
			a.wmu.Unlock()
		}()
		return false
	}
}

// Abort aborts the association (A-ABORT, service-user source) and waits
// for the transport to close.
func (a *Association) Abort() error {
	a.abortLocal(AbortSourceServiceUser, AbortReasonNotSpecified, nil)
	<-a.closed
	return nil
}

// Close closes the transport immediately without any PDU.
func (a *Association) Close() error {
	a.end(&AbortError{Local: true, Cause: net.ErrClosed})
	err := a.conn.Close()
	return err
}

// ---------------------------------------------------------------------------
// Reading

// armHeaderDeadline sets the deadline for the next PDU header.
func (a *Association) armHeaderDeadline() {
	a.dlMu.Lock()
	defer a.dlMu.Unlock()
	a.headerWaiting = true
	a.applyHeaderDeadlineLocked()
}

func (a *Association) applyHeaderDeadlineLocked() {
	if !a.artimAt.IsZero() {
		_ = a.conn.SetReadDeadline(a.artimAt)
		return
	}
	if a.to.Idle <= 0 || (a.localOwes > 0 && a.peerOwes <= 0) {
		_ = a.conn.SetReadDeadline(time.Time{})
		return
	}
	_ = a.conn.SetReadDeadline(time.Now().Add(a.to.Idle))
}

// owe adjusts the outstanding-operation counters that decide whether the
// peer is expected to be silent (no idle timeout) or not.
func (a *Association) owe(local, peer int) {
	a.dlMu.Lock()
	defer a.dlMu.Unlock()
	a.localOwes += local
	a.peerOwes += peer
	if a.headerWaiting {
		a.applyHeaderDeadlineLocked()
	}
}

// pdataStreamed stands for a P-DATA-TF whose header readPDU read: its
// PDVs are read by readPDVs, a data set's bytes straight into their
// consumer's buffer.
var pdataStreamed = &PData{}

// readPDU reads the next PDU; of a P-DATA-TF only the header (it returns
// pdataStreamed and the body's length).
func (a *Association) readPDU(buf []byte) (PDU, uint32, []byte, error) {
	a.armHeaderDeadline()
	var hdr [pduHeaderLen]byte
	var err error
	hdr[0], err = a.br.ReadByte()
	a.dlMu.Lock()
	a.headerWaiting = false
	a.dlMu.Unlock()
	if err != nil {
		return nil, 0, buf, err
	}
	a.renewReadDeadline()
	if _, err := io.ReadFull(a.br, hdr[1:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, 0, buf, err
	}
	if a.quickAck != nil && a.wrote.Swap(false) {
		a.quickAck()
	}
	typ, length, err := checkHeader(hdr, a.ourMax)
	if err != nil {
		return nil, 0, buf, err
	}
	if typ == PDUPData {
		return pdataStreamed, length, buf, nil
	}
	buf, err = a.readBody(buf, int(length))
	if err != nil {
		return nil, 0, buf, err
	}
	p, err := decodeBody(typ, buf[:length])
	return p, length, buf, err
}

// readBody reads the next n bytes into buf, grown to hold them.
func (a *Association) readBody(buf []byte, n int) ([]byte, error) {
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	if _, err := io.ReadFull(a.br, buf[:n]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return buf, err
	}
	return buf[:n], nil
}

// renewReadDeadline bounds the time to receive the rest of a PDU.
func (a *Association) renewReadDeadline() {
	if a.to.Read > 0 {
		_ = a.conn.SetReadDeadline(time.Now().Add(a.to.Read))
	}
}

// skip drops the next n bytes of the connection.
func (a *Association) skip(n int) error {
	if _, err := a.br.Discard(n); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// readPDVs reads the PDVs of a P-DATA-TF whose body is length bytes long,
// checking each as decodePData does (pdvHeader). A command's fragments are read into
// buf; a data set's go straight into the buffer its consumer reads into
// (dataPipe.transfer), after the checks onPDV makes. The error is a read
// or protocol error (the PDU cannot be read further); a PDV that breaks
// the protocol's rules otherwise aborts the association, and the rest of
// the PDU is skipped, as before.
func (a *Association) readPDVs(length uint32, buf *[]byte, cmdBuf *[]byte, cmdPC *byte, cur **inbound) error {
	if length == 0 {
		return protoErr(AbortReasonInvalidParameter, "P-DATA-TF without PDV")
	}
	rem := int(length)
	aborted := false
	var hdr [pdvHeaderLen]byte
	for rem > 0 {
		if rem < pdvHeaderLen {
			return protoErr(AbortReasonInvalidParameter, "truncated PDV header")
		}
		if _, err := io.ReadFull(a.br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		v, size, err := pdvHeader(hdr[:], rem)
		if err != nil {
			return err
		}
		rem -= pdvHeaderLen + size
		id := v.ContextID
		switch in := *cur; {
		case aborted:
			err = a.skip(size)
		case v.Command:
			*buf, err = a.readBody(*buf, size)
			v.Data = *buf
		case in != nil && !in.discard && a.contexts[id] != nil && in.msg.pc.ID == id:
			// onPDV's checks pass: hand the bytes over as they are read.
			var got int
			var gone bool
			got, gone, err = in.pipe.transfer(a.br, size, a.renewReadDeadline)
			if gone {
				in.discard = true
				if err == nil {
					err = a.skip(size - got)
				}
			}
		default:
			err = a.skip(size) // onPDV refuses it, or its consumer is gone
		}
		if err != nil {
			return err
		}
		if aborted {
			continue
		}
		if perr := a.onPDV(v, cmdBuf, cmdPC, cur); perr != nil {
			a.log.Warn("dimse: invalid P-DATA, aborting", "err", perr)
			a.providerAbort(AbortReasonInvalidParameter, perr)
			aborted = true
		}
	}
	return nil
}

type bytesReaderT struct{ b []byte }

func bytesReader(b []byte) *bytesReaderT { return &bytesReaderT{b} }

func (r *bytesReaderT) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// Len reports the unread length, so that sendMessage sizes its buffers to
// small data sets.
func (r *bytesReaderT) Len() int { return len(r.b) }

func pduEvent(p PDU) event {
	switch p.(type) {
	case *AssociateAC:
		return evt3
	case *AssociateRJ:
		return evt4
	case *AssociateRQ:
		return evt6
	case *PData:
		return evt10
	case *ReleaseRQ:
		return evt12
	case *ReleaseRP:
		return evt13
	case *Abort:
		return evt16
	}
	return evt19
}

// inbound tracks the data set being received.
type inbound struct {
	msg     *message
	pipe    *dataPipe
	discard bool // its consumer stopped reading
}

// readBufferSize is the reader goroutine's buffer: PDU and PDV headers
// and command sets are read through it; a data set's PDVs larger than it
// are read past it, straight into their consumer's buffer.
const readBufferSize = 16 << 10

// readLoop runs the association after establishment until the transport is
// closed. It is the only reader of the connection.
func (a *Association) readLoop() {
	defer func() {
		_ = a.conn.Close()
		a.end(io.ErrUnexpectedEOF)
		close(a.closed)
	}()
	var (
		buf    []byte
		cmdBuf []byte
		cmdPC  byte
		cur    *inbound
	)
	defer func() {
		if cur != nil {
			cur.pipe.closeWrite(a.endErrOr(io.ErrUnexpectedEOF))
		}
	}()
	a.br = bufio.NewReaderSize(a.conn, readBufferSize)
	for {
		p, length, nbuf, err := a.readPDU(buf)
		buf = nbuf
		if err != nil {
			a.onReadError(err)
			return
		}
		act, next, ferr := a.fsm.step(pduEvent(p))
		if ferr != nil {
			a.log.Warn("dimse: unexpected PDU", "pdu", p.Type().String(), "err", ferr)
			return
		}
		if p == pdataStreamed && act != dt2 && act != ar6 {
			// Not to be processed: read (and check) it whole, as before.
			if buf, err = a.readBody(buf, int(length)); err == nil {
				p, err = decodePData(buf)
			}
			if err != nil {
				a.onReadError(err)
				return
			}
		}
		switch act {
		case dt2, ar6:
			if err := a.readPDVs(length, &buf, &cmdBuf, &cmdPC, &cur); err != nil {
				a.onReadError(err)
				return
			}
		case ar2: // peer requests release
			a.log.Debug("dimse: release requested by peer")
			a.end(ErrReleased)
			a.wmu.Lock()
			if act2, _, err := a.fsm.step(evt14); err == nil && act2 == ar4 {
				_ = a.writePDU(&ReleaseRP{})
			}
			a.wmu.Unlock()
			a.startARTIM()
		case ar8: // release collision
			if next == sta9 {
				a.wmu.Lock()
				if act2, _, err := a.fsm.step(evt14); err == nil && act2 == ar9 {
					_ = a.writePDU(&ReleaseRP{})
				}
				a.wmu.Unlock()
			}
		case ar3: // release confirmed
			a.end(ErrReleased)
			return
		case ar10:
			a.wmu.Lock()
			if act2, _, err := a.fsm.step(evt14); err == nil && act2 == ar4 {
				_ = a.writePDU(&ReleaseRP{})
			}
			a.wmu.Unlock()
			a.end(ErrReleased)
			a.startARTIM()
		case aa3: // A-ABORT received
			ab := p.(*Abort)
			a.log.Info("dimse: association aborted by peer", "source", ab.Source, "reason", ab.Reason)
			a.end(&AbortError{Source: ab.Source, Reason: ab.Reason})
			return
		case aa2:
			return
		case aa6: // ignore
		case aa7:
			a.wmu.Lock()
			_ = a.writePDU(&Abort{Source: AbortSourceServiceProvider, Reason: AbortReasonUnexpectedPDU})
			a.wmu.Unlock()
		case aa8, aa1:
			a.log.Warn("dimse: unexpected PDU, aborting", "pdu", p.Type().String())
			a.sendAbortAfter(act, AbortReasonUnexpectedPDU, fmt.Errorf("unexpected %v", p.Type()))
		default:
			a.log.Warn("dimse: unhandled action", "action", act.String())
		}
	}
}

func (a *Association) endErrOr(def error) error {
	select {
	case <-a.ended:
		return a.endErr
	default:
		return def
	}
}

// sendAbortAfter sends the A-ABORT of an action already applied to the
// state machine (AA-1/AA-8) and starts ARTIM.
func (a *Association) sendAbortAfter(act action, reason AbortReason, cause error) {
	src := AbortSourceServiceProvider
	if act == aa1 {
		src = AbortSourceServiceUser
		reason = AbortReasonNotSpecified
	}
	a.end(&AbortError{Local: true, Source: src, Reason: reason, Cause: cause})
	a.wmu.Lock()
	_ = a.writePDU(&Abort{Source: src, Reason: reason})
	a.wmu.Unlock()
	a.startARTIM()
}

// providerAbort reports an invalid PDU (Evt19) detected by this side.
func (a *Association) providerAbort(reason AbortReason, cause error) {
	act, _, err := a.fsm.step(evt19)
	if err != nil {
		a.end(&AbortError{Local: true, Source: AbortSourceServiceProvider, Reason: reason, Cause: cause})
		_ = a.conn.Close()
		return
	}
	switch act {
	case aa1, aa8, aa7:
		if act == aa7 {
			a.wmu.Lock()
			_ = a.writePDU(&Abort{Source: AbortSourceServiceProvider, Reason: reason})
			a.wmu.Unlock()
			return
		}
		a.sendAbortAfter(aa8, reason, cause)
	}
}

func (a *Association) onReadError(err error) {
	var perr *ProtocolError
	var nerr net.Error
	switch {
	case errors.As(err, &perr):
		a.log.Warn("dimse: invalid PDU, aborting", "err", err)
		a.providerAbort(perr.Reason, err)
		// Nothing more can be parsed: discard input until the peer closes
		// or ARTIM expires, so that it gets to read the A-ABORT.
		a.drainUntilClose()
		a.forceIdle()
	case errors.As(err, &nerr) && nerr.Timeout():
		st := a.fsm.state()
		if st == sta13 {
			_, _, _ = a.fsm.step(evt18)
			a.forceIdle()
			return
		}
		a.log.Warn("dimse: timeout, aborting association", "state", st.String())
		a.abortLocal(AbortSourceServiceProvider, AbortReasonNotSpecified, fmt.Errorf("read timeout: %w", os.ErrDeadlineExceeded))
		_ = a.conn.Close()
		a.forceIdle()
	default:
		// Transport closed (EOF, reset, or closed locally).
		_, _, _ = a.fsm.step(evt17)
		if a.Err() == nil {
			a.log.Info("dimse: connection closed by peer without release or abort")
		}
		a.end(&AbortError{Source: AbortSourceServiceProvider, Cause: err})
		a.forceIdle()
	}
}

// drainUntilClose discards input until EOF or the ARTIM deadline.
func (a *Association) drainUntilClose() {
	a.startARTIM()
	_, _ = io.Copy(io.Discard, io.LimitReader(a.conn, 64<<20))
	_ = a.conn.Close()
}

// forceIdle moves the state machine to Sta1 after the transport is gone.
func (a *Association) forceIdle() {
	a.fsm.mu.Lock()
	a.fsm.st = sta1
	a.fsm.mu.Unlock()
}

func (a *Association) onPDV(v PDV, cmdBuf *[]byte, cmdPC *byte, cur **inbound) error {
	pc := a.contexts[v.ContextID]
	if pc == nil {
		return fmt.Errorf("PDV on presentation context %d which was not accepted", v.ContextID)
	}
	if v.Command {
		if *cur != nil {
			return errors.New("command fragment while a data set is being received")
		}
		if len(*cmdBuf) > 0 && *cmdPC != v.ContextID {
			return errors.New("command fragments on different presentation contexts")
		}
		if len(*cmdBuf)+len(v.Data) > maxCommandLen {
			return errors.New("command set too large")
		}
		*cmdBuf = append(*cmdBuf, v.Data...)
		*cmdPC = v.ContextID
		if !v.Last {
			return nil
		}
		cmd, err := DecodeCommand(*cmdBuf)
		*cmdBuf = (*cmdBuf)[:0]
		if err != nil {
			return err
		}
		m := &message{pc: pc, cmd: cmd}
		if cmd.HasDataSet() {
			pr := newDataPipe()
			m.data = pr
			*cur = &inbound{msg: m, pipe: pr}
			a.mu.Lock()
			a.curPR = pr
			a.mu.Unlock()
		} else {
			a.complete(m)
		}
		a.dispatch(m)
		return nil
	}
	in := *cur
	if in == nil {
		return errors.New("data set fragment without a command")
	}
	if in.msg.pc.ID != v.ContextID {
		return errors.New("data set fragment on a different presentation context than its command")
	}
	if v.Last {
		in.pipe.closeWrite(io.EOF)
		a.mu.Lock()
		a.curPR = nil
		a.mu.Unlock()
		a.complete(in.msg)
		*cur = nil
	}
	return nil
}

// complete records that message m was completely received.
func (a *Association) complete(m *message) {
	f := m.cmd.CommandField
	switch {
	case f == CCancelRQ:
	case f.IsResponse():
		if !IsPending(m.cmd.Status) {
			a.mu.Lock()
			_, ok := a.waiters[m.cmd.MessageIDBeingRespondedTo]
			a.mu.Unlock()
			if ok {
				a.owe(0, -1)
			}
		}
	default:
		a.owe(1, 0)
	}
}

func (a *Association) dispatch(m *message) {
	c := m.cmd
	switch {
	case c.CommandField == CCancelRQ:
		a.mu.Lock()
		cancel := a.cancels[c.MessageIDBeingRespondedTo]
		a.mu.Unlock()
		if cancel != nil {
			cancel()
		}
		if m.data != nil {
			m.data.CloseWithError(errCanceled)
		}
	case c.CommandField.IsResponse():
		a.mu.Lock()
		ch := a.waiters[c.MessageIDBeingRespondedTo]
		a.mu.Unlock()
		if ch == nil {
			a.log.Warn("dimse: response to unknown message", "command", c.CommandField.String(), "message_id", c.MessageIDBeingRespondedTo)
			if m.data != nil {
				m.data.CloseWithError(errors.New("dimse: unexpected response"))
			}
			return
		}
		select {
		case ch <- m:
		case <-a.ended:
		}
	default:
		select {
		case a.requests <- m:
		case <-a.ended:
		}
	}
}

// ---------------------------------------------------------------------------
// Writing

func (a *Association) maxSendPDV() int {
	limit := a.peerMax
	if limit == 0 || limit > defaultMaxPDULength {
		// Do not send larger PDUs than the default even if allowed.
		if limit == 0 || a.ourMax < limit {
			limit = max(a.ourMax, defaultMaxPDULength)
			if a.peerMax != 0 && a.peerMax < limit {
				limit = a.peerMax
			}
		}
	}
	if limit < 16 {
		limit = 16
	}
	return int(limit) - pdvHeaderLen
}

// sendChunk is how much of a data set one write carries: many P-DATA-TF
// PDUs (one per fragment, each with its own header) leave in one writev,
// so a peer that takes 16 KiB PDUs does not cost a system call per PDU.
const sendChunk = 256 << 10

// pdvWriter frames fragments of one message into P-DATA-TF PDUs of one PDV
// each and writes them in batches; callers hold wmu.
type pdvWriter struct {
	a      *Association
	id     byte
	maxPDV int
	hdrs   []byte
	bufs   net.Buffers
}

// add frames data (already at most a chunk) as PDVs of the command or data
// set; last marks the message's final fragment.
func (w *pdvWriter) add(command, last bool, data []byte) error {
	for off := 0; ; {
		n := min(len(data)-off, w.maxPDV)
		end := off+n == len(data)
		act, st, err := w.a.fsm.step(evt9)
		if err != nil {
			if e := w.a.Err(); e != nil {
				return e
			}
			return fmt.Errorf("dimse: cannot send data in state %v", st)
		}
		if act != dt1 && act != ar7 {
			return fmt.Errorf("dimse: unexpected action %v for P-DATA", act)
		}
		h := len(w.hdrs)
		w.hdrs = append(w.hdrs, byte(PDUPData), 0, 0, 0, 0, 0, 0, 0, 0, 0, w.id, 0)
		hdr := w.hdrs[h:]
		binary.BigEndian.PutUint32(hdr[2:], uint32(n+pdvHeaderLen))
		binary.BigEndian.PutUint32(hdr[6:], uint32(n+2))
		if command {
			hdr[11] |= pdvFlagCommand
		}
		if last && end {
			hdr[11] |= pdvFlagLast
		}
		w.bufs = append(w.bufs, nil, data[off:off+n]) // header slice set in flush: hdrs may move
		off += n
		if end {
			return nil
		}
	}
}

// flush writes the PDUs added so far in one call.
func (w *pdvWriter) flush() error {
	if len(w.bufs) == 0 {
		return nil
	}
	for i := 0; i < len(w.bufs); i += 2 {
		w.bufs[i] = w.hdrs[6*i : 6*i+12]
	}
	err := w.a.writeRaw(w.bufs...)
	w.hdrs, w.bufs = w.hdrs[:0], w.bufs[:0]
	if err != nil {
		return fmt.Errorf("dimse: write P-DATA-TF: %w", err)
	}
	return nil
}

// sendMessage sends a command and its optional data set, fragmenting to the
// peer's maximum PDU length. The data set is read a chunk ahead, so the
// last fragment is known, into two buffers per association: one copy from
// the source, one write per chunk. A failure while streaming the data set
// aborts the association (the peer cannot be told otherwise).
func (a *Association) sendMessage(pc *PresentationContext, cmd *Command, data io.Reader) error {
	if data == nil {
		cmd.CommandDataSetType = NoDataSet
	} else if cmd.CommandDataSetType == NoDataSet {
		cmd.CommandDataSetType = dataSetPresent
	}
	enc, err := cmd.Encode()
	if err != nil {
		return err
	}
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if err := a.Err(); err != nil {
		return err
	}
	w := &a.pw
	w.a, w.id, w.maxPDV = a, pc.ID, a.maxSendPDV()
	fail := func(err error) error {
		w.hdrs, w.bufs = w.hdrs[:0], w.bufs[:0]
		a.failWrite(err)
		return err
	}
	if err := w.add(true, true, enc); err != nil {
		return fail(err)
	}
	// The command leaves before the data set is read: the peer can act on
	// it (and learn of an abort) even if the data source stalls.
	if err := w.flush(); err != nil {
		return fail(err)
	}
	if data == nil {
		return nil
	}
	chunk := max(sendChunk/w.maxPDV, 1) * w.maxPDV
	if l, ok := data.(interface{ Len() int }); ok && l.Len() < chunk {
		chunk = l.Len() + 1 // one more, so that the first read meets the end
	}
	if cap(a.wbufA) < chunk {
		a.wbufA = make([]byte, chunk)
		a.wbufB = make([]byte, chunk)
	}
	cur, nxt := a.wbufA[:chunk], a.wbufB[:chunk]
	n, rerr := io.ReadFull(data, cur)
	for {
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			err := fmt.Errorf("dimse: reading data set: %w", rerr)
			a.wmu.Unlock()
			a.abortLocal(AbortSourceServiceUser, AbortReasonNotSpecified, err)
			a.wmu.Lock()
			return err
		}
		last := rerr != nil // EOF reached: cur holds the final fragment
		var m int
		var rerr2 error
		if !last {
			m, rerr2 = io.ReadFull(data, nxt)
			last = m == 0 && rerr2 == io.EOF
		}
		if err := w.add(false, last, cur[:n]); err != nil {
			return fail(err)
		}
		if err := w.flush(); err != nil {
			return fail(err)
		}
		if last {
			return nil
		}
		cur, nxt = nxt, cur
		n, rerr = m, rerr2
	}
}

// failWrite ends the association after a failed write.
func (a *Association) failWrite(err error) {
	if a.Err() != nil {
		return
	}
	a.log.Warn("dimse: write failed, closing association", "err", err)
	a.end(&AbortError{Local: true, Source: AbortSourceServiceProvider, Cause: err})
	_ = a.conn.Close()
}

// ---------------------------------------------------------------------------
// Requests and responses

func (a *Association) newMessageID() uint16 {
	for {
		id := uint16(a.nextID.Add(1))
		if id != 0 {
			return id
		}
	}
}

// request sends cmd (+data) and returns the channel on which its responses
// arrive. The caller must call done(id) when finished.
func (a *Association) request(pc *PresentationContext, cmd *Command, data io.Reader) (uint16, chan *message, error) {
	id := a.newMessageID()
	cmd.MessageID = id
	ch := make(chan *message, 1)
	a.mu.Lock()
	a.waiters[id] = ch
	a.mu.Unlock()
	if err := a.sendMessage(pc, cmd, data); err != nil {
		a.doneRequest(id)
		return 0, nil, err
	}
	a.owe(0, 1)
	return id, ch, nil
}

func (a *Association) doneRequest(id uint16) {
	a.mu.Lock()
	delete(a.waiters, id)
	a.mu.Unlock()
}

// await waits for the next response on ch.
func (a *Association) await(ctx context.Context, ch chan *message) (*message, error) {
	select {
	case m := <-ch:
		return m, nil
	case <-a.ended:
		// A response may have raced with the end.
		select {
		case m := <-ch:
			return m, nil
		default:
		}
		return nil, a.endErr
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// respond sends a response to a peer request. final responses settle the
// idle-timeout bookkeeping.
func (a *Association) respond(pc *PresentationContext, rsp *Command, data io.Reader) error {
	err := a.sendMessage(pc, rsp, data)
	if !IsPending(rsp.Status) {
		a.owe(-1, 0)
	}
	return err
}

// contextFor returns an accepted context for abstract syntax as, preferring
// transfer syntax ts when non-empty. needSCP requires that the requestor be
// allowed to act as SCP (C-GET sub-operations, acceptor side).
func (a *Association) contextFor(as, ts string, needSCP bool) *PresentationContext {
	var any *PresentationContext
	for _, pc := range a.ordered {
		if pc.AbstractSyntax != as || (needSCP && !pc.RequestorSCP) {
			continue
		}
		if ts == "" || pc.TransferSyntax == ts {
			return pc
		}
		if any == nil {
			any = pc
		}
	}
	if ts == "" {
		return any
	}
	return nil
}
