package hl7

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"lightbox/internal/netserve"
	"lightbox/internal/opt"
)

// MLLP framing bytes: <VT> message <FS><CR>.
const (
	StartBlock byte = 0x0B
	EndBlock   byte = 0x1C
	EndCR      byte = 0x0D
)

// DefaultMaxMessageSize bounds one MLLP frame unless configured otherwise.
const DefaultMaxMessageSize = 16 << 20

// oversizeHead is how much of an oversize frame is kept to answer it.
const oversizeHead = 4 << 10

// ErrFrameTooLarge is returned by [FrameReader.ReadFrame] for a frame longer
// than the configured maximum, after the rest of the frame was read and
// discarded (so the stream stays in step); ReadFrame then returns the
// frame's first bytes, enough to salvage its MSH for a negative ack.
var ErrFrameTooLarge = errors.New("hl7: MLLP frame exceeds maximum message size")

// ErrServerClosed is returned by [Server.Serve] after Shutdown or Close.
var ErrServerClosed = errors.New("hl7: MLLP server closed")

// ErrAckMismatch is returned by [Client.Send] when the acknowledgement's
// MSA-2 is not the control ID of the message sent.
var ErrAckMismatch = errors.New("hl7: acknowledgement does not match the message sent")

// AppendFrame appends msg wrapped in MLLP framing to dst.
func AppendFrame(dst, msg []byte) []byte {
	dst = append(dst, StartBlock)
	dst = append(dst, msg...)
	return append(dst, EndBlock, EndCR)
}

// WriteFrame writes msg wrapped in MLLP framing with a single Write.
func WriteFrame(w io.Writer, msg []byte) error {
	_, err := w.Write(AppendFrame(make([]byte, 0, len(msg)+3), msg))
	return err
}

// FrameReader reads MLLP frames from a stream. Bytes outside frames are
// discarded (CR, LF, space and tab silently; anything else is counted in
// [FrameReader.Skipped]). A start byte inside a frame restarts the frame (the
// partial one counts as skipped). <FS> without the following <CR> is
// accepted.
type FrameReader struct {
	r       *bufio.Reader
	max     int
	skipped int

	// OnFrameStart, if set, is called when a start byte has been read,
	// e.g. to switch from an idle to a read deadline.
	OnFrameStart func()
}

