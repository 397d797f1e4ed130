package consult

import (
	"encoding/json"
	"sync"
)

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

	mu   sync.Mutex
	subs map[string]map[chan Event]string // topic -> channel -> subscriber
	// remote counts other nodes' subscribers of a topic, from the join and
	// leave events relayed here (a node that dies leaves its subscribers
	// counted until they join again somewhere and leave).
	remote map[string]map[string]int // topic -> subscriber -> streams
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

// Deliver hands an event another node published (Relay) to this node's
// subscribers.
func (h *Hub) Deliver(topic string, payload []byte) {
	var ev Event
	if json.Unmarshal(payload, &ev) != nil {
		return
	}
	if ev.Kind == "join" || ev.Kind == "leave" {
		h.mu.Lock()
		if h.remote == nil {
			h.remote = map[string]map[string]int{}
		}
		if h.remote[topic] == nil {
			h.remote[topic] = map[string]int{}
		}
		if ev.Kind == "join" {
			h.remote[topic][ev.From]++
		} else if h.remote[topic][ev.From]--; h.remote[topic][ev.From] <= 0 {
			delete(h.remote[topic], ev.From)
		}
		if len(h.remote[topic]) == 0 {
			delete(h.remote, topic)
		}
		h.mu.Unlock()
	}
	h.deliver(topic, ev)
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
	for who := range h.remote[topic] {
		add(who)
	}
	return out
}
