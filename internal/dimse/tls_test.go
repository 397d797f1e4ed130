package dimse

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"lightbox/internal/dcm"
	"lightbox/internal/tlsutil"
)

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, pool, err := tlsutil.SelfSignedPair()
	if err != nil {
		t.Fatal(err)
	}
	return cert, pool
}

func TestTLSAssociation(t *testing.T) {
	cert, pool := selfSigned(t)
	rec := newRecorder()
	mux := NewMux()
	mux.HandleStorage(rec)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s := &Server{Handler: mux, TLSConfig: cfg}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(tls.NewListener(l, cfg)) }()
	t.Cleanup(func() { _ = s.Close() })
	a := dialTest(t, l.Addr().String(), "ANY", storageProposals(dcm.ExplicitVRLittleEndian), &DialOptions{TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	if a.Info().TLS == nil {
		t.Fatal("no TLS state")
	}
	if err := a.Echo(context.Background()); err != nil {
		t.Fatal(err)
	}
	ds := testInstance(uidN(1), true, 300_000)
	if st, err := a.Store(context.Background(), scImageStorage, uidN(1), dcm.ExplicitVRLittleEndian, bytes.NewReader(ds)); err != nil || st != 0 {
		t.Fatalf("0x%04X %v", st, err)
	}
	if !bytes.Equal(rec.get(uidN(1)), ds) {
		t.Fatal("data differs")
	}
	rec.mu.Lock()
	if rec.seen[0].Assoc.TLS == nil {
		t.Error("handler does not see TLS state")
	}
	rec.mu.Unlock()
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A plain-TCP client is not served.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := Dial(ctx, l.Addr().String(), "X", "Y", storageProposals(), &DialOptions{Timeouts: Timeouts{ARTIM: time.Second}}); err == nil {
		t.Fatal("plain client associated with TLS server")
	}
}