// NewFrameReader returns a FrameReader; max <= 0 means DefaultMaxMessageSize.
func NewFrameReader(r io.Reader, max int) *FrameReader {
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	return &FrameReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Skipped returns how many junk bytes were discarded by the last ReadFrame.
func (fr *FrameReader) Skipped() int { return fr.skipped }

// ReadFrame returns the next frame's content (without framing bytes). It
// returns io.EOF at a clean end of stream, io.ErrUnexpectedEOF when the
// stream ends inside a frame, and ErrFrameTooLarge.
func (fr *FrameReader) ReadFrame() ([]byte, error) {
	fr.skipped = 0
	for {
		b, err := fr.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == StartBlock {
			break
		}
		if b != '\r' && b != '\n' && b != ' ' && b != '\t' {
			fr.skipped++
		}
	}
	if fr.OnFrameStart != nil {
		fr.OnFrameStart()
	}
	var buf []byte
	tooLarge := false
	for {
		chunk, err := fr.r.ReadSlice(EndBlock)
		if i := bytes.LastIndexByte(chunk, StartBlock); i >= 0 && !tooLarge {
			fr.skipped += len(buf) + i + 1
			buf = buf[:0]
			chunk = chunk[i+1:]
		}
		if !tooLarge && len(buf)+len(chunk) > fr.max+1 {
			// Keep the head for the NAK, discard the rest up to the end block.
			tooLarge = true
			buf = bytes.TrimSuffix(append(buf, chunk...), []byte{EndBlock})
			buf = buf[:min(len(buf), oversizeHead)]
		}
		if !tooLarge {
			buf = append(buf, chunk...)
		}
		switch {
		case err == nil:
			if !tooLarge {
				buf = buf[:len(buf)-1]
			}
			if fr.r.Buffered() > 0 {
				if next, _ := fr.r.Peek(1); len(next) == 1 && next[0] == EndCR {
					_, _ = fr.r.ReadByte()
				}
			}
			if tooLarge {
				return buf, ErrFrameTooLarge
			}
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// Request is one inbound message handed to a [Handler].
type Request struct {
	Message    *Message
	Raw        []byte // the frame content as received
	RemoteAddr net.Addr
	TLS        *tls.ConnectionState // nil for plain TCP
}

// Handler processes an inbound message and returns the encoded
// acknowledgement to send back (usually NewACK(...).Bytes()). Returning nil
// makes the server answer AR with error 207. ServeHL7 is called
// concurrently for different connections, sequentially within one.
type Handler interface {
	ServeHL7(ctx context.Context, req *Request) []byte
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(ctx context.Context, req *Request) []byte

// ServeHL7 calls f.
func (f HandlerFunc) ServeHL7(ctx context.Context, req *Request) []byte { return f(ctx, req) }

// Server is an MLLP listener. Messages on one connection are handled in
// order, one at a time (MLLP is synchronous); connections are served
// concurrently. Frames that fail to parse are answered without calling the
// Handler: with an AR acknowledgement carrying an ERR when an MSH could be
// salvaged, otherwise with a minimal AR NAK (empty MSA-2).
type Server struct {
	Addr           string // for ListenAndServe, e.g. ":2575"
	Handler        Handler
	TLSConfig      *tls.Config   // optional: serve MLLP over TLS
	MaxMessageSize int           // default DefaultMaxMessageSize; bigger frames are answered AR unread
	ReadTimeout    time.Duration // to receive a whole frame once it started; default 60s
	IdleTimeout    time.Duration // to wait for the next frame; default 5m
	// FirstFrameTimeout, when set, replaces IdleTimeout for a connection's
	// first frame (like DICOM's ARTIM): a socket that never speaks is
	// dropped quickly.
	FirstFrameTimeout time.Duration
	WriteTimeout      time.Duration // to write an ack; default 30s
	HandlerTimeout    time.Duration // deadline of the handler's context; 0 = none
	// OnReject, when set, is called with every frame refused before reaching
	// the Handler (it did not parse), so it can be kept (dead letter). msg is
	// the salvaged message or nil.
	OnReject func(ctx context.Context, raw []byte, remote string, msg *Message, ack AckCode, e *Error) error
	Logger   *slog.Logger // default: discard

	mu        sync.Mutex
	listeners netserve.Listeners
	conns     map[*srvConn]struct{}
	closing   atomic.Bool
	ctx       context.Context
	cancel    context.CancelFunc
	connWG    sync.WaitGroup
}

type srvConn struct {
	nc     net.Conn
	active atomic.Bool
}

func (s *Server) logger() *slog.Logger { return opt.Logger(s.Logger) }

func (s *Server) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = map[*srvConn]struct{}{}
		s.ctx, s.cancel = context.WithCancel(context.Background())
	}
}

// ListenAndServe listens on s.Addr and serves until Shutdown or Close.
func (s *Server) ListenAndServe() error {
	if s.closing.Load() {
		return ErrServerClosed
	}
	l, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("hl7: mllp listen %s: %w", s.Addr, err)
	}
	return s.Serve(l)
}

// Serve accepts connections on l (wrapped in TLS when TLSConfig is set)
// until Shutdown or Close; it then returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	if s.Handler == nil {
		return errors.New("hl7: mllp server without handler")
	}
	if s.TLSConfig != nil {
		l = tls.NewListener(l, s.TLSConfig)
	}
	if s.closing.Load() || !s.listeners.Add(l) {
		_ = l.Close()
		return ErrServerClosed
	}
	defer s.listeners.Remove(l)
	log := s.logger()
	log.Info("mllp listening", "addr", l.Addr().String(), "tls", s.TLSConfig != nil)
	acc := netserve.Acceptor{Closing: s.closing.Load, OnRetry: func(err error, delay time.Duration) {
		log.Warn("mllp accept error; retrying", "err", err, "delay", delay)
	}}
	for {
		nc, err := acc.Accept(l)
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			return fmt.Errorf("hl7: mllp accept: %w", err)
		}
		c := &srvConn{nc: nc}
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			_ = nc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.connWG.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *Server) serveConn(c *srvConn) {
	defer func() {
		_ = c.nc.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.connWG.Done()
	}()
	log := s.logger().With("remote", c.nc.RemoteAddr().String())
	log.Debug("mllp connection opened")
	readTimeout := opt.Dur(s.ReadTimeout, 60*time.Second)
	fr := NewFrameReader(c.nc, s.MaxMessageSize)
	fr.OnFrameStart = func() {
		c.active.Store(true)
		_ = c.nc.SetReadDeadline(time.Now().Add(readTimeout))
	}
	wait := opt.Dur(s.FirstFrameTimeout, opt.Dur(s.IdleTimeout, 5*time.Minute))
	for {
		c.active.Store(false)
		if s.closing.Load() {
			return
		}
		_ = c.nc.SetReadDeadline(time.Now().Add(wait))
		wait = opt.Dur(s.IdleTimeout, 5*time.Minute)
		frame, err := fr.ReadFrame()
		if n := fr.Skipped(); n > 0 {
			log.Warn("mllp: discarded bytes outside frames", "bytes", n)
		}
		var ack []byte
		switch {
		case errors.Is(err, ErrFrameTooLarge):
			log.Warn("mllp: frame too large; answering AR", "max_bytes", fr.max)
			ack = s.refuseOversize(c, frame, fr.max, log)
		case err != nil:
			var ne net.Error
			switch {
			case errors.Is(err, io.EOF):
				log.Debug("mllp connection closed by peer")
			case errors.As(err, &ne) && ne.Timeout():
				if c.active.Load() {
					log.Warn("mllp: timeout inside a frame; closing connection")
				} else {
					log.Info("mllp: idle timeout; closing connection")
				}
			case s.closing.Load():
			default:
				log.Warn("mllp: read error; closing connection", "err", err)
			}
			return
		default:
			ack = s.handle(c, frame, log)
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(opt.Dur(s.WriteTimeout, 30*time.Second)))
		if err := WriteFrame(c.nc, ack); err != nil {
			log.Warn("mllp: writing acknowledgement failed", "err", err)
			return
		}
	}
}

