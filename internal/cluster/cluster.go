package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"lightbox/internal/bgloop"
	"lightbox/internal/db"
)

// LockKey is the advisory lock that names the engine's leader ("lbxl").
const LockKey = 0x6c62786c

// Options configure a node.
type Options struct {
	// ID names this node in logs, events and calls (default: random).
	ID string
	// PollEvery is how often a follower tries the lock, a leader pings it,
	// and both poll engine_call (default 500 ms).
	PollEvery time.Duration
	// CallTimeout bounds a forwarded call, including a leader change
	// (default 15 s).
	CallTimeout time.Duration
	Logger      *slog.Logger
}

// Handler runs a forwarded call on the leader.
type Handler func(ctx context.Context, method string, args json.RawMessage) (any, error)

// Node is this process's membership in the cluster.
type Node struct {
	db  *db.DB
	dsn string
	opt Options
	log *slog.Logger

	// scope is the database schema: advisory locks and notification
	// channels are per database, so nodes of other schemas (other test
	// runs, other deployments) must not see ours.
	scope                                     string
	chanEvents, chanCall, chanDone, chanRelay string

	leading atomic.Bool
	// leaderCount counts elections won (tests and metrics).
	leaderCount atomic.Int64
	// relayPurged is when (Unix seconds) this node last purged live_relay.
	relayPurged atomic.Int64

	mu      sync.Mutex
	onEvent func(payload []byte)
	onRelay func(node, topic string, payload []byte)
	handler Handler
	codeOf  func(error) string
	waiters map[int64]chan struct{}
	kick    chan struct{} // wakes the leader's call loop

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New prepares a node on a PostgreSQL database reached by dsn.
func New(d *db.DB, dsn string, opt Options) (*Node, error) {
	if d.Dialect != db.Postgres {
		return nil, errors.New("cluster: needs PostgreSQL")
	}
	if opt.ID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		opt.ID = hex.EncodeToString(b[:])
	}
	if opt.PollEvery == 0 {
		opt.PollEvery = 500 * time.Millisecond
	}
	if opt.CallTimeout == 0 {
		opt.CallTimeout = 15 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	var scope string
	if err := d.QueryRow(context.Background(), "SELECT current_schema()").Scan(&scope); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n := &Node{db: d, dsn: dsn, opt: opt, log: opt.Logger.With("node", opt.ID), waiters: map[int64]chan struct{}{}, kick: make(chan struct{}, 1), scope: scope}
	suffix := ""
	if scope != "public" {
		suffix = "_" + scope
	}
	n.chanEvents, n.chanCall, n.chanDone = "lightbox_events"+suffix, "lightbox_call"+suffix, "lightbox_done"+suffix
	n.chanRelay = "lightbox_relay" + suffix
	return n, nil
}

// ID names this node.
func (n *Node) ID() string { return n.opt.ID }

// Leader reports whether this node holds the engine now.
func (n *Node) Leader() bool { return n.leading.Load() }

// Elections counts how often this node became leader.
func (n *Node) Elections() int64 { return n.leaderCount.Load() }

// Start joins the cluster: it listens for events and calls, and runs lead
// (in its own goroutine) each time this node is elected, cancelling its
// context when leadership is lost; lead must return promptly then. lead
// calls ready once it can take calls: only then does Leader report true
// and forwarded calls run here. onEvent
// receives other nodes' event payloads; handler runs forwarded calls and
// codeOf names its errors for the caller (RemoteError.Code).
func (n *Node) Start(lead func(ctx context.Context, ready func()), onEvent func(payload []byte), handler Handler, codeOf func(error) string) {
	n.mu.Lock()
	n.onEvent, n.handler, n.codeOf = onEvent, handler, codeOf
	n.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(2)
	go func() { defer n.wg.Done(); n.listen(ctx) }()
	go func() { defer n.wg.Done(); n.elect(ctx, lead) }()
}

// Close leaves the cluster (releasing leadership).
func (n *Node) Close() {
	if n.cancel != nil {
		n.cancel()
		n.wg.Wait()
	}
}

func (n *Node) connect(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return pgx.Connect(cctx, n.dsn)
}

func (n *Node) sleep(ctx context.Context) bool {
	t := time.NewTimer(n.opt.PollEvery)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// elect tries the lock until it has it, then leads until the session
// fails or the node closes.
func (n *Node) elect(ctx context.Context, lead func(context.Context, func())) {
	n.sessions(ctx, "election", func(conn *pgx.Conn) { n.electOn(ctx, conn, lead) })
}

// sessions runs on over one connection after another until ctx ends:
// each time on returns, the connection closes, which ends its session
// (and so releases the engine lock if that session held it).
func (n *Node) sessions(ctx context.Context, what string, on func(*pgx.Conn)) {
	for ctx.Err() == nil {
		conn, err := n.connect(ctx)
		if err != nil {
			n.log.Warn("cluster: "+what+" connection", "err", err)
			n.sleep(ctx)
			continue
		}
		on(conn)
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = conn.Close(cctx)
		cancel()
	}
}

func (n *Node) electOn(ctx context.Context, conn *pgx.Conn, lead func(context.Context, func())) {
	for {
		var got bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", LockKey, n.scope).Scan(&got); err != nil {
			if ctx.Err() == nil {
				n.log.Warn("cluster: try lock", "err", err)
			}
			return
		}
		if got {
			break
		}
		if !n.sleep(ctx) {
			return
		}
	}
	lctx, stop := context.WithCancel(ctx)
	n.leaderCount.Add(1)
	n.log.Info("cluster: this node holds the engine lock; loading")
	var wg sync.WaitGroup
	var once sync.Once
	// Until lead has loaded its state, this node answers as a follower
	// (its own calls wait in engine_call like everyone's) and serves no
	// forwarded call, so nothing meets a half-loaded engine.
	ready := func() {
		once.Do(func() {
			n.leading.Store(true)
			n.log.Info("cluster: this node leads the assignment engine")
			wg.Add(1)
			go func() { defer wg.Done(); n.serveCalls(lctx) }()
		})
	}
	wg.Add(1)
	go func() { defer wg.Done(); lead(lctx, ready) }()
	for n.sleep(ctx) {
		pctx, cancel := context.WithTimeout(ctx, n.opt.PollEvery*4)
		_, err := conn.Exec(pctx, "SELECT 1")
		cancel()
		if err != nil {
			n.log.Warn("cluster: leader lost its session; stepping down", "err", err)
			break
		}
	}
	n.leading.Store(false)
	stop()
	wg.Wait()
	if ctx.Err() == nil {
		n.log.Info("cluster: this node no longer leads")
	}
}

// listen holds the LISTEN connection, reconnecting as needed.
func (n *Node) listen(ctx context.Context) {
	n.sessions(ctx, "listen", func(conn *pgx.Conn) {
		if err := n.listenOn(ctx, conn); ctx.Err() == nil {
			n.log.Warn("cluster: listen", "err", err)
		}
	})
}

func (n *Node) listenOn(ctx context.Context, conn *pgx.Conn) error {
	for _, ch := range []string{n.chanEvents, n.chanCall, n.chanDone, n.chanRelay} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	// Anything finished while this node was not listening.
	n.wakeAll()
	for {
		note, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch note.Channel {
		case n.chanEvents:
			var head struct {
				Node string `json:"node"`
			}
			if json.Unmarshal([]byte(note.Payload), &head) != nil || head.Node == n.opt.ID {
				continue
			}
			n.mu.Lock()
			f := n.onEvent
			n.mu.Unlock()
			if f != nil {
				f([]byte(note.Payload))
			}
		case n.chanCall:
			bgloop.Wake(n.kick)
		case n.chanRelay:
			n.received(ctx, note.Payload)
		case n.chanDone:
			id, _ := strconv.ParseInt(note.Payload, 10, 64)
			n.mu.Lock()
			if w, ok := n.waiters[id]; ok {
				close(w)
				delete(n.waiters, id)
			}
			n.mu.Unlock()
		}
	}
}

func (n *Node) wakeAll() {
	n.mu.Lock()
	for id, w := range n.waiters {
		close(w)
		delete(n.waiters, id)
	}
	n.mu.Unlock()
}

// Publish sends an event to the other nodes. payload must be a JSON object;
// the node's ID is added so a node ignores its own events.
func (n *Node) Publish(ctx context.Context, payload map[string]string) error {
	payload["node"] = n.opt.ID
	b, _ := json.Marshal(payload)
	_, err := n.db.Exec(ctx, "SELECT pg_notify(?, ?)", n.chanEvents, string(b))
	return err
}

// RemoteError is an error returned by a call the leader ran.
type RemoteError struct {
	Code, Message string
}

func (e *RemoteError) Error() string { return e.Message }

// ErrNoLeader is returned when no leader answered a call in time.
var ErrNoLeader = errors.New("cluster: no node answered for the assignment engine in time")

// Call runs method on the leader and decodes its result into out (which may
// be nil). It waits up to CallTimeout, across a leader change.
func (n *Node) Call(ctx context.Context, method string, args any, out any) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, n.opt.CallTimeout)
	defer cancel()
	var id int64
	if err := n.db.QueryRow(ctx, "INSERT INTO engine_call (method, args, node, created_at) VALUES (?, ?, ?, ?) RETURNING id",
		method, string(raw), n.opt.ID, db.Now(time.Now())).Scan(&id); err != nil {
		return fmt.Errorf("forward %s: %w", method, err)
	}
	w := make(chan struct{})
	n.mu.Lock()
	n.waiters[id] = w
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(n.waiters, id)
		n.mu.Unlock()
	}()
	_, _ = n.db.Exec(ctx, "SELECT pg_notify(?, ?)", n.chanCall, strconv.FormatInt(id, 10))
	for {
		var done, result, code, msg string
		err := n.db.QueryRow(ctx, "SELECT done_at, result, error_code, error FROM engine_call WHERE id = ?", id).Scan(&done, &result, &code, &msg)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("forward %s: %w", method, ErrNoLeader)
			}
			return fmt.Errorf("forward %s: %w", method, err)
		}
		if done != "" {
			if msg != "" {
				return &RemoteError{Code: code, Message: msg}
			}
			if out != nil && result != "" {
				return json.Unmarshal([]byte(result), out)
			}
			return nil
		}
		t := time.NewTimer(n.opt.PollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("forward %s: %w", method, ErrNoLeader)
		case <-w:
			w = make(chan struct{}) // re-armed only by the poll from here on
		case <-t.C:
		}
		t.Stop()
	}
}

