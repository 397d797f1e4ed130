package notify_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/critical"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/model"
	"lightbox/internal/notify"
	"lightbox/internal/notify/notifytest"
)

func TestEmailWebhookAndInApp(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		relay := notifytest.SMTPD(t, "lightbox", "relay-password")
		pool := trust(t, relay.CertFile)
		const secret = "0123456789abcdef-secret"
		hook := notifytest.Webhook(t, secret, 1)

		s := &notify.Service{DB: d, PublicURL: "https://lightbox.example.org/"}
		if err := s.SetPref(ctx, notify.Pref{Recipient: "dr.a", Email: "dr.a@example.org", WebhookURL: hook.URL, WebhookSecret: secret, Channels: []string{notify.Email, notify.Webhook, notify.InApp}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPref(ctx, notify.Pref{Recipient: "dr.quiet", Channels: []string{notify.InApp}, Events: []string{notify.StudyUncovered}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPref(ctx, notify.Pref{Recipient: "x", Channels: []string{notify.Webhook}, WebhookURL: hook.URL, WebhookSecret: "short"}); err == nil {
			t.Fatal("a webhook with a short secret was accepted")
		}
		m := notify.Message{Event: notify.CriticalAckRequest, Key: "crit-1/1", Subject: "Critical result needs acknowledgement (category 1, Northwest Hospital)",
			Text: "A category 1 critical result was communicated. Acknowledge it with the link below.", Link: "/ack/abc123"}
		to := []notify.Recipient{{ID: "dr.a"}, {ID: "dr.quiet"}, {ID: "contact:42", Email: "ed.attending@example.org"}}
		if err := s.Send(ctx, m, to...); err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, m, to...); err != nil { // raised twice, sent once
			t.Fatal(err)
		}
		dl := &notify.Deliverer{DB: d, SMTP: notify.SMTP{Addr: relay.Addr, From: "lightbox@example.org", Username: "lightbox", Password: "relay-password", TLSConfig: &tls.Config{RootCAs: pool}},
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
		mails := relay.Messages()
		if len(mails) != 2 {
			t.Fatalf("%d e-mails reached the relay, want 2", len(mails))
		}
		for _, msg := range mails {
			if !strings.Contains(msg, "Subject: Critical result needs acknowledgement (category 1, Northwest Hospital)") ||
				!strings.Contains(msg, "https://lightbox.example.org/ack/abc123") {
				t.Errorf("e-mail:\n%s", msg)
			}
		}
		if bodies, refused := hook.Received(); len(bodies) != 1 || refused != 0 || !strings.Contains(bodies[0], `"event":"critical.ack_request"`) {
			t.Errorf("webhook: %d good, %d refused: %v", len(bodies), refused, bodies)
		}
		var wh notify.Delivery
		for _, e := range log {
			if e.Channel == notify.Webhook {
				wh = e
			}
		}
		if wh.Attempts != 2 {
			t.Errorf("webhook delivered after %d attempts, want 2 (one 503, retried)", wh.Attempts)
		}
	})
}

// A relay that refuses the credentials leaves the e-mail pending with the
// reason, and it is given up after MaxAttempts.
func TestEmailRetriedThenFailed(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		relay := notifytest.SMTPD(t, "lightbox", "relay-password")
		pool := trust(t, relay.CertFile)
		s := &notify.Service{DB: d}
		if err := s.Send(ctx, notify.Message{Event: notify.CredentialExpiring, Key: "k", Subject: "A licence lapses in 30 days"}, notify.Recipient{ID: "dr.b", Email: "dr.b@example.org"}); err != nil {
			t.Fatal(err)
		}
		dl := &notify.Deliverer{DB: d, SMTP: notify.SMTP{Addr: relay.Addr, From: "lightbox@example.org", Username: "lightbox", Password: "wrong", TLSConfig: &tls.Config{RootCAs: pool}},
			BaseBackoff: time.Millisecond, MaxAttempts: 2}
		for range 2 {
			_, _ = dl.RunOnce(ctx)
			time.Sleep(5 * time.Millisecond)
		}
		log, _ := s.Log(ctx, "dr.b", notify.Email, 0)
		if len(log) != 1 || log[0].Status != "failed" || log[0].Attempts != 2 || !strings.Contains(log[0].LastError, "auth") {
			t.Fatalf("%+v", log)
		}
	})
}

func trust(t *testing.T, certFile string) *x509.CertPool {
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool
}

// Subjects and bodies never carry patient identifiers: the accession and
// the finding of a critical result stay behind the link.
func TestMessagesCarryNoPatientData(t *testing.T) {
	n := critical.Notification{Kind: "ack_request", ResultID: "crit-9", FacilityID: "NWH", StudyUID: "1.2.3", Accession: "ACC-SECRET-1",
		Category: "1", Level: 1, Rung: "ordering", Targets: []critical.Contact{{ID: "7", Name: "Dr Ordering", Email: "o@example.org"}},
		AckURL: "/ack/tok", Reader: "dr.a", Summary: "Tension pneumothorax in SECRET^PATIENT", DeadlineAt: time.Now()}
	for _, kind := range []string{"ack_request", "escalated", "overdue"} {
		n.Kind = kind
		m, to := notify.FromCritical(n)
		for _, s := range []string{m.Subject, m.Text} {
			if strings.Contains(s, "ACC-SECRET") || strings.Contains(s, "SECRET^PATIENT") || strings.Contains(s, "pneumothorax") {
				t.Errorf("%s: patient data in %q", kind, s)
			}
		}
		if len(to) != 2 || to[0].ID != "contact:7" || to[0].Email != "o@example.org" || to[1].ID != "dr.a" {
			t.Errorf("%s: recipients %+v", kind, to)
		}
		if kind == "ack_request" && m.Link != "/ack/tok" {
			t.Errorf("ack request link %q", m.Link)
		}
	}
	m, to, ok := notify.FromDecision(assign.Decision{Kind: assign.KindUnassign, Code: assign.ReasonOffline, ReaderID: "dr.a", StudyID: "1.2.3", At: time.Now()})
	if !ok || m.Event != notify.ReaderOffline || len(to) != 2 {
		t.Errorf("offline: %+v %+v", m, to)
	}
	if _, _, ok := notify.FromDecision(assign.Decision{Kind: assign.KindAssign}); ok {
		t.Error("an assignment raised a notification")
	}
}

// Credential reminders go to the reader and the medical-staff office, once
// per reminder bucket.
func TestExpiryReminders(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := &notify.Service{DB: d}
		now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
		r := model.Reader{ID: "dr.c", Name: "Dr C", Licenses: []model.License{{State: "TX", Number: "TX1", Status: model.LicenceActive, Expires: model.DateOf(now.AddDate(0, 0, 25))}}}
		alerts := model.Expiring([]model.Reader{r}, now, model.DefaultOffsets())
		if len(alerts) != 1 {
			t.Fatalf("%+v", alerts)
		}
		for range 2 { // the hourly sweep sees it again: sent once
			m, to := notify.FromExpiry(alerts[0])
			if err := s.Send(ctx, m, to...); err != nil {
				t.Fatal(err)
			}
		}
		log, _ := s.Log(ctx, "", notify.InApp, 0)
		if len(log) != 2 || !strings.Contains(log[0].Subject, "Licence TX TX1 of Dr C lapses in 25 days") {
			t.Fatalf("%+v", log)
		}
	})
}
