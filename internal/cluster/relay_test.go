package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"lightbox/internal/testwait"
)

// Relayed messages reach every other node, in the order sent, never the
// sender, and the NOTIFY carries no payload.
func TestRelay(t *testing.T) {
	url := postgresURL(t)
	a, b, c := startNode(t, url), startNode(t, url), startNode(t, url)
	var mu sync.Mutex
	got := map[string][]string{}
	for name, n := range map[string]*testNode{"a": a, "b": b, "c": c} {
		n.OnRelay(func(_, topic string, payload []byte) {
			key, entry := name, topic+"="+string(payload)
			if topic == "probe" {
				key, entry = "probe:"+name, ""
			}
			mu.Lock()
			got[key] = append(got[key], entry)
			mu.Unlock()
		})
	}
	// Listening is asynchronous: relay until the first one arrives.
	ctx := context.Background()
	testwait.Until(t, 20*time.Second, "nodes listening", func() bool {
		if err := a.Relay(ctx, "probe", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		return len(got["probe:b"]) > 0 && len(got["probe:c"]) > 0
	})
	var want []string
	for i := range 20 {
		p := fmt.Sprintf(`{"seq":%d}`, i)
		want = append(want, "consult:7="+p)
		if err := a.Relay(ctx, "consult:7", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	testwait.Until(t, 20*time.Second, "all relayed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got["b"]) == len(want) && len(got["c"]) == len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	for _, n := range []string{"b", "c"} {
		for i := range want {
			if got[n][i] != want[i] {
				t.Fatalf("node %s message %d: %q, want %q", n, i, got[n][i], want[i])
			}
		}
	}
	if len(got["a"]) != 0 {
		t.Fatalf("the sender received its own messages: %v", got["a"])
	}
}
