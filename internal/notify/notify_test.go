package notify

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/db/dbtest"
	"lightbox/internal/tlsutil"
)

// smtpd starts Debian's aiosmtpd on loopback (STARTTLS and AUTH required)
// and returns its address, the folder it writes messages to, and a pool
// trusting its certificate.
func smtpd(t *testing.T, user, password string) (string, string, *x509.CertPool) {
	t.Helper()
	if exec.Command("/usr/bin/python3", "-c", "import aiosmtpd").Run() != nil {
		t.Skip("python3-aiosmtpd not installed (bash .ci/run installs it)")
	}
	dir := t.TempDir()
	cert, key, err := tlsutil.SelfSigned(dir, []string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := os.ReadFile(cert)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	out := filepath.Join(dir, "mail")
	_ = os.Mkdir(out, 0o750)
	cmd := exec.Command("/usr/bin/python3", "testdata/smtpd.py", port, out, cert, key, user, password)
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
	return "127.0.0.1:" + port, out, pool
}

// webhookReceiver verifies every request's signature and keeps the good ones.
type webhookReceiver struct {
	mu      sync.Mutex
	bodies  []string
	refused int
	fail    int // answer 503 to this many requests first
}

func (wr *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request, secret string) {
	body, _ := io.ReadAll(r.Body)
	wr.mu.Lock()
	defer wr.mu.Unlock()
	if err := Verify(secret, r, body, time.Now(), 5*time.Minute); err != nil {
		wr.refused++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if wr.fail > 0 {
		wr.fail--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	wr.bodies = append(wr.bodies, string(body))
}

func TestEmailWebhookAndInApp(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	addr, maildir, pool := smtpd(t, "lightbox", "relay-password")
	const secret = "0123456789abcdef-secret"
	wr := &webhookReceiver{fail: 1}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wr.ServeHTTP(w, r, secret) }))
	defer hook.Close()

	s := &Service{DB: d, PublicURL: "https://lightbox.example.org/"}
	if err := s.SetPref(ctx, Pref{Recipient: "dr.a", Email: "dr.a@example.org", WebhookURL: hook.URL, WebhookSecret: secret, Channels: []string{Email, Webhook, InApp}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPref(ctx, Pref{Recipient: "dr.quiet", Channels: []string{InApp}, Events: []string{StudyUncovered}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPref(ctx, Pref{Recipient: "x", Channels: []string{Webhook}, WebhookURL: hook.URL, WebhookSecret: "short"}); err == nil {
		t.Fatal("a webhook with a short secret was accepted")
	}
	m := Message{Event: CriticalAckRequest, Key: "crit-1/1", Subject: "Critical result needs acknowledgement (category 1, Northwest Hospital)",
		Text: "A category 1 critical result was communicated. Acknowledge it with the link below.", Link: "/ack/abc123"}
	to := []Recipient{{ID: "dr.a"}, {ID: "dr.quiet"}, {ID: "contact:42", Email: "ed.attending@example.org"}}
	if err := s.Send(ctx, m, to...); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, m, to...); err != nil { // raised twice, sent once
		t.Fatal(err)
	}
	dl := &Deliverer{DB: d, SMTP: SMTP{Addr: addr, From: "lightbox@example.org", Username: "lightbox", Password: "relay-password", TLSConfig: &tls.Config{RootCAs: pool}},
		BaseBackoff: time.Millisecond}
	for range 3 {
		if _, err := dl.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // past the first retry's backoff
	}
	log, _ := s.Log(ctx, "", "", 0)
	counts := map[string]int{}
	for _, e := range log {
		counts[e.Recipient+"/"+e.Channel+"/"+e.Status]++
	}
	want := map[string]int{"dr.a/email/delivered": 1, "dr.a/webhook/delivered": 1, "dr.a/inapp/delivered": 1, "contact:42/email/delivered": 1, "contact:42/inapp/delivered": 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d, want %d (log %v)", k, counts[k], n, counts)
		}
	}
	if len(log) != 5 {
		t.Errorf("%d deliveries, want 5 (dr.quiet does not want this event; the repeat is deduplicated)", len(log))
	}
	files, _ := filepath.Glob(filepath.Join(maildir, "*.eml"))
	if len(files) != 2 {
		t.Fatalf("%d e-mails reached the relay, want 2", len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		msg := string(b)
		if !strings.Contains(msg, "Subject: Critical result needs acknowledgement (category 1, Northwest Hospital)") ||
			!strings.Contains(msg, "https://lightbox.example.org/ack/abc123") {
			t.Errorf("e-mail:\n%s", msg)
		}
	}
	wr.mu.Lock()
	if len(wr.bodies) != 1 || wr.refused != 0 || !strings.Contains(wr.bodies[0], `"event":"critical.ack_request"`) {
		t.Errorf("webhook: %d good, %d refused: %v", len(wr.bodies), wr.refused, wr.bodies)
	}
	wr.mu.Unlock()
	var wh Delivery
	for _, e := range log {
		if e.Channel == Webhook {
			wh = e
		}
	}
	if wh.Attempts != 2 {
		t.Errorf("webhook delivered after %d attempts, want 2 (one 503, retried)", wh.Attempts)
	}
}

// A relay that refuses the credentials leaves the e-mail pending with the
// reason, and it is given up after MaxAttempts.
func TestEmailRetriedThenFailed(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	addr, _, pool := smtpd(t, "lightbox", "relay-password")
	s := &Service{DB: d}
	if err := s.Send(ctx, Message{Event: CredentialExpiring, Key: "k", Subject: "A licence lapses in 30 days"}, Recipient{ID: "dr.b", Email: "dr.b@example.org"}); err != nil {
		t.Fatal(err)
	}
	dl := &Deliverer{DB: d, SMTP: SMTP{Addr: addr, From: "lightbox@example.org", Username: "lightbox", Password: "wrong", TLSConfig: &tls.Config{RootCAs: pool}},
		BaseBackoff: time.Millisecond, MaxAttempts: 2}
	for range 2 {
		_, _ = dl.RunOnce(ctx)
		time.Sleep(5 * time.Millisecond)
	}
	log, _ := s.Log(ctx, "dr.b", Email, 0)
	if len(log) != 1 || log[0].Status != "failed" || log[0].Attempts != 2 || !strings.Contains(log[0].LastError, "auth") {
		t.Fatalf("%+v", log)
	}
}
