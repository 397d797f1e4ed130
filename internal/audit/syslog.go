package audit

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"lightbox/internal/bgloop"
	"lightbox/internal/db"
	"lightbox/internal/opt"
)

// SyslogForwarder ships the audit trail to an ATNA audit record repository
// as RFC 5424 syslog messages over TLS (RFC 5425, octet-counting framing),
// one message per event: PRI <85> (facility 10 security/authorization,
// severity 5 notice; <84> warning for failed outcomes), VERSION 1,
// TIMESTAMP = event time, HOSTNAME, APP-NAME "lightbox", PROCID = process
// id, MSGID "IHE+RFC-3881" (configurable, e.g. "DICOM+RFC-3881"),
// STRUCTURED-DATA "-", MSG = the ATNA XML (MarshalATNA).
//
// Delivery is at-least-once and in chain order: the last seq written to the
// collector is stored in audit_forward under Name, so a restarted forwarder
// resumes after it; events are re-sent if the process dies between writing
// and storing the cursor. Syslog over TLS has no application
// acknowledgement, so "delivered" means written to the TLS connection.
// When the collector is down the forwarder retries with exponential
// backoff. Several nodes may run a forwarder for the same Name: a lease in
// audit_forward lets only one ship at a time.
//
// Set the fields, call Start, and Stop on shutdown.
type SyslogForwarder struct {
	DB        *db.DB
	Addr      string      // collector host:port (6514 is the registered port)
	TLSConfig *tls.Config // client certificate (ATNA node authentication), roots, ServerName
	Name      string      // cursor name; default Addr
	Hostname  string      // syslog HOSTNAME; default os.Hostname
	MsgID     string      // default "IHE+RFC-3881"
	SiteID    string      // ATNA AuditEnterpriseSiteID; optional

	PollInterval time.Duration // how often to look for new events; default 2s
	BatchSize    int           // events per round; default 200
	BaseBackoff  time.Duration // first retry delay after a failure; default 1s
	MaxBackoff   time.Duration // cap; default 1m
	DialTimeout  time.Duration // default 10s
	WriteTimeout time.Duration // per batch; default 30s
	LeaseTTL     time.Duration // how long a lease protects the cursor; default 1m
	ConfirmWait  time.Duration // after each batch, how long to watch for the collector resetting the connection; default 50ms
	Logger       *slog.Logger  // default: discard

	mu   sync.Mutex
	conn net.Conn
	id   string
	run  bgloop.Loop
}

// Start launches the forwarding loop. It returns at once.
func (f *SyslogForwarder) Start(ctx context.Context) {
	f.run.Start(ctx, f.loop)
}

// Stop ends the loop, waits for it, closes the connection and releases the
// lease. Events not yet shipped go out after the next Start (of this or
// another node).
func (f *SyslogForwarder) Stop() {
	f.run.Stop()
	f.mu.Lock()
	f.closeConn()
	owner := f.id
	f.mu.Unlock()
	if owner != "" {
		// Release the lease so another node (or a restart) takes over at once.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := f.DB.Exec(ctx, `UPDATE audit_forward SET owner = '', lease_until = '' WHERE name = ? AND owner = ?`, f.name(), owner); err != nil {
			f.log().Warn("audit: release syslog lease", "collector", f.Addr, "error", err)
		}
	}
}

func (f *SyslogForwarder) log() *slog.Logger { return opt.Logger(f.Logger) }

func (f *SyslogForwarder) name() string {
	if f.Name != "" {
		return f.Name
	}
	return f.Addr
}

func (f *SyslogForwarder) owner() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.id == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		f.id = hex.EncodeToString(b[:])
	}
	return f.id
}