func (s *Server) handle(c *srvConn, frame []byte, log *slog.Logger) []byte {
	msg, perr := Parse(frame)
	if perr != nil {
		he := AsError(perr)
		attrs := []any{"bytes", len(frame), "error_code", int(he.Code), "location", he.Location(), "reason", he.Message}
		if msg != nil {
			attrs = append(attrs, "control_id", msg.ControlID(), "type", msg.Type().String())
		}
		log.Warn("mllp: rejecting unparseable message", attrs...)
		if s.OnReject != nil {
			// Keep what was refused for a coordinator: nothing is dropped silently.
			if err := s.OnReject(s.ctx, frame, c.nc.RemoteAddr().String(), msg, AckAR, he); err != nil {
				log.Error("mllp: recording rejected message", "err", err)
			}
		}
		return NewACK(msg, AckAR, AckOptions{}, he).Bytes()
	}
	log = log.With("control_id", msg.ControlID(), "type", msg.Type().String())
	log.Info("mllp: message received", "bytes", len(frame))
	req := &Request{Message: msg, Raw: frame, RemoteAddr: c.nc.RemoteAddr()}
	if tc, ok := c.nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		req.TLS = &st
	}
	ctx := s.ctx
	if s.HandlerTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.HandlerTimeout)
		defer cancel()
	}
	ack := s.callHandler(ctx, req, log)
	if len(ack) == 0 {
		log.Error("mllp: handler returned no acknowledgement")
		return NewACK(msg, AckAR, AckOptions{}, &Error{Code: CodeInternalError, Message: "no acknowledgement produced"}).Bytes()
	}
	if am, err := Parse(ack); err == nil {
		log.Info("mllp: acknowledgement sent", "ack_code", am.Get("MSA-1"), "error_code", am.Get("ERR-3-1")+am.Get("ERR-1-4-1"))
	} else {
		log.Warn("mllp: handler returned an acknowledgement that does not parse", "bytes", len(ack))
	}
	return ack
}

