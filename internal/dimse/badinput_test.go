package dimse

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"lightbox/internal/dcm"
)

func rawRQ(t testing.TB) []byte {
	t.Helper()
	rq := &AssociateRQ{ProtocolVersion: 1, CalledAE: "LIGHTBOX", CallingAE: "RAW", ApplicationContext: ApplicationContextUID,
		PresentationContexts: []PresentationContextRQ{
			{ID: 1, AbstractSyntax: VerificationSOPClass, TransferSyntaxes: []string{dcm.ImplicitVRLittleEndian}},
			{ID: 3, AbstractSyntax: scImageStorage, TransferSyntaxes: []string{dcm.ExplicitVRLittleEndian}},
		},
		UserInfo: UserInfo{MaxPDULength: 16384, ImplementationClassUID: "1.2.3"},
	}
	b, err := EncodePDU(rq)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawAssociate opens a raw connection and completes association.
func rawAssociate(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(rawRQ(t)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, _, err := ReadPDU(c, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(*AssociateAC); !ok {
		t.Fatalf("got %v, want A-ASSOCIATE-AC", p.Type())
	}
	return c
}

// expectAbort reads until an A-ABORT arrives, then expects the server to
// close the connection.
func expectAbort(t testing.TB, c net.Conn) *Abort {
	t.Helper()
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		p, _, err := ReadPDU(c, 0, nil)
		if err != nil {
			t.Fatalf("want A-ABORT, got error %v", err)
		}
		if ab, ok := p.(*Abort); ok {
			return ab
		}
	}
}

func pdataPDU(pdvs ...PDV) []byte {
	b, _ := EncodePDU(&PData{PDVs: pdvs})
	return b
}

func echoCommand(t testing.TB) []byte {
	c := NewCEchoRQ()
	c.MessageID = 1
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadInput(t *testing.T) {
	mux := NewMux()
	mux.HandleStorage(newRecorder())
	s := &Server{AETitle: "LIGHTBOX", Handler: mux, MaxPDULength: 16384,
		Timeouts: Timeouts{ARTIM: 300 * time.Millisecond, Read: 300 * time.Millisecond, Idle: 300 * time.Millisecond}}
	addr := startServer(t, s)

	healthy := func(t *testing.T) {
		t.Helper()
		a := dialTest(t, addr, "LIGHTBOX", []ContextProposal{{AbstractSyntax: VerificationSOPClass}}, nil)
		if err := a.Echo(context.Background()); err != nil {
			t.Fatalf("server unhealthy: %v", err)
		}
		_ = a.Release(context.Background())
	}

	beforeAssoc := []struct {
		name   string
		bytes  func() []byte
		reason AbortReason
	}{
		{"unknown PDU type", func() []byte { return []byte{0x09, 0, 0, 0, 0, 4, 0, 0, 0, 0} }, AbortReasonUnrecognizedPDU},
		{"RQ item length lies", func() []byte {
			b := rawRQ(t)
			binary.BigEndian.PutUint16(b[6+68+2:], 0xFFF0) // application context item length
			return b
		}, AbortReasonInvalidParameter},
		{"RQ PDU length too large", func() []byte {
			b := rawRQ(t)
			binary.BigEndian.PutUint32(b[2:], 0x7FFFFFFF)
			return b
		}, AbortReasonInvalidParameter},
		{"RQ truncated", func() []byte {
			b := rawRQ(t)
			binary.BigEndian.PutUint32(b[2:], 20)
			return b[:26]
		}, AbortReasonInvalidParameter},
		{"release RP length not 4", func() []byte { return []byte{0x06, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0} }, AbortReasonInvalidParameter},
	}
	for _, tc := range beforeAssoc {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(tc.bytes()); err != nil {
				t.Fatal(err)
			}
			ab := expectAbort(t, c)
			if ab.Source != AbortSourceServiceProvider || ab.Reason != tc.reason {
				t.Errorf("abort %+v, want provider reason %d", ab, tc.reason)
			}
			healthy(t)
		})
	}

	t.Run("P-DATA before association", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(pdataPDU(PDV{ContextID: 1, Command: true, Last: true, Data: echoCommand(t)}))
		expectAbort(t, c)
	})

	afterAssoc := []struct {
		name  string
		bytes func() []byte
	}{
		{"PDV length lies", func() []byte {
			b := pdataPDU(PDV{ContextID: 1, Command: true, Last: true, Data: echoCommand(t)})
			binary.BigEndian.PutUint32(b[6:], 5000)
			return b
		}},
		{"PDU beyond max", func() []byte {
			return pdataPDU(PDV{ContextID: 3, Command: false, Last: true, Data: make([]byte, 20000)})
		}},
		{"unnegotiated context", func() []byte {
			return pdataPDU(PDV{ContextID: 99, Command: true, Last: true, Data: echoCommand(t)})
		}},
		{"even context ID", func() []byte {
			return pdataPDU(PDV{ContextID: 2, Command: true, Last: true, Data: echoCommand(t)})
		}},
		{"data set without command", func() []byte {
			return pdataPDU(PDV{ContextID: 3, Command: false, Last: true, Data: []byte{1, 2, 3, 4}})
		}},
		{"malformed command set", func() []byte {
			cmd := echoCommand(t)
			binary.LittleEndian.PutUint16(cmd[0:], 0x0008) // wrong group
			return pdataPDU(PDV{ContextID: 1, Command: true, Last: true, Data: cmd})
		}},
		{"unexpected A-ASSOCIATE-RQ", func() []byte { return rawRQ(t) }},
		{"unknown PDU type", func() []byte { return []byte{0x42, 0, 0, 0, 0, 0} }},
	}
	for _, tc := range afterAssoc {
		t.Run(tc.name, func(t *testing.T) {
			c := rawAssociate(t, addr)
			if _, err := c.Write(tc.bytes()); err != nil {
				t.Fatal(err)
			}
			ab := expectAbort(t, c)
			if ab.Source != AbortSourceServiceProvider {
				t.Errorf("abort source %d", ab.Source)
			}
			healthy(t)
		})
	}

	t.Run("stall mid-PDU", func(t *testing.T) {
		c := rawAssociate(t, addr)
		b := pdataPDU(PDV{ContextID: 1, Command: true, Last: true, Data: echoCommand(t)})
		_, _ = c.Write(b[:9]) // header and part of the body, then silence
		expectAbort(t, c)
		healthy(t)
	})

	t.Run("stall mid-data-set between PDUs", func(t *testing.T) {
		c := rawAssociate(t, addr)
		cmd := NewCStoreRQ(scImageStorage, "1.2.3", 0)
		cmd.MessageID = 7
		enc, _ := cmd.Encode()
		_, _ = c.Write(pdataPDU(PDV{ContextID: 3, Command: true, Last: true, Data: enc}))
		_, _ = c.Write(pdataPDU(PDV{ContextID: 3, Command: false, Last: false, Data: make([]byte, 100)}))
		expectAbort(t, c)
		healthy(t)
	})

	t.Run("idle association", func(t *testing.T) {
		c := rawAssociate(t, addr)
		expectAbort(t, c)
	})

	t.Run("ARTIM without A-ASSOCIATE-RQ", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(make([]byte, 10))
		if n != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("want close, got %d %v", n, err)
		}
	})

	t.Run("bad protocol version and app context", func(t *testing.T) {
		for _, mut := range []struct {
			off    int
			val    byte
			source RejectSource
			reason RejectReason
		}{
			{7, 0x02, RejectSourceServiceProviderACSE, ReasonProtocolVersionNotSupported},
		} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			b := rawRQ(t)
			b[mut.off] = mut.val
			_, _ = c.Write(b)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			p, _, err := ReadPDU(c, 0, nil)
			c.Close()
			rj, ok := p.(*AssociateRJ)
			if err != nil || !ok || rj.Source != mut.source || rj.Reason != mut.reason {
				t.Fatalf("got %v %v", p, err)
			}
		}
		rq := &AssociateRQ{ProtocolVersion: 1, CalledAE: "LIGHTBOX", CallingAE: "RAW", ApplicationContext: "1.2.3.4",
			PresentationContexts: []PresentationContextRQ{{ID: 1, AbstractSyntax: VerificationSOPClass, TransferSyntaxes: []string{dcm.ImplicitVRLittleEndian}}}}
		b, _ := EncodePDU(rq)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write(b)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		p, _, err := ReadPDU(c, 0, nil)
		rj, ok := p.(*AssociateRJ)
		if err != nil || !ok || rj.Reason != ReasonAppContextNotSupported || rj.Source != RejectSourceServiceUser {
			t.Fatalf("got %v %v", p, err)
		}
	})
}

