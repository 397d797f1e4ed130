package hl7

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lightbox/internal/tlsutil"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func ackHandler(calls *atomic.Int64) Handler {
	return HandlerFunc(func(ctx context.Context, req *Request) []byte {
		if calls != nil {
			calls.Add(1)
		}
		return NewACK(req.Message, AckAA, AckOptions{}).Bytes()
	})
}

func startServer(t *testing.T, h Handler, tweak func(*Server)) (*Server, string) {
	t.Helper()
	srv := &Server{Handler: h, Logger: testLogger(t)}
	if tweak != nil {
		tweak(srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return srv, l.Addr().String()
}

func msgWithID(id string) []byte {
	return []byte("MSH|^~\\&|RIS|GH|LIGHTBOX|TR|20240101||ORM^O01^ORM_O01|" + id + "|P|2.3.1\rPID|1||MRN1^^^GH^MR||DOE^JANE\r")
}

func readAckRaw(t *testing.T, fr *FrameReader) *Message {
	t.Helper()
	frame, err := fr.ReadFrame()
	if err != nil {
		t.Fatalf("read ack: %v", err)
	}
	m, err := Parse(frame)
	if err != nil {
		t.Fatalf("ack does not parse: %v", err)
	}
	return m
}

func TestFrameReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		frames  []string
		skipped []int
		final   error
	}{
		{"one", "\x0bA\x1c\x0d", []string{"A"}, []int{0}, io.EOF},
		{"two", "\x0bA\x1c\x0d\x0bB\x1c\x0d", []string{"A", "B"}, []int{0, 0}, io.EOF},
		{"junk", "xx\r\n\x0bA\x1c\x0djunk\x0bB\x1c\x0d", []string{"A", "B"}, []int{2, 4}, io.EOF},
		{"newline only between", "\x0bA\x1c\x0d\r\n\x0bB\x1c\x0d", []string{"A", "B"}, []int{0, 0}, io.EOF},
		{"FS without CR", "\x0bA\x1c\x0bB\x1c", []string{"A", "B"}, []int{0, 0}, io.EOF},
		{"restart", "\x0bpartial\x0bA\x1c\x0d", []string{"A"}, []int{8}, io.EOF},
		{"truncated", "\x0bA\x1c\x0d\x0bB", []string{"A"}, []int{0}, io.ErrUnexpectedEOF},
		{"empty frame", "\x0b\x1c\x0d", []string{""}, []int{0}, io.EOF},
		{"too large", "\x0b" + strings.Repeat("x", 100) + "\x1c\x0d", nil, nil, ErrFrameTooLarge},
		{"too large, then one", "\x0b" + strings.Repeat("x", 100) + "\x1c\x0d\x0bA\x1c\x0d", nil, nil, ErrFrameTooLarge},
		{"exactly max", "\x0b" + strings.Repeat("x", 64) + "\x1c\x0d", []string{strings.Repeat("x", 64)}, []int{0}, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := NewFrameReader(iotestOneByte(strings.NewReader(tt.in)), 64)
			for i, want := range tt.frames {
				got, err := fr.ReadFrame()
				if err != nil || string(got) != want || fr.Skipped() != tt.skipped[i] {
					t.Fatalf("frame %d = %q, %v (skipped %d) want %q (skipped %d)", i, got, err, fr.Skipped(), want, tt.skipped[i])
				}
			}
			if _, err := fr.ReadFrame(); !errors.Is(err, tt.final) {
				t.Errorf("final err %v want %v", err, tt.final)
			}
		})
	}
}

// iotestOneByte returns a reader that yields one byte per Read.
func iotestOneByte(r io.Reader) io.Reader { return oneByte{r} }

