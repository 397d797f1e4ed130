package consult

import (
	"encoding/json"
	"slices"
	"testing"
)

// Two hubs joined by their Relay, as two nodes are: an event published on
// one reaches the other's subscribers (never back to its sender), and each
// lists the other's subscribers as present until they leave.
func TestHubRelay(t *testing.T) {
	var a, b Hub
	a.Relay = func(topic string, p []byte) { b.Deliver(topic, p) }
	b.Relay = func(topic string, p []byte) { a.Deliver(topic, p) }
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
