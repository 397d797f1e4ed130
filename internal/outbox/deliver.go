package outbox

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"lightbox/internal/bgloop"
	"lightbox/internal/db"
	"lightbox/internal/hl7"
	"lightbox/internal/opt"
)

// Deliverer sends pending outbox rows. Create one with its fields set, call
// Start once, and Stop on shutdown (a stopped Deliverer is not restarted:
// make a new one). It is safe to run Deliverers in several
// processes against one database.
type Deliverer struct {
	DB           *db.DB
	TLSConfig    *tls.Config   // for rows with tls = 1
	PollInterval time.Duration // how often to look for due rows; default 1s
	ClaimTTL     time.Duration // how long a claim protects a row; default 2m
	BaseBackoff  time.Duration // first retry delay; default 5s
	MaxBackoff   time.Duration // cap; default 10m
	MaxAttempts  int           // attempts before "failed" on AE (and transport errors); default 10; <0 = unlimited
	AckTimeout   time.Duration // per message; default 30s
	DialTimeout  time.Duration // default 10s
	Logger       *slog.Logger  // default: discard

	// FailTransport makes transport errors count toward MaxAttempts; by
	// default a down endpoint is retried indefinitely (with capped backoff).
	FailTransport bool

	mu     sync.Mutex
	id     string
	active map[string]bool // addresses being drained by this process
	run    bgloop.Loop
	drains sync.WaitGroup
}

// Start launches the delivery loop. It returns at once.
func (d *Deliverer) Start(ctx context.Context) {
	d.run.Start(ctx, func(ctx context.Context) {
		d.mu.Lock()
		d.id = randomID()
		d.active = map[string]bool{}
		d.mu.Unlock()
		defer d.drains.Wait()
		d.loop(ctx)
	})
}

// Stop ends the loop and waits for in-flight sends to finish or be abandoned
// (their claims expire and another Deliverer picks them up).
func (d *Deliverer) Stop() { d.run.Stop() }

func (d *Deliverer) log() *slog.Logger {
	return opt.Logger(d.Logger)
}

func (d *Deliverer) loop(ctx context.Context) {
	bgloop.Poll(ctx, opt.Dur(d.PollInterval, time.Second), nil, d.scan,
		func(err error) { d.log().Warn("outbox: scan failed", "error", err) })
}

// scan starts a drainer for every address with due rows not already drained here.
func (d *Deliverer) scan(ctx context.Context) error {
	now := db.Now(time.Now())
	addrs, err := db.Strings(d.DB.Query(ctx, `SELECT DISTINCT address FROM hl7_outbox WHERE status = 'pending' AND next_attempt_at <= ? AND claimed_until < ?`, now, now))
	if err != nil {
		return fmt.Errorf("outbox: scan: %w", err)
	}
	for _, a := range addrs {
		d.mu.Lock()
		busy := d.active[a]
		if !busy {
			d.active[a] = true
		}
		d.mu.Unlock()
		if busy {
			continue
		}
		d.drains.Add(1)
		go func(addr string) {
			defer d.drains.Done()
			defer func() {
				d.mu.Lock()
				delete(d.active, addr)
				d.mu.Unlock()
			}()
			d.drain(ctx, addr)
		}(a)
	}
	return nil
}

type claimed struct {
	pk       int64
	tls      bool
	msg      []byte
	attempts int
}

// drain sends the address's rows in order until the head is not due.
func (d *Deliverer) drain(ctx context.Context, addr string) {
	var client *hl7.Client
	defer func() {
		if client != nil {
			_ = client.Close()
		}
	}()
	for ctx.Err() == nil {
		c, ok, err := d.claimHead(ctx, addr)
		if err != nil {
			if ctx.Err() == nil {
				d.log().Warn("outbox: claim failed", "error", err)
			}
			return
		}
		if !ok {
			return
		}
		if client == nil {
			client = &hl7.Client{Addr: addr, DialTimeout: opt.Dur(d.DialTimeout, 10*time.Second), AckTimeout: opt.Dur(d.AckTimeout, 30*time.Second)}
			if c.tls {
				client.TLSConfig = tlsFor(d.TLSConfig, addr)
			}
		}
		sendCtx, cancel := context.WithTimeout(ctx, opt.Dur(d.AckTimeout, 30*time.Second)+opt.Dur(d.DialTimeout, 10*time.Second))
		ack, sendErr := client.Send(sendCtx, c.msg)
		cancel()
		if sendErr != nil && ctx.Err() != nil {
			// Shutting down: leave the claim to expire; the row stays pending.
			return
		}
		done, err := d.record(context.WithoutCancel(ctx), c, ack, sendErr)
		if err != nil {
			d.log().Warn("outbox: record failed", "outbox_pk", c.pk, "error", err)
			return
		}
		if !done {
			// The head is waiting for a retry: keep per-address order.
			return
		}
	}
}

