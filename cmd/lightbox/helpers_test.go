package main

// Set-up the end-to-end tests share: a facility's MLLP result interface,
// the node's index opened beside it, and reader presence kept alive.

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/hl7"
)

// mllpPeer is a facility's result interface (RIS): it acknowledges
// everything with AA (HL7 v2.5.1 ch. 2) and keeps what it received.
type mllpPeer struct {
	addr string
	mu   sync.Mutex
	msgs []string
}

func startMLLPPeer(t *testing.T) *mllpPeer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &mllpPeer{addr: l.Addr().String()}
	srv := &hl7.Server{Handler: hl7.HandlerFunc(func(ctx context.Context, req *hl7.Request) []byte {
		p.mu.Lock()
		p.msgs = append(p.msgs, string(req.Raw))
		p.mu.Unlock()
		return hl7.NewACK(req.Message, hl7.AckAA, hl7.AckOptions{}).Bytes()
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

// find returns the first message containing every substring.
func (p *mllpPeer) find(subs ...string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
next:
	for _, m := range p.msgs {
		for _, s := range subs {
			if !strings.Contains(m, s) {
				continue next
			}
		}
		return m
	}
	return ""
}

// openIndex opens the SQLite index of the data folder data, to read (or
// seed) what the node keeps; the caller closes it.
func openIndex(t *testing.T, data string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), "sqlite:"+filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// keepPresent keeps readers online until ctx ends: every second it posts a
// presence heartbeat for each client beat(i) returns at the i-th beat.
func keepPresent(ctx context.Context, beat func(i int) []apiClient) {
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			for _, c := range beat(i) {
				req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+c.base+"/api/presence", strings.NewReader("{}"))
				req.Header.Set("Authorization", "Bearer "+c.token)
				req.Header.Set("Content-Type", "application/json")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
}

// sendHL7 sends msg over c and returns what the acknowledgement's MSA and
// ERR say; a transport failure fails the test.
func sendHL7(t *testing.T, c *hl7.Client, msg string) hl7.AckResult {
	t.Helper()
	ack, err := c.Send(context.Background(), []byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := hl7.ReadAck(ack)
	return res
}

// protocolOrder returns the ID of the order with accession in the protocol
// queue, read through get; it fails the test when the order is not there.
func protocolOrder(t *testing.T, accession string, get func(path string, out any)) string {
	t.Helper()
	var queue []struct{ ID, Accession string }
	get("/api/orders/protocol-queue", &queue)
	for _, o := range queue {
		if o.Accession == accession {
			return o.ID
		}
	}
	t.Fatalf("order %s not in the protocol queue: %+v", accession, queue)
	return ""
}