type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestMLLPRawWire(t *testing.T) {
	_, addr := startServer(t, ackHandler(nil), nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := msgWithID("RAW1")
	if _, err := c.Write(append(append([]byte{0x0b}, msg...), 0x1c, 0x0d)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	resp, err := br.ReadBytes(0x1c)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := br.ReadByte()
	if err != nil || cr != 0x0d {
		t.Fatalf("frame not terminated by FS CR: %v %x", err, cr)
	}
	if resp[0] != 0x0b {
		t.Fatalf("frame does not start with VT: %q", resp)
	}
	body := string(resp[1 : len(resp)-1])
	if !strings.HasPrefix(body, "MSH|^~\\&|LIGHTBOX|TR|RIS|GH|") || !strings.Contains(body, "\rMSA|AA|RAW1\r") ||
		!strings.Contains(body, "|ACK^O01^ACK|") {
		t.Errorf("ack body %q", body)
	}
}

func TestMLLPClientManyMessagesOneConnection(t *testing.T) {
	var calls atomic.Int64
	remotes := sync.Map{}
	h := HandlerFunc(func(ctx context.Context, req *Request) []byte {
		calls.Add(1)
		remotes.Store(req.RemoteAddr.String(), true)
		return NewACK(req.Message, AckAA, AckOptions{}).Bytes()
	})
	_, addr := startServer(t, h, nil)
	cl, err := Dial(context.Background(), addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < 10; i++ {
		id := fmt.Sprintf("SEQ%d", i)
		ack, err := cl.Send(context.Background(), msgWithID(id))
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		r, err := ReadAck(ack)
		if err != nil || r.Code != AckAA || r.ControlID != id {
			t.Fatalf("ack %d: %+v %v", i, r, err)
		}
	}
	n := 0
	remotes.Range(func(_, _ any) bool { n++; return true })
	if calls.Load() != 10 || n != 1 {
		t.Errorf("calls=%d connections=%d", calls.Load(), n)
	}
}

func TestMLLPParallelConnections(t *testing.T) {
	var calls atomic.Int64
	_, addr := startServer(t, ackHandler(&calls), nil)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &Client{Addr: addr}
			defer cl.Close()
			for i := 0; i < 5; i++ {
				id := fmt.Sprintf("P%d-%d", c, i)
				ack, err := cl.Send(context.Background(), msgWithID(id))
				if err != nil {
					errs <- err
					return
				}
				if ack.Get("MSA-2") != id {
					errs <- fmt.Errorf("ack for %s: %s", id, ack.Get("MSA-2"))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if calls.Load() != 40 {
		t.Errorf("calls = %d", calls.Load())
	}
}

func TestMLLPSplitFramesAndJunk(t *testing.T) {
	var calls atomic.Int64
	_, addr := startServer(t, ackHandler(&calls), nil)
	c := dialRaw(t, addr)
	fr := NewFrameReader(c, 0)
	stream := "junk before\r\n" + string(AppendFrame(nil, msgWithID("S1"))) + "\r\nmore junk" +
		string(AppendFrame(nil, msgWithID("S2")))
	// Byte-at-a-time writes for the first frame and the junk; acks are read
	// as they come.
	first := strings.Index(stream, "\x1c\x0d") + 2
	for i := 0; i < first; i++ {
		if _, err := c.Write([]byte{stream[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if got := readAckRaw(t, fr).Get("MSA-2"); got != "S1" {
		t.Errorf("first ack for %q", got)
	}
	for i := first; i < len(stream); i++ {
		if _, err := c.Write([]byte{stream[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if got := readAckRaw(t, fr).Get("MSA-2"); got != "S2" {
		t.Errorf("second ack for %q", got)
	}
	if calls.Load() != 2 {
		t.Errorf("calls %d", calls.Load())
	}
}

func TestMLLPOversizeFrame(t *testing.T) {
	var calls atomic.Int64
	_, addr := startServer(t, ackHandler(&calls), func(s *Server) { s.MaxMessageSize = 1024 })
	c := dialRaw(t, addr)
	big := append(msgWithID("BIG"), []byte("NTE|1||"+strings.Repeat("x", 4096)+"\r")...)
	go func() { _ = WriteFrame(c, big); _ = WriteFrame(c, msgWithID("NEXT")) }()
	// Answered AR for its control ID (not a reset), and the connection
	// stays in step for the next message.
	fr := NewFrameReader(c, 0)
	ack := readAckRaw(t, fr)
	if ack.Get("MSA-1") != "AR" || ack.Get("MSA-2") != "BIG" {
		t.Fatalf("oversize frame: %s %s", ack.Get("MSA-1"), ack.Get("MSA-2"))
	}
	if ack = readAckRaw(t, fr); ack.Get("MSA-1") != "AA" || ack.Get("MSA-2") != "NEXT" {
		t.Fatalf("next frame: %s %s", ack.Get("MSA-1"), ack.Get("MSA-2"))
	}
	if calls.Load() != 1 {
		t.Errorf("handler calls %d, want 1 (not for the oversize frame)", calls.Load())
	}
}

func TestMLLPStalledClient(t *testing.T) {
	_, addr := startServer(t, ackHandler(nil), func(s *Server) {
		s.ReadTimeout = 100 * time.Millisecond
		s.IdleTimeout = 100 * time.Millisecond
	})
	for _, prefix := range []string{"\x0bMSH|^~\\&|partial", ""} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte(prefix)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 16)
		n, err := c.Read(buf)
		if err == nil || isTimeout(err) {
			t.Errorf("prefix %q: server should close the stalled connection (n=%d, err=%v)", prefix, n, err)
		}
		c.Close()
	}
}

func TestMLLPUnparseableGetsNAK(t *testing.T) {
	var calls atomic.Int64
	_, addr := startServer(t, ackHandler(&calls), nil)
	c := dialRaw(t, addr)
	fr := NewFrameReader(c, 0)

	_ = WriteFrame(c, []byte("MSH|^~\\&|SND|SF|RCV|RF|2024||ORM^O01|BAD1|P|2.5.1\rPID|1\rthis is not a segment\r"))
	nak := readAckRaw(t, fr)
	if nak.Get("MSA-1") != "AR" || nak.Get("MSA-2") != "BAD1" || nak.Get("ERR-3-1") != "100" || nak.Get("MSH-5") != "SND" {
		t.Errorf("salvaged NAK: %q", nak.String())
	}
	_ = WriteFrame(c, []byte("\x89PNG binary junk"))
	nak = readAckRaw(t, fr)
	if nak.Get("MSA-1") != "AR" || nak.Get("MSA-2") != "" || nak.Get("ERR-3-1") != "100" {
		t.Errorf("minimal NAK: %q", nak.String())
	}
	_ = WriteFrame(c, msgWithID("GOOD"))
	if readAckRaw(t, fr).Get("MSA-1") != "AA" {
		t.Error("connection unusable after NAKs")
	}
	if calls.Load() != 1 {
		t.Errorf("handler calls %d", calls.Load())
	}
}

func TestMLLPHandlerMisbehaves(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, req *Request) []byte {
		switch req.Message.ControlID() {
		case "PANIC":
			panic("boom")
		case "NIL":
			return nil
		}
		return NewNAK(req.Message, Errorf(CodeUnsupportedMessageType, "MSH-9", "not here"), AckOptions{}).Bytes()
	})
	_, addr := startServer(t, h, nil)
	cl := &Client{Addr: addr}
	defer cl.Close()
	for id, want := range map[string]string{"PANIC": "AR|207", "NIL": "AR|207", "OTHER": "AR|200"} {
		ack, err := cl.Send(context.Background(), msgWithID(id))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		r, _ := ReadAck(ack)
		if got := fmt.Sprintf("%s|%d", r.Code, r.Errors[0].Code); got != want {
			t.Errorf("%s: %s want %s", id, got, want)
		}
	}
}

func TestMLLPShutdownWaitsForHandler(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, req *Request) []byte {
		if req.Message.ControlID() == "SLOW" {
			close(started)
			<-release
		}
		return NewACK(req.Message, AckAA, AckOptions{}).Bytes()
	})
	srv := &Server{Handler: h, Logger: testLogger(t)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	addr := l.Addr().String()

	idle, err := Dial(context.Background(), addr, nil) // an idle connection must not block shutdown
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if _, err := idle.Send(context.Background(), msgWithID("WARM")); err != nil {
		t.Fatal(err)
	}

	busy := &Client{Addr: addr}
	defer busy.Close()
	ackc := make(chan error, 1)
	go func() {
		ack, err := busy.Send(context.Background(), msgWithID("SLOW"))
		if err == nil && ack.Get("MSA-1") != "AA" {
			err = fmt.Errorf("ack %q", ack.Get("MSA-1"))
		}
		ackc <- err
	}()
	<-started
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned while a handler was running: %v", err)
	default:
	}
	close(release)
	if err := <-ackc; err != nil {
		t.Errorf("in-flight message: %v", err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("listener still open")
	}
}

func TestMLLPShutdownDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := HandlerFunc(func(ctx context.Context, req *Request) []byte {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return NewACK(req.Message, AckAA, AckOptions{}).Bytes()
	})
	srv := &Server{Handler: h}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() { _ = srv.Serve(l) }()
	cl := &Client{Addr: l.Addr().String()}
	defer cl.Close()
	sent := make(chan struct{})
	go func() { close(sent); _, _ = cl.Send(context.Background(), msgWithID("X")) }()
	<-sent
	time.Sleep(50 * time.Millisecond) // let the message reach the handler (not an assertion)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) && err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// rawServer accepts connections and runs fn on each, in order.
func rawServer(t *testing.T, fns ...func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for _, fn := range fns {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); fn(c) }()
		}
	}()
	return l.Addr().String()
}

func answerN(n int, mutate func(*Message)) func(net.Conn) {
	return func(c net.Conn) {
		fr := NewFrameReader(c, 0)
		for i := 0; i < n; i++ {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			in, _ := Parse(f)
			ack := NewACK(in, AckAA, AckOptions{})
			if mutate != nil {
				mutate(ack)
			}
			if WriteFrame(c, ack.Bytes()) != nil {
				return
			}
		}
	}
}

func TestClientReconnects(t *testing.T) {
	var accepted atomic.Int64
	counted := func(fn func(net.Conn)) func(net.Conn) {
		return func(c net.Conn) { accepted.Add(1); fn(c) }
	}
	// The first connection answers once and is then closed by the peer.
	addr := rawServer(t, counted(answerN(1, nil)), counted(answerN(10, nil)))
	cl := &Client{Addr: addr, Logger: testLogger(t)}
	defer cl.Close()
	if _, err := cl.Send(context.Background(), msgWithID("R1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // let the peer's close arrive (not an assertion)
	ack, err := cl.Send(context.Background(), msgWithID("R2"))
	if err != nil {
		t.Fatalf("send after peer closed: %v", err)
	}
	if ack.Get("MSA-2") != "R2" || accepted.Load() != 2 {
		t.Errorf("ack %q, %d connections", ack.Get("MSA-2"), accepted.Load())
	}
}

func TestClientErrors(t *testing.T) {
	silent := func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }
	t.Run("ack timeout", func(t *testing.T) {
		cl := &Client{Addr: rawServer(t, silent), AckTimeout: 100 * time.Millisecond}
		defer cl.Close()
		_, err := cl.Send(context.Background(), msgWithID("T1"))
		if !isTimeout(err) {
			t.Errorf("want timeout, got %v", err)
		}
	})
	t.Run("context cancel", func(t *testing.T) {
		cl := &Client{Addr: rawServer(t, silent)}
		defer cl.Close()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := cl.Send(ctx, msgWithID("T2"))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("want context.Canceled, got %v", err)
		}
	})
	t.Run("mismatch", func(t *testing.T) {
		cl := &Client{Addr: rawServer(t, answerN(1, func(m *Message) { _ = m.Set("MSA-2", "OTHER") }))}
		defer cl.Close()
		_, err := cl.Send(context.Background(), msgWithID("T3"))
		if !errors.Is(err, ErrAckMismatch) {
			t.Errorf("want ErrAckMismatch, got %v", err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		if _, err := Dial(context.Background(), addr, nil); err == nil {
			t.Error("dial to closed port succeeded")
		}
	})
}

func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	cert, pool, err := tlsutil.SelfSignedPair()
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, pool
}

func TestMLLPOverTLS(t *testing.T) {
	srvCfg, pool := selfSigned(t)
	var sawTLS atomic.Bool
	h := HandlerFunc(func(ctx context.Context, req *Request) []byte {
		sawTLS.Store(req.TLS != nil && req.TLS.HandshakeComplete)
		return NewACK(req.Message, AckAA, AckOptions{}).Bytes()
	})
	_, addr := startServer(t, h, func(s *Server) { s.TLSConfig = srvCfg })
	cl, err := Dial(context.Background(), addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ack, err := cl.Send(context.Background(), msgWithID("TLS1"))
	if err != nil || ack.Get("MSA-1") != "AA" || !sawTLS.Load() {
		t.Errorf("TLS send: %v %v", err, sawTLS.Load())
	}
	if _, err := Dial(context.Background(), addr, &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		t.Error("untrusted certificate accepted")
	}
}

func TestWriteFrameExact(t *testing.T) {
	var b bytes.Buffer
	if err := WriteFrame(&b, []byte("MSH|x\r")); err != nil {
		t.Fatal(err)
	}
	if b.String() != "\x0bMSH|x\r\x1c\x0d" {
		t.Errorf("%q", b.String())
	}
}

// dialRaw opens a plain TCP connection to addr, closed when the test ends,
// with a 10 s deadline for everything the test does on it.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}
