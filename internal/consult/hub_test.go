package consult

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// Two hubs joined by their Relay, as two nodes are: an event published on
// one reaches the other's subscribers (never back to its sender), and each
// lists the other's subscribers as present until they leave.
func TestHubRelay(t *testing.T) {
	var a, b Hub
	a.Relay = func(topic string, p []byte) { b.Deliver("a", topic, p) }
	b.Relay = func(topic string, p []byte) { a.Deliver("b", topic, p) }
	onB, stopB := b.Subscribe("consult:1", "dr.bravo")
	b.Publish("consult:1", Event{Kind: "join", From: "dr.bravo"})
	onA, stopA := a.Subscribe("consult:1", "dr.alpha")
	defer stopA()
	if got := a.Present("consult:1"); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"dr.alpha", "dr.bravo"}) {
		t.Fatalf("present on A: %v", got)
	}
	a.Publish("consult:1", Event{Kind: "view", From: "dr.alpha", Data: json.RawMessage(`{"index":3}`)})
	if ev := <-onB; ev.Kind != "view" || string(ev.Data) != `{"index":3}` {
		t.Fatalf("B received %+v", ev)
	}
	if len(onA) != 0 {
		t.Fatal("the sender received its own view")
	}
	stopB()
	b.Publish("consult:1", Event{Kind: "leave", From: "dr.bravo"})
	if ev := <-onA; ev.Kind != "leave" {
		t.Fatalf("A received %+v", ev)
	}
	if got := a.Present("consult:1"); !slices.Equal(got, []string{"dr.alpha"}) {
		t.Fatalf("present on A after leaving: %v", got)
	}
}

// A node that dies cannot say its participants left: the others list them
// only while the node keeps announcing itself, and its snapshot replaces
// whatever join or leave was lost on the way.
func TestHubForgetsSilentNode(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var a, b Hub
	a.Now = func() time.Time { return now }
	a.Relay = func(topic string, p []byte) { b.Deliver("a", topic, p) }
	b.Relay = func(topic string, p []byte) { a.Deliver("b", topic, p) }
	_, stopB := b.Subscribe("consult:1", "dr.bravo")
	defer stopB()
	b.Publish("consult:1", Event{Kind: "join", From: "dr.bravo"})
	now = now.Add(RemoteTTL - time.Second)
	if got := a.Present("consult:1"); !slices.Equal(got, []string{"dr.bravo"}) {
		t.Fatalf("present before the deadline: %v", got)
	}
	now = now.Add(2 * time.Second)
	if got := a.Present("consult:1"); len(got) != 0 {
		t.Fatalf("present after B fell silent: %v", got)
	}
	// B announces itself again: its participant is back, from the snapshot
	// alone (the join was long ago and not repeated).
	b.Announce()
	if got := a.Present("consult:1"); !slices.Equal(got, []string{"dr.bravo"}) {
		t.Fatalf("present after B's snapshot: %v", got)
	}
	// A lost leave is corrected by the next snapshot.
	stopB()
	b.Announce()
	if got := a.Present("consult:1"); len(got) != 0 {
		t.Fatalf("present after B's empty snapshot: %v", got)
	}
}

// A leave can arrive for a topic this node holds nothing of from that
// node (its join went to a node that restarted since, or a snapshot
// already dropped it): it is ignored, and still delivered.
func TestHubLeaveOfUnknownTopic(t *testing.T) {
	var a Hub
	on, stop := a.Subscribe("consult:1", "dr.alpha")
	defer stop()
	p, _ := json.Marshal(Event{Kind: "leave", From: "dr.bravo"})
	a.Deliver("b", "consult:1", p)
	if ev := <-on; ev.Kind != "leave" {
		t.Fatalf("A received %+v", ev)
	}
	if got := a.Present("consult:1"); !slices.Equal(got, []string{"dr.alpha"}) {
		t.Fatalf("present: %v", got)
	}
}
