package dimse

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// TestIdleSocketsDoNotCount: connections that never send an A-ASSOCIATE-RQ
// do not use association slots (issue: 70 idle sockets made registered AEs
// fail with "local limit exceeded"); over the per-peer pending cap they are
// closed at once, and within it they are dropped after ARTIM.
func TestIdleSocketsDoNotCount(t *testing.T) {
	s := &Server{AETitle: "LIGHTBOX", MaxAssociations: 1, MaxPeerPending: 3, Timeouts: Timeouts{ARTIM: 300 * time.Millisecond}}
	addr := startServer(t, s)
	var idle []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// Every idle socket is closed by the server: the extra ones at once,
	// the others when ARTIM expires.
	for i, c := range idle {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatalf("idle socket %d got data", i)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("idle socket %d never closed", i)
		}
	}
	a := dialTest(t, addr, "LIGHTBOX", []ContextProposal{{AbstractSyntax: VerificationSOPClass}}, nil)
	if err := a.Echo(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = a.Release(context.Background())
}

// TestPeerAssociationCap: one address may hold MaxPeerAssociations.
func TestPeerAssociationCap(t *testing.T) {
	s := &Server{AETitle: "LIGHTBOX", MaxPeerAssociations: 1}
	addr := startServer(t, s)
	a := dialTest(t, addr, "LIGHTBOX", []ContextProposal{{AbstractSyntax: VerificationSOPClass}}, nil)
	defer a.Release(context.Background())
	_, err := Dial(context.Background(), addr, "PROBE", "LIGHTBOX", []ContextProposal{{AbstractSyntax: VerificationSOPClass}}, nil)
	var rej *RejectError
	if !errors.As(err, &rej) || rej.Reason != ReasonLocalLimitExceeded {
		t.Fatalf("second association from the same address: %v", err)
	}
}