// claimHead claims the oldest pending row for addr if it is due.
func (d *Deliverer) claimHead(ctx context.Context, addr string) (claimed, bool, error) {
	var c claimed
	var tlsInt int
	err := d.DB.QueryRow(ctx, `SELECT pk, tls, message, attempts FROM hl7_outbox WHERE address = ? AND status = 'pending' ORDER BY pk LIMIT 1`, addr).Scan(&c.pk, &tlsInt, &c.msg, &c.attempts)
	if found, err := db.Found(err, "outbox: head"); !found {
		return c, false, err
	}
	c.tls = tlsInt != 0
	now := time.Now()
	res, err := d.DB.Exec(ctx, `UPDATE hl7_outbox SET claimed_until = ?, claimed_by = ? WHERE pk = ? AND status = 'pending' AND next_attempt_at <= ? AND claimed_until < ?`,
		db.Now(now.Add(opt.Dur(d.ClaimTTL, 2*time.Minute))), d.id, c.pk, db.Now(now), db.Now(now))
	if err != nil {
		return c, false, fmt.Errorf("outbox: claim: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return c, false, fmt.Errorf("outbox: claim: %w", err)
	}
	return c, n == 1, nil
}

// record stores the attempt and the row's new state; done reports whether
// the row left the pending state.
func (d *Deliverer) record(ctx context.Context, c claimed, ack *hl7.Message, sendErr error) (done bool, err error) {
	now := time.Now()
	attempts := c.attempts + 1
	var code, errText string
	transport := false
	switch {
	case sendErr != nil:
		transport = true
		errText = sendErr.Error()
	default:
		r, rerr := hl7.ReadAck(ack)
		if rerr != nil {
			transport = true
			errText = "unreadable acknowledgement: " + rerr.Error()
			break
		}
		code = string(r.Code)
		errText = r.Text
		for _, e := range r.Errors {
			if errText != "" {
				errText += "; "
			}
			errText += e.Error()
		}
	}
	maxAttempts := d.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = 10
	}
	status := StatusPending
	switch {
	case code == string(hl7.AckAA) || code == string(hl7.AckCA):
		status = StatusDelivered
	case code == string(hl7.AckAR) || code == string(hl7.AckCR):
		status = StatusFailed
	case maxAttempts > 0 && attempts >= maxAttempts && (!transport || d.FailTransport):
		status = StatusFailed
	}
	backoff := opt.Dur(d.BaseBackoff, 5*time.Second)
	for i := 1; i < attempts && backoff < opt.Dur(d.MaxBackoff, 10*time.Minute); i++ {
		backoff *= 2
	}
	backoff = min(backoff, opt.Dur(d.MaxBackoff, 10*time.Minute))
	delivered := ""
	if status == StatusDelivered {
		delivered = db.Now(now)
	}
	err = d.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO hl7_outbox_attempt (outbox_pk, at, ack_code, error) VALUES (?, ?, ?, ?)", c.pk, db.Now(now), code, errText); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE hl7_outbox SET status = ?, attempts = ?, ack_code = ?, last_error = ?, next_attempt_at = ?, claimed_until = '', claimed_by = '', delivered_at = ? WHERE pk = ? AND claimed_by = ?`,
			status, attempts, code, errText, db.Now(now.Add(backoff)), delivered, c.pk, d.id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("outbox: record attempt: %w", err)
	}
	switch status {
	case StatusDelivered:
		d.log().Info("outbox: delivered", "outbox_pk", c.pk, "attempts", attempts)
	case StatusFailed:
		d.log().Warn("outbox: failed", "outbox_pk", c.pk, "attempts", attempts, "ack", code)
	default:
		d.log().Info("outbox: will retry", "outbox_pk", c.pk, "attempts", attempts, "ack", code, "transport_error", transport, "backoff", backoff)
	}
	return status != StatusPending, nil
}

// tlsFor returns the client TLS configuration for addr: base (or a
// TLS 1.2+ default) with ServerName set from the address. A row marked TLS is
// never sent in clear text.
func tlsFor(base *tls.Config, addr string) *tls.Config {
	var c *tls.Config
	if base != nil {
		c = base.Clone()
	} else {
		c = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			c.ServerName = host
		}
	}
	return c
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
