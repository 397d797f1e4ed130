// Package notifytest runs real notification peers for tests: Debian's
// aiosmtpd as an SMTP relay on loopback (STARTTLS and AUTH required) and
// a webhook receiver that verifies Lightbox's HMAC-SHA256 signature.
package notifytest

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/notify"
	"lightbox/internal/tlsutil"
)

//go:embed smtpd.py
var smtpdScript []byte

// Relay is a running aiosmtpd.
type Relay struct {
	Addr     string // 127.0.0.1:port
	CertFile string // its self-signed certificate (trust it for STARTTLS)
	dir      string
}

// SMTPD starts aiosmtpd with the credentials user/password, or skips the
// test when python3-aiosmtpd is not installed.
func SMTPD(t testing.TB, user, password string) *Relay {
	t.Helper()
	if exec.Command("/usr/bin/python3", "-c", "import aiosmtpd").Run() != nil {
		t.Skip("python3-aiosmtpd not installed (bash .ci/run installs it)")
	}
	dir := t.TempDir()
	cert, key, err := tlsutil.SelfSigned(dir, []string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "smtpd.py")
	if err := os.WriteFile(script, smtpdScript, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	r := &Relay{Addr: "127.0.0.1:" + port, CertFile: cert, dir: filepath.Join(dir, "mail")}
	_ = os.Mkdir(r.dir, 0o750)
	cmd := exec.Command("/usr/bin/python3", script, port, r.dir, cert, key, user, password)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "READY") {
		t.Fatalf("smtpd did not start: %q %v", line, err)
	}
	return r
}

// Messages returns the raw messages the relay accepted, in order.
func (r *Relay) Messages() []string {
	files, _ := filepath.Glob(filepath.Join(r.dir, "*.eml"))
	sort.Strings(files)
	var out []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		out = append(out, string(b))
	}
	return out
}

// Receiver is a webhook endpoint that verifies each request's signature.
type Receiver struct {
	URL    string
	secret string

	mu      sync.Mutex
	bodies  []string
	refused int
	fail    int
}

// Webhook starts a receiver for secret; the first failFirst requests with a
// good signature are answered 503 (to exercise retries).
func Webhook(t testing.TB, secret string, failFirst int) *Receiver {
	rc := &Receiver{secret: secret, fail: failFirst}
	srv := httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL
	return rc
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := notify.Verify(rc.secret, r, body, time.Now(), 5*time.Minute); err != nil {
		rc.refused++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if rc.fail > 0 {
		rc.fail--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	rc.bodies = append(rc.bodies, string(body))
}

// Received returns the verified bodies and how many requests were refused.
func (rc *Receiver) Received() ([]string, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bodies...), rc.refused
}