// refuseOversize answers a frame over the size limit with AR (error 207,
// its MSH salvaged from the head when it parses) and keeps the head as a
// dead letter; the handler never sees it.
func (s *Server) refuseOversize(c *srvConn, head []byte, max int, log *slog.Logger) []byte {
	var msg *Message
	if i := bytes.IndexByte(head, '\r'); i > 0 {
		msg, _ = Parse(head[:i+1])
	}
	e := &Error{Code: CodeInternalError, Message: fmt.Sprintf("message exceeds the %d-byte limit", max)}
	if s.OnReject != nil {
		if err := s.OnReject(s.ctx, head, c.nc.RemoteAddr().String(), msg, AckAR, e); err != nil {
			log.Error("mllp: recording rejected message", "err", err)
		}
	}
	return NewACK(msg, AckAR, AckOptions{}, e).Bytes()
}

func (s *Server) callHandler(ctx context.Context, req *Request, log *slog.Logger) (ack []byte) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("mllp: handler panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			ack = NewACK(req.Message, AckAR, AckOptions{}, &Error{Code: CodeInternalError, Message: "internal error"}).Bytes()
		}
	}()
	return s.Handler.ServeHL7(ctx, req)
}

// Shutdown stops accepting connections, closes idle ones, and waits for
// messages being received or handled to be acknowledged before closing
// their connections. If ctx ends first, the remaining connections are
// closed, handler contexts cancelled, and ctx's error returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.closing.Store(true)
	s.listeners.Close()
	done := make(chan struct{})
	go func() {
		s.connWG.Wait()
		close(done)
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.closeConns(true)
		select {
		case <-done:
			s.cancel()
			return nil
		case <-ctx.Done():
			s.cancel()
			s.closeConns(false)
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes listeners and all connections at once and cancels handler
// contexts.
func (s *Server) Close() error {
	s.init()
	s.closing.Store(true)
	s.listeners.Close()
	s.cancel()
	s.closeConns(false)
	return nil
}

func (s *Server) closeConns(idleOnly bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if !idleOnly || !c.active.Load() {
			_ = c.nc.Close()
		}
	}
}

// Client sends messages over one MLLP connection and waits for each
// acknowledgement. It dials lazily and redials after a broken connection.
// Send is safe for concurrent use; sends are serialised.
//
// If a reused connection turns out to be dead (write fails, or it is closed
// before any acknowledgement byte arrives), Send redials and sends once
// more. The receiver may therefore see a message twice; HL7 receivers are
// expected to detect duplicates by control ID.
type Client struct {
	Addr           string
	TLSConfig      *tls.Config   // optional
	DialTimeout    time.Duration // default 10s
	AckTimeout     time.Duration // default 60s (an earlier ctx deadline wins)
	MaxMessageSize int           // bound for acks; default DefaultMaxMessageSize
	Logger         *slog.Logger  // default: discard

	mu   sync.Mutex
	conn net.Conn
	fr   *FrameReader
}

// Dial returns a connected Client (see [Client] for the fields' defaults).
func Dial(ctx context.Context, addr string, tlsConfig *tls.Config) (*Client, error) {
	c := &Client{Addr: addr, TLSConfig: tlsConfig}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.dialLocked(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) logger() *slog.Logger {
	return opt.Logger(c.Logger)
}

func (c *Client) dialLocked(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, opt.Dur(c.DialTimeout, 10*time.Second))
	defer cancel()
	var nc net.Conn
	var err error
	if c.TLSConfig != nil {
		d := tls.Dialer{Config: c.TLSConfig}
		nc, err = d.DialContext(ctx, "tcp", c.Addr)
	} else {
		var d net.Dialer
		nc, err = d.DialContext(ctx, "tcp", c.Addr)
	}
	if err != nil {
		return fmt.Errorf("hl7: mllp dial %s: %w", c.Addr, err)
	}
	c.conn = nc
	c.fr = NewFrameReader(nc, c.MaxMessageSize)
	c.logger().Debug("mllp client connected", "remote", c.Addr)
	return nil
}

// Close closes the connection, if any. The Client can still be used: the
// next Send redials.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeLocked()
}

