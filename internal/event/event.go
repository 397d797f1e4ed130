package event

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"lightbox/internal/bgloop"
	"lightbox/internal/db"
	"lightbox/internal/opt"
)

// Event is one stored event.
type Event struct {
	ID       int64
	Kind     string // e.g. "report.signed"
	Subject  string // what it is about (a study UID); no patient data
	Payload  []byte // JSON
	Attempts int
}

// Decode unmarshals the payload into v.
func (e Event) Decode(v any) error { return json.Unmarshal(e.Payload, v) }

// Publish writes an event through x, which should be the transaction of
// the change the event announces.
func Publish(ctx context.Context, x db.Execer, kind, subject string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("event %s: %w", kind, err)
	}
	now := db.Now(time.Now())
	if _, err := x.Exec(ctx, `INSERT INTO domain_event (kind, subject, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)`,
		kind, subject, string(b), now, now); err != nil {
		return fmt.Errorf("event %s: %w", kind, err)
	}
	return nil
}

// Handler handles one event; it must be idempotent.
type Handler func(ctx context.Context, e Event) error

// Bus hands pending events to their handlers.
type Bus struct {
	DB     *db.DB
	Logger *slog.Logger
	// Poll is how often pending and failed events are retried (default 2 s).
	Poll time.Duration
	// Claim is how long a claimed event is left to its handler before
	// another drain may take it (default 1 min).
	Claim time.Duration

	mu       sync.Mutex
	handlers map[string]Handler
	drain    sync.Mutex
	cancel   context.CancelFunc
	done     chan struct{}
	wake     chan struct{}
}

// Handle registers the handler of kind (one per kind; a later call replaces it).
func (b *Bus) Handle(kind string, h Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.handlers == nil {
		b.handlers = map[string]Handler{}
	}
	b.handlers[kind] = h
}

func (b *Bus) handler(kind string) Handler {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.handlers[kind]
}

func (b *Bus) log() *slog.Logger {
	return opt.Logger(b.Logger)
}

// Drain handles every pending event that is due, oldest first, and
// returns how many were handled. Events of kinds with no handler wait (a
// module not wired on this process). Safe to call concurrently.
func (b *Bus) Drain(ctx context.Context) (int, error) {
	if b == nil || b.DB == nil {
		return 0, nil
	}
	b.drain.Lock()
	defer b.drain.Unlock()
	now := time.Now()
	evs, err := db.List("events", db.Rows(b.DB.Query(ctx, `SELECT pk, kind, subject, payload, attempts FROM domain_event
		WHERE done_at = '' AND next_attempt_at <= ? AND claimed_until <= ? ORDER BY pk LIMIT 500`, db.Now(now), db.Now(now))),
		func(r db.Scanner) (e Event, err error) {
			var payload string
			err = r.Scan(&e.ID, &e.Kind, &e.Subject, &payload, &e.Attempts)
			e.Payload = []byte(payload)
			return e, err
		})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range evs {
		h := b.handler(e.Kind)
		if h == nil {
			continue
		}
		ok, err := b.claim(ctx, e.ID)
		if err != nil {
			return n, err
		}
		if !ok {
			continue // another process has it
		}
		e.Attempts++
		herr := h(ctx, e)
		if err := b.finish(ctx, e, herr); err != nil {
			return n, err
		}
		if herr == nil {
			n++
		}
	}
	return n, nil
}

func (b *Bus) claim(ctx context.Context, id int64) (bool, error) {
	claim := b.Claim
	if claim <= 0 {
		claim = time.Minute
	}
	now := time.Now()
	res, err := b.DB.Exec(ctx, `UPDATE domain_event SET claimed_until = ?, attempts = attempts + 1 WHERE pk = ? AND done_at = '' AND claimed_until <= ?`,
		db.Now(now.Add(claim)), id, db.Now(now))
	if err != nil {
		return false, fmt.Errorf("events: claim: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// finish marks the event done, or schedules its retry with backoff
// (attempts² seconds, at most 5 minutes).
func (b *Bus) finish(ctx context.Context, e Event, herr error) error {
	now := time.Now()
	if herr == nil {
		_, err := b.DB.Exec(ctx, "UPDATE domain_event SET done_at = ?, claimed_until = '', last_error = '' WHERE pk = ?", db.Now(now), e.ID)
		return err
	}
	b.log().Warn("event handler failed (retried)", "kind", e.Kind, "event", e.ID, "attempts", e.Attempts, "err", herr)
	backoff := min(time.Duration(e.Attempts*e.Attempts)*time.Second, 5*time.Minute)
	_, err := b.DB.Exec(ctx, "UPDATE domain_event SET claimed_until = '', last_error = ?, next_attempt_at = ? WHERE pk = ?",
		herr.Error(), db.Now(now.Add(backoff)), e.ID)
	return err
}

// Kick asks the loop to drain now (after a commit that published).
func (b *Bus) Kick() {
	if b == nil || b.wake == nil {
		return
	}
	bgloop.Wake(b.wake)
}

// Start drains what is pending (events of a crashed run included), then
// keeps draining every Poll and on Kick until Stop.
func (b *Bus) Start(ctx context.Context) {
	poll := b.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	ctx, b.cancel = context.WithCancel(ctx)
	b.done = make(chan struct{})
	b.wake = make(chan struct{}, 1)
	go func() {
		defer close(b.done)
		bgloop.Poll(ctx, poll, b.wake,
			func(ctx context.Context) error { _, err := b.Drain(ctx); return err },
			func(err error) { b.log().Error("events: drain", "err", err) })
	}()
}

// Stop ends the loop.
func (b *Bus) Stop() {
	if b.cancel != nil {
		b.cancel()
		<-b.done
	}
}

// CrashEnv names the test-only crash point: when LIGHTBOX_TEST_CRASH_AFTER
// equals a point's name, the process kills itself (SIGKILL) there, so a
// test can check that nothing is left half done.
const CrashEnv = "LIGHTBOX_TEST_CRASH_AFTER"

// CrashPoint kills the process when the test asked for a crash at name.
func CrashPoint(name string) {
	if v := os.Getenv(CrashEnv); v != "" && v == name {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
