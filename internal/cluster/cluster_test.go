package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/testwait"
)

type testNode struct {
	*Node
	mu     sync.Mutex
	events []map[string]string
	leads  int
}

func startNode(t *testing.T, url string) *testNode { return startNodeTB(t, url) }

func startNodeTB(t testing.TB, url string) *testNode {
	t.Helper()
	d, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	n, err := New(d, url, Options{PollEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{Node: n}
	n.Start(func(ctx context.Context, ready func()) {
		ready()
		tn.mu.Lock()
		tn.leads++
		tn.mu.Unlock()
		<-ctx.Done()
	}, func(p []byte) {
		var m map[string]string
		_ = json.Unmarshal(p, &m)
		tn.mu.Lock()
		tn.events = append(tn.events, m)
		tn.mu.Unlock()
	}, func(ctx context.Context, method string, args json.RawMessage) (any, error) {
		if method == "fail" {
			return nil, errors.New("refused")
		}
		return map[string]string{"leader": n.ID(), "args": string(args)}, nil
	}, func(error) string { return "refused_code" })
	t.Cleanup(n.Close)
	return tn
}

func leaders(ns ...*testNode) (out []*testNode) {
	for _, n := range ns {
		if n.Leader() {
			out = append(out, n)
		}
	}
	return out
}

// postgresURL is a fresh database of the test PostgreSQL (skipped without).
func postgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(dbtest.PostgresEnv)
	if base == "" {
		t.Skip(dbtest.PostgresEnv + " not set")
	}
	_, url := dbtest.PostgresURL(t, base)
	return url
}

func TestElectionCallsEvents(t *testing.T) {
	url := postgresURL(t)
	a, b, c := startNode(t, url), startNode(t, url), startNode(t, url)
	testwait.Until(t, 20*time.Second, "a leader", func() bool { return len(leaders(a, b, c)) == 1 })
	// Exactly one, and it stays one.
	time.Sleep(300 * time.Millisecond)
	ls := leaders(a, b, c)
	if len(ls) != 1 {
		t.Fatalf("%d leaders", len(ls))
	}
	lead := ls[0]
	var follower *testNode
	for _, n := range []*testNode{a, b, c} {
		if n != lead {
			follower = n
		}
	}

	var out map[string]string
	if err := follower.Call(context.Background(), "echo", map[string]int{"x": 1}, &out); err != nil {
		t.Fatal(err)
	}
	if out["leader"] != lead.ID() || out["args"] != `{"x":1}` {
		t.Fatalf("call answered %v", out)
	}
	var re *RemoteError
	if err := follower.Call(context.Background(), "fail", nil, nil); !errors.As(err, &re) || re.Code != "refused_code" {
		t.Fatalf("remote error = %v", err)
	}

	if err := follower.Publish(context.Background(), map[string]string{"kind": "assign", "study_uid": "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*testNode{a, b, c} {
		got := func() int {
			n.mu.Lock()
			defer n.mu.Unlock()
			return len(n.events)
		}
		if n == follower {
			continue
		}
		testwait.Until(t, 20*time.Second, "the event on another node", func() bool { return got() == 1 })
	}
	follower.mu.Lock()
	if len(follower.events) != 0 {
		t.Errorf("a node received its own event")
	}
	follower.mu.Unlock()

	// The leader goes away: another takes over, and calls reach it.
	lead.Close()
	testwait.Until(t, 20*time.Second, "a new leader", func() bool { return len(leaders(a, b, c)) == 1 && !lead.Leader() })
	next := leaders(a, b, c)[0]
	var caller *testNode
	for _, n := range []*testNode{a, b, c} {
		if n != lead && n != next {
			caller = n
		}
	}
	if err := caller.Call(context.Background(), "echo", 2, &out); err != nil || out["leader"] != next.ID() {
		t.Fatalf("call after takeover: %v %v", out, err)
	}
}