func (c *Client) closeLocked() error {
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn, c.fr = nil, nil
	return err
}

// SendMessage is Send(ctx, m.Bytes()).
func (c *Client) SendMessage(ctx context.Context, m *Message) (*Message, error) {
	return c.Send(ctx, m.Bytes())
}

// Send frames and writes msg, then waits for the acknowledgement and
// returns it parsed. The error is non-nil for transport failures and
// timeouts, for an ack that does not parse, and for an ack whose MSA-2 does
// not match msg's MSH-10 (ErrAckMismatch); in those cases the connection is
// closed. An AE/AR ack is not an error here: check it with [ReadAck].
func (c *Client) Send(ctx context.Context, msg []byte) (*Message, error) {
	controlID := controlIDOf(msg)
	c.mu.Lock()
	defer c.mu.Unlock()
	log := c.logger().With("remote", c.Addr, "control_id", controlID)
	for attempt := 0; ; attempt++ {
		fresh := false
		if c.conn == nil {
			if err := c.dialLocked(ctx); err != nil {
				return nil, err
			}
			fresh = true
		}
		ack, retry, err := c.roundTrip(ctx, msg)
		if err == nil {
			am, perr := Parse(ack)
			if perr != nil {
				_ = c.closeLocked()
				return am, fmt.Errorf("hl7: mllp: acknowledgement does not parse: %w", perr)
			}
			if got := am.Get("MSA-2"); controlID != "" && got != controlID {
				_ = c.closeLocked()
				return am, fmt.Errorf("%w (sent %q, acknowledged %q)", ErrAckMismatch, controlID, got)
			}
			log.Debug("mllp: acknowledged", "ack_code", am.Get("MSA-1"), "bytes", len(msg))
			return am, nil
		}
		_ = c.closeLocked()
		if fresh || attempt > 0 || !retry || ctx.Err() != nil {
			return nil, err
		}
		log.Info("mllp: connection lost; redialling", "err", err)
	}
}

// roundTrip writes one frame and reads one; retry reports whether the
// failure looks like a stale connection (nothing received).
func (c *Client) roundTrip(ctx context.Context, msg []byte) (ack []byte, retry bool, err error) {
	nc := c.conn
	deadline := time.Now().Add(opt.Dur(c.AckTimeout, 60*time.Second))
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := WriteFrame(nc, msg); err != nil {
		if ctx.Err() != nil {
			return nil, false, fmt.Errorf("hl7: mllp send: %w", ctx.Err())
		}
		return nil, !isTimeout(err), fmt.Errorf("hl7: mllp send: %w", err)
	}
	ack, err = c.fr.ReadFrame()
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, fmt.Errorf("hl7: mllp awaiting ack: %w", ctx.Err())
		}
		stale := errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
		return nil, stale, fmt.Errorf("hl7: mllp awaiting ack: %w", err)
	}
	return ack, false, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

// controlIDOf extracts MSH-10 without parsing the whole message.
func controlIDOf(msg []byte) string {
	line := msg
	if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	m, err := Parse(line)
	if m == nil || err != nil && m.ControlID() == "" {
		return ""
	}
	return m.ControlID()
}