func (f *SyslogForwarder) loop(ctx context.Context) {
	backoff := time.Duration(0)
	for {
		n, err := f.ForwardOnce(ctx)
		wait := opt.Dur(f.PollInterval, 2*time.Second)
		switch {
		case err != nil && ctx.Err() == nil:
			backoff = min(max(2*backoff, opt.Dur(f.BaseBackoff, time.Second)), opt.Dur(f.MaxBackoff, time.Minute))
			wait = backoff
			f.log().Warn("audit: syslog forwarding failed", "collector", f.Addr, "retry_in", wait, "error", err)
		case err == nil:
			backoff = 0
			if n >= f.batch() {
				wait = 0 // more to ship
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (f *SyslogForwarder) batch() int {
	if f.BatchSize > 0 {
		return f.BatchSize
	}
	return 200
}

// ForwardOnce ships the next batch of events (at most BatchSize) and
// returns how many it shipped. It ships nothing, without error, while
// another node holds the lease.
func (f *SyslogForwarder) ForwardOnce(ctx context.Context) (int, error) {
	last, ok, err := f.claim(ctx)
	if err != nil || !ok {
		return 0, err
	}
	rows, err := f.DB.Query(ctx, `SELECT `+columns+` FROM audit_event WHERE seq > ? ORDER BY seq LIMIT ?`, last, f.batch())
	if err != nil {
		return 0, fmt.Errorf("audit: forward: %w", err)
	}
	evs, err := scanEvents(rows)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	var frames []byte
	for _, e := range evs {
		m, err := f.message(e)
		if err != nil {
			return 0, err
		}
		frames = strconv.AppendInt(frames, int64(len(m)), 10)
		frames = append(frames, ' ')
		frames = append(frames, m...)
	}
	if err := f.write(ctx, frames); err != nil {
		return 0, err
	}
	seq := evs[len(evs)-1].Seq
	res, err := f.DB.Exec(ctx, `UPDATE audit_forward SET last_seq = ?, updated_at = ? WHERE name = ? AND owner = ? AND last_seq < ?`,
		seq, db.Now(time.Now()), f.name(), f.owner(), seq)
	if err != nil {
		return 0, fmt.Errorf("audit: forward: store cursor: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		f.log().Warn("audit: syslog cursor moved by another node; events may be duplicated", "collector", f.Addr)
	}
	return len(evs), nil
}

// claim creates the cursor row if needed, takes or renews the lease, and
// returns the last shipped seq. ok is false when another node holds it.
func (f *SyslogForwarder) claim(ctx context.Context) (last int64, ok bool, err error) {
	now := time.Now()
	if _, err := f.DB.Exec(ctx, `INSERT INTO audit_forward (name, last_seq, owner, lease_until, updated_at) VALUES (?, 0, '', '', ?) ON CONFLICT (name) DO NOTHING`,
		f.name(), db.Now(now)); err != nil {
		return 0, false, fmt.Errorf("audit: forward: cursor: %w", err)
	}
	res, err := f.DB.Exec(ctx, `UPDATE audit_forward SET owner = ?, lease_until = ? WHERE name = ? AND (owner = ? OR owner = '' OR lease_until < ?)`,
		f.owner(), db.Now(now.Add(opt.Dur(f.LeaseTTL, time.Minute))), f.name(), f.owner(), db.Now(now))
	if err != nil {
		return 0, false, fmt.Errorf("audit: forward: lease: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, false, nil
	}
	// Read on the writer: on SQLite the reader pool might lag behind.
	err = f.DB.W.QueryRowContext(ctx, f.DB.Rebind(`SELECT last_seq FROM audit_forward WHERE name = ?`), f.name()).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("audit: forward: cursor: %w", err)
	}
	return last, true, nil
}

// message builds one RFC 5424 message for e.
func (f *SyslogForwarder) message(e Event) ([]byte, error) {
	x, err := MarshalATNA(e, f.SiteID)
	if err != nil {
		return nil, err
	}
	pri := 10*8 + 5
	if e.Outcome != Success {
		pri = 10*8 + 4
	}
	host := f.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	msgID := f.MsgID
	if msgID == "" {
		msgID = "IHE+RFC-3881"
	}
	// The chain position goes with each event, so the repository holds
	// every link's hash: truncation or a rewrite of the local trail shows
	// against it. (32473 is the example enterprise number of RFC 5612.)
	hdr := fmt.Sprintf("<%d>1 %s %s lightbox %d %s [lightbox-chain@32473 seq=\"%d\" hash=\"%s\"] ", pri, e.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
		syslogField(host, 255), os.Getpid(), syslogField(msgID, 32), e.Seq, e.Hash)
	return append([]byte(hdr), x...), nil
}

// syslogField makes s a valid RFC 5424 header field: printable US-ASCII
// without spaces, at most n characters, "-" when empty.
func syslogField(s string, n int) string {
	b := []byte(s)
	out := b[:0]
	for _, c := range b {
		if c > 32 && c < 127 {
			out = append(out, c)
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}

// write sends frames on the (re)connected TLS connection.
func (f *SyslogForwarder) write(ctx context.Context, frames []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil && !peerOpen(f.conn, time.Millisecond) {
		f.closeConn()
	}
	if f.conn == nil {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: opt.Dur(f.DialTimeout, 10*time.Second)}, Config: f.TLSConfig}
		c, err := d.DialContext(ctx, "tcp", f.Addr)
		if err != nil {
			return fmt.Errorf("audit: forward: connect %s: %w", f.Addr, err)
		}
		f.conn = c
	}
	_ = f.conn.SetWriteDeadline(time.Now().Add(opt.Dur(f.WriteTimeout, 30*time.Second)))
	if _, err := f.conn.Write(frames); err != nil {
		f.closeConn()
		return fmt.Errorf("audit: forward: write %s: %w", f.Addr, err)
	}
	// A write into a connection the collector has just closed still
	// succeeds locally; the collector's reset shows up on a read. Wait
	// briefly for one before the cursor moves, so such a batch is re-sent.
	if !peerOpen(f.conn, opt.Dur(f.ConfirmWait, 50*time.Millisecond)) {
		f.closeConn()
		return fmt.Errorf("audit: forward: %s closed the connection; batch will be re-sent", f.Addr)
	}
	return nil
}

// peerOpen reports whether the collector still has c open, waiting up to
// wait for a sign it does not. A collector never sends on a syslog
// connection, so a read that does not time out means it closed (or reset)
// the connection; writing would succeed into the void and the events would
// be lost.
func peerOpen(c net.Conn, wait time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	var b [1]byte
	_, err := c.Read(b[:])
	_ = c.SetReadDeadline(time.Time{})
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (f *SyslogForwarder) closeConn() {
	if f.conn != nil {
		_ = f.conn.Close()
		f.conn = nil
	}
}
