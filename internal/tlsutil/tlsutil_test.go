package tlsutil

import (
	"crypto/tls"
	"io"
	"os"
	"testing"
)

func TestSelfSignedHandshake(t *testing.T) {
	dir := t.TempDir()
	cert, key, err := SelfSigned(dir, []string{"lightbox.example", "10.1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{cert, key} {
		st, err := os.Stat(f)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, st.Mode(), err)
		}
	}
	before, _ := os.ReadFile(cert)
	cert2, key2, err := SelfSigned(dir, []string{"lightbox.example"})
	after, _ := os.ReadFile(cert2)
	if err != nil || cert2 != cert || key2 != key || string(before) != string(after) {
		t.Fatal("second call did not reuse the files")
	}
	if _, _, err := SelfSigned(dir, []string{"other.example"}); err != nil {
		t.Fatal(err)
	}
	if regen, _ := os.ReadFile(cert); string(regen) == string(before) {
		t.Fatal("a new host must regenerate the certificate")
	}

	srv, err := Server(cert, key, ServerOptions{HTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := Client(ClientOptions{CAFile: cert, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	cli.NextProtos = []string{"h2"}
	st, err := handshake(t, srv, cli)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version < tls.VersionTLS12 || st.NegotiatedProtocol != "h2" {
		t.Fatalf("state %x %q", st.Version, st.NegotiatedProtocol)
	}
	// TLS 1.1 is refused.
	old := cli.Clone()
	old.MaxVersion, old.MinVersion = tls.VersionTLS11, tls.VersionTLS10
	if _, err := handshake(t, srv, old); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
	// Untrusted server refused by a client using the system pool.
	sys, _ := Client(ClientOptions{ServerName: "localhost"})
	if _, err := handshake(t, srv, sys); err == nil {
		t.Fatal("self-signed trusted without CA file")
	}
}

func TestMutualTLS(t *testing.T) {
	cert, key, err := SelfSigned(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Server(cert, key, ServerOptions{ClientCAFile: cert})
	if err != nil {
		t.Fatal(err)
	}
	anon, _ := Client(ClientOptions{CAFile: cert, ServerName: "127.0.0.1"})
	if _, err := handshake(t, srv, anon); err == nil {
		t.Fatal("client without certificate accepted")
	}
	mutual, err := Client(ClientOptions{CAFile: cert, CertFile: cert, KeyFile: key, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, srv, mutual); err != nil {
		t.Fatal(err)
	}
}

// handshake runs one TLS connection on loopback; it returns the client's
// state and the first error of either side.
func handshake(t *testing.T, srv, cli *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		if err := c.(*tls.Conn).Handshake(); err != nil {
			done <- err
			return
		}
		_, err = c.Write([]byte("ok"))
		done <- err
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), cli)
	if err != nil {
		<-done
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	b := make([]byte, 2)
	_, rerr := io.ReadFull(c, b)
	if serr := <-done; serr != nil {
		return c.ConnectionState(), serr
	}
	return c.ConnectionState(), rerr
}
