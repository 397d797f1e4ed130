package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/bgloop"
	"lightbox/internal/db"
	"lightbox/internal/opt"
)

// SMTP is how e-mail leaves: a relay reached with STARTTLS (required
// unless Insecure) and AUTH PLAIN when a user name is set.
type SMTP struct {
	Addr     string // host:port; empty disables e-mail
	From     string
	Username string
	Password string
	// TLSConfig verifies the relay (nil: system roots, ServerName = host).
	TLSConfig *tls.Config
	// Insecure allows a relay without STARTTLS (a local MTA on loopback).
	Insecure bool
}

// Deliverer sends pending deliveries; run one or several (rows are
// claimed, so processes share the work).
type Deliverer struct {
	DB          *db.DB
	SMTP        SMTP
	HTTP        *http.Client  // webhooks; default 10 s timeout
	Poll        time.Duration // default 2 s
	BaseBackoff time.Duration // first retry; default 10 s, doubling to 30 min
	MaxAttempts int           // then failed; default 10
	Logger      *slog.Logger

	run bgloop.Loop
}

// Start runs the delivery loop until Stop (once: a running loop is kept).
func (d *Deliverer) Start() { d.run.Start(context.Background(), d.loop) }

// Stop ends the loop.
func (d *Deliverer) Stop() { d.run.Stop() }

func (d *Deliverer) loop(ctx context.Context) {
	bgloop.Poll(ctx, opt.Dur(d.Poll, 2*time.Second), nil,
		func(ctx context.Context) error { _, err := d.RunOnce(ctx); return err },
		func(err error) { d.log().Warn("notify delivery", "err", err) })
}

func (d *Deliverer) log() *slog.Logger { return opt.Logger(d.Logger) }

type pending struct {
	pk                                          int64
	recipient, channel, address, event, subject string
	body, link                                  string
	attempts                                    int
}

// RunOnce claims and sends what is due; it returns how many it delivered.
func (d *Deliverer) RunOnce(ctx context.Context) (int, error) {
	now := time.Now()
	rows, err := d.DB.Query(ctx, `SELECT pk, recipient, channel, address, event, subject, body, link, attempts FROM notify_delivery
		WHERE status = 'pending' AND next_attempt_at <= ? AND claimed_until < ? ORDER BY pk LIMIT 50`, db.Now(now), db.Now(now))
	if err != nil {
		return 0, fmt.Errorf("notify: due: %w", err)
	}
	var due []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.pk, &p.recipient, &p.channel, &p.address, &p.event, &p.subject, &p.body, &p.link, &p.attempts); err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, p)
	}
	rows.Close()
	sent := 0
	for _, p := range due {
		res, err := d.DB.Exec(ctx, "UPDATE notify_delivery SET claimed_until = ? WHERE pk = ? AND status = 'pending' AND claimed_until < ?",
			db.Now(now.Add(2*time.Minute)), p.pk, db.Now(now))
		if err != nil {
			return sent, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // another process has it
		}
		err = d.send(ctx, p)
		if err := d.record(ctx, p, err); err != nil {
			return sent, err
		}
		if err == nil {
			sent++
		}
	}
	return sent, nil
}

func (d *Deliverer) record(ctx context.Context, p pending, sendErr error) error {
	now := time.Now()
	if sendErr == nil {
		_, err := d.DB.Exec(ctx, "UPDATE notify_delivery SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = '', claimed_until = '' WHERE pk = ?", db.Now(now), p.pk)
		return err
	}
	attempts := p.attempts + 1
	status := "pending"
	if attempts >= d.maxAttempts() {
		status = "failed"
	}
	backoff := opt.Dur(d.BaseBackoff, 10*time.Second) << min(attempts-1, 16)
	backoff = min(backoff, 30*time.Minute)
	msg := sendErr.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	d.log().Warn("notification not delivered", "id", p.pk, "channel", p.channel, "event", p.event, "attempt", attempts, "status", status, "err", msg)
	_, err := d.DB.Exec(ctx, "UPDATE notify_delivery SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, claimed_until = '' WHERE pk = ?",
		status, attempts, db.Now(now.Add(backoff)), msg, p.pk)
	return err
}

func (d *Deliverer) maxAttempts() int {
	if d.MaxAttempts <= 0 {
		return 10
	}
	return d.MaxAttempts
}

func (d *Deliverer) send(ctx context.Context, p pending) error {
	switch p.channel {
	case Email:
		return d.mail(p)
	case Webhook:
		var secret string
		if err := d.DB.QueryRow(ctx, "SELECT webhook_secret FROM notify_pref WHERE recipient = ?", p.recipient).Scan(&secret); err != nil {
			return fmt.Errorf("webhook secret of %s: %w", p.recipient, err)
		}
		return d.webhook(ctx, p, secret)
	}
	return fmt.Errorf("unknown channel %q", p.channel)
}

// mail sends one message: EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA.
func (d *Deliverer) mail(p pending) error {
	c := d.SMTP
	if c.Addr == "" {
		return errors.New("e-mail is not configured (--smtp)")
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("smtp address: %w", err)
	}
	conn, err := net.DialTimeout("tcp", c.Addr, 10*time.Second)
	if err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	cl, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer cl.Close()
	if err := cl.Hello("lightbox"); err != nil {
		return err
	}
	if ok, _ := cl.Extension("STARTTLS"); ok {
		tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if c.TLSConfig != nil {
			tc = c.TLSConfig.Clone()
			if tc.ServerName == "" {
				tc.ServerName = host
			}
		}
		if err := cl.StartTLS(tc); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	} else if !c.Insecure {
		return errors.New("the relay does not offer STARTTLS")
	}
	if c.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := cl.Mail(c.From); err != nil {
		return err
	}
	if err := cl.Rcpt(p.address); err != nil {
		return err
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	fmt.Fprintf(w, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@lightbox>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n%s",
		c.From, p.address, mime.QEncoding.Encode("utf-8", p.subject), time.Now().Format(time.RFC1123Z), hex.EncodeToString(id), strings.ReplaceAll(p.body, "\n", "\r\n"))
	if err := w.Close(); err != nil {
		return err
	}
	return cl.Quit()
}

// WebhookBody is what a webhook receives.
type WebhookBody struct {
	ID      int64  `json:"id"`
	Event   string `json:"event"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	Link    string `json:"link,omitempty"`
	At      string `json:"at"`
}

// Sign computes the X-Lightbox-Signature value of body sent at ts.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a webhook request's signature and that its timestamp is
// within skew of now (receivers use it, and so do our tests).
func Verify(secret string, r *http.Request, body []byte, now time.Time, skew time.Duration) error {
	ts, err := strconv.ParseInt(r.Header.Get("X-Lightbox-Timestamp"), 10, 64)
	if err != nil {
		return errors.New("missing timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > skew || d < -skew {
		return errors.New("stale timestamp")
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(r.Header.Get("X-Lightbox-Signature"))) {
		return errors.New("bad signature")
	}
	return nil
}

func (d *Deliverer) webhook(ctx context.Context, p pending, secret string) error {
	body, _ := json.Marshal(WebhookBody{ID: p.pk, Event: p.event, Subject: p.subject, Text: p.body, Link: p.link, At: time.Now().UTC().Format(time.RFC3339)})
	ts := time.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.address, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Lightbox")
	req.Header.Set("X-Lightbox-Event", p.event)
	req.Header.Set("X-Lightbox-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Lightbox-Signature", Sign(secret, ts, body))
	hc := d.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered HTTP %d", resp.StatusCode)
	}
	return nil
}