func TestNoLeaksAfterManyAborts(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	s := &Server{Timeouts: Timeouts{ARTIM: 200 * time.Millisecond, Read: 200 * time.Millisecond, Idle: 200 * time.Millisecond}}
	addr := startServer(t, s)
	// Warm up (first association starts long-lived runtime goroutines).
	a := dialTest(t, addr, "X", []ContextProposal{{AbstractSyntax: VerificationSOPClass}}, nil)
	_ = a.Release(context.Background())
	time.Sleep(50 * time.Millisecond)
	baseG := runtime.NumGoroutine()
	baseFD := countFDs(t)

	var wg sync.WaitGroup
	rq := rawRQ(t)
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i%4 == 3 { // client-side A-ABORT with our own SCU
				a, err := Dial(context.Background(), addr, "X", "Y", []ContextProposal{{AbstractSyntax: VerificationSOPClass}}, nil)
				if err != nil {
					t.Error(err)
					return
				}
				_ = a.Abort()
				return
			}
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			switch i % 4 {
			case 0: // garbage
				_, _ = c.Write([]byte{0x55, 1, 2, 3, 4, 5, 6, 7})
			case 1: // associate, then lying P-DATA
				_, _ = c.Write(rq)
				_, _ = c.Write([]byte{0x04, 0, 0, 0, 0, 10, 0, 0, 0, 99, 1, 3, 0, 0, 0, 0})
			case 2: // associate, then stall mid-PDU
				_, _ = c.Write(rq)
				_, _ = c.Write([]byte{0x04, 0, 0, 0, 1, 0, 0})
			}
			// Half of the clients vanish immediately, the others read
			// until the server closes.
			if i%2 == 0 {
				c.Close()
				return
			}
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}(i)
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for s.ActiveAssociations() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.ActiveAssociations(); n != 0 {
		t.Fatalf("%d associations still active", n)
	}
	if g := settleGoroutines(baseG + 2); g > baseG+2 {
		t.Errorf("goroutines: %d before, %d after", baseG, g)
	}
	if fd := countFDs(t); fd > baseFD+2 {
		t.Errorf("fds: %d before, %d after", baseFD, fd)
	}
	// Still serving.
	a = dialTest(t, addr, "X", []ContextProposal{{AbstractSyntax: VerificationSOPClass}}, nil)
	if err := a.Echo(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = a.Release(context.Background())
}
