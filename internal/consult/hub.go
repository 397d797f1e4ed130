package consult

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Presence of other nodes' subscribers is kept as each node's own claim:
// every node relays a snapshot of its subscribers every AnnounceEvery, and
// a node not heard from for RemoteTTL (three snapshots missed: it died, or
// lost its database) is dropped, with everyone it had listed. Join and
// leave events keep the lists current between snapshots.
const (
	AnnounceEvery = 15 * time.Second
	RemoteTTL     = 3 * AnnounceEvery
)

// kindAlive is the hub-to-hub snapshot; subscribers never see it.
const kindAlive = "alive"

// Event is one live event on a topic (a consult, a visit, the group
// channel): a chat message, an opinion, the presenter's viewport, the
// pointer, a change of control, or a WebRTC signalling message (offer,
// answer, ICE candidate) addressed To one participant.
type Event struct {
	Kind string          `json:"kind"`
	From string          `json:"from"`
	To   string          `json:"to,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Hub relays events to the subscribers of a topic. It keeps nothing: what
// must last (messages, opinions) is stored before it is published.
type Hub struct {
	// Relay, when set (several nodes), carries each published event to the
	// other nodes, which Deliver it to their own subscribers: the two sides
	// of a consult may be served by different nodes.
	Relay func(topic string, payload []byte)

	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time

	mu   sync.Mutex
	subs map[string]map[chan Event]string // topic -> channel -> subscriber
	// remote holds other nodes' subscribers, by node.
	remote map[string]*remoteNode
}

// remoteNode is what one other node last said of its subscribers.
type remoteNode struct {
	heard  time.Time
	topics map[string]map[string]int // topic -> subscriber -> streams
}

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Subscribe streams a topic's events addressed to who (or to everyone).
// A subscriber that falls 64 events behind is dropped (its channel closes)
// and reconnects.
func (h *Hub) Subscribe(topic, who string) (<-chan Event, func()) {
	ch := make(chan Event, 64)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[string]map[chan Event]string{}
	}
	if h.subs[topic] == nil {
		h.subs[topic] = map[chan Event]string{}
	}
	h.subs[topic][ch] = who
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[topic][ch]; ok {
			delete(h.subs[topic], ch)
			close(ch)
		}
		if len(h.subs[topic]) == 0 {
			delete(h.subs, topic)
		}
	}
}

// Publish sends ev to the topic's subscribers: to ev.To alone when set,
// never back to its sender.
func (h *Hub) Publish(topic string, ev Event) {
	h.deliver(topic, ev)
	if h.Relay != nil {
		b, _ := json.Marshal(ev)
		h.Relay(topic, b)
	}
}

// Deliver hands an event another node (named node) published through
// Relay to this node's subscribers.
func (h *Hub) Deliver(node, topic string, payload []byte) {
	var ev Event
	if json.Unmarshal(payload, &ev) != nil {
		return
	}
	h.mu.Lock()
	if h.remote == nil {
		h.remote = map[string]*remoteNode{}
	}
	rn := h.remote[node]
	if rn == nil {
		rn = &remoteNode{topics: map[string]map[string]int{}}
		h.remote[node] = rn
	}
	rn.heard = h.now()
	switch ev.Kind {
	case kindAlive:
		var snap map[string]map[string]int
		if json.Unmarshal(ev.Data, &snap) == nil {
			rn.topics = snap
			if rn.topics == nil {
				rn.topics = map[string]map[string]int{}
			}
		}
		h.mu.Unlock()
		return
	case "join":
		if rn.topics[topic] == nil {
			rn.topics[topic] = map[string]int{}
		}
		rn.topics[topic][ev.From]++
	case "leave":
		// A topic this node never heard joined (nil map) has none to count down.
		if n := rn.topics[topic][ev.From] - 1; n > 0 {
			rn.topics[topic][ev.From] = n
		} else {
			delete(rn.topics[topic], ev.From)
		}
		if len(rn.topics[topic]) == 0 {
			delete(rn.topics, topic)
		}
	}
	h.mu.Unlock()
	h.deliver(topic, ev)
}

// Announce relays a snapshot of this node's subscribers to the other
// nodes (see AnnounceEvery).
func (h *Hub) Announce() {
	if h.Relay == nil {
		return
	}
	h.mu.Lock()
	snap := map[string]map[string]int{}
	for topic, chans := range h.subs {
		for _, who := range chans {
			if snap[topic] == nil {
				snap[topic] = map[string]int{}
			}
			snap[topic][who]++
		}
	}
	h.mu.Unlock()
	data, _ := json.Marshal(snap)
	b, _ := json.Marshal(Event{Kind: kindAlive, Data: data})
	h.Relay("", b)
}

// Announcing calls Announce every AnnounceEvery until ctx ends.
func (h *Hub) Announcing(ctx context.Context) {
	t := time.NewTicker(AnnounceEvery)
	defer t.Stop()
	for {
		h.Announce()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *Hub) deliver(topic string, ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch, who := range h.subs[topic] {
		if (ev.To != "" && who != ev.To) || (who == ev.From && ev.Kind != "message" && ev.Kind != "opinion") {
			continue
		}
		select {
		case ch <- ev:
		default:
			delete(h.subs[topic], ch)
			close(ch)
		}
	}
}

// Present lists who is subscribed to a topic, on this node or another.
func (h *Hub) Present(topic string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	out := []string{}
	add := func(who string) {
		if !seen[who] {
			seen[who] = true
			out = append(out, who)
		}
	}
	for _, who := range h.subs[topic] {
		add(who)
	}
	for node, rn := range h.remote {
		if h.now().Sub(rn.heard) > RemoteTTL {
			delete(h.remote, node)
			continue
		}
		for who := range rn.topics[topic] {
			add(who)
		}
	}
	return out
}