// serveCalls runs forwarded calls while this node leads.
func (n *Node) serveCalls(ctx context.Context) {
	t := time.NewTicker(n.opt.PollEvery)
	defer t.Stop()
	lastPurge := time.Time{}
	for {
		if err := n.runPending(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("cluster: forwarded calls", "err", err)
		}
		if time.Since(lastPurge) > time.Minute {
			lastPurge = time.Now()
			_, _ = n.db.Exec(ctx, "DELETE FROM engine_call WHERE created_at < ?", db.Now(time.Now().Add(-time.Hour)))
		}
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
		case <-t.C:
		}
	}
}

func (n *Node) runPending(ctx context.Context) error {
	// Calls older than the callers' timeout have been given up on.
	oldest := db.Now(time.Now().Add(-n.opt.CallTimeout))
	rows, err := n.db.Query(ctx, "SELECT id, method, args FROM engine_call WHERE claimed_by = '' AND created_at >= ? ORDER BY id LIMIT 100", oldest)
	if err != nil {
		return err
	}
	type call struct {
		id           int64
		method, args string
	}
	var calls []call
	for rows.Next() {
		var c call
		if err := rows.Scan(&c.id, &c.method, &c.args); err != nil {
			rows.Close()
			return err
		}
		calls = append(calls, c)
	}
	rows.Close()
	n.mu.Lock()
	h, codeOf := n.handler, n.codeOf
	n.mu.Unlock()
	for _, c := range calls {
		res, err := n.db.Exec(ctx, "UPDATE engine_call SET claimed_by = ? WHERE id = ? AND claimed_by = ''", n.opt.ID, c.id)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			continue
		}
		var out any
		var herr error
		if h == nil {
			herr = errors.New("cluster: no handler")
		} else {
			out, herr = h(ctx, c.method, json.RawMessage(c.args))
		}
		var result, code, msg string
		if herr != nil {
			msg = herr.Error()
			if codeOf != nil {
				code = codeOf(herr)
			}
		} else if out != nil {
			b, _ := json.Marshal(out)
			result = string(b)
		}
		if _, err := n.db.Exec(ctx, "UPDATE engine_call SET done_at = ?, result = ?, error_code = ?, error = ? WHERE id = ?",
			db.Now(time.Now()), result, code, msg, c.id); err != nil {
			return err
		}
		_, _ = n.db.Exec(ctx, "SELECT pg_notify(?, ?)", n.chanDone, strconv.FormatInt(c.id, 10))
	}
	return nil
}
