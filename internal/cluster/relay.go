package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"lightbox/internal/db"
)

// RelayTTL is how long a relayed message stays in live_relay: long enough
// for every listening node to read it after its NOTIFY, short enough that
// the table stays small.
const RelayTTL = time.Minute

// OnRelay sets what receives the messages other nodes Relay (the sending
// node's ID, topic and payload as sent). It may be set before or after
// Start.
func (n *Node) OnRelay(f func(node, topic string, payload []byte)) {
	n.mu.Lock()
	n.onRelay = f
	n.mu.Unlock()
}

// Relay hands a message to every other node's OnRelay. The payload goes
// into live_relay and only its row id (and this node's) into the NOTIFY,
// since NOTIFY payloads are visible to every session and limited in size.
// Messages from one sender arrive in the order sent.
func (n *Node) Relay(ctx context.Context, topic string, payload []byte) error {
	now := time.Now()
	var id int64
	if err := n.db.QueryRow(ctx, "INSERT INTO live_relay (node, topic, payload, created_at) VALUES (?, ?, ?, ?) RETURNING id",
		n.opt.ID, topic, string(payload), db.Now(now)).Scan(&id); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	b, _ := json.Marshal(relayNote{Node: n.opt.ID, ID: id})
	if _, err := n.db.Exec(ctx, "SELECT pg_notify(?, ?)", n.chanRelay, string(b)); err != nil {
		return fmt.Errorf("relay notify: %w", err)
	}
	if last := n.relayPurged.Load(); now.Unix()-last >= int64(RelayTTL/time.Second) && n.relayPurged.CompareAndSwap(last, now.Unix()) {
		if _, err := n.db.Exec(ctx, "DELETE FROM live_relay WHERE created_at < ?", db.Now(now.Add(-RelayTTL))); err != nil {
			n.log.Warn("cluster: relay purge", "err", err)
		}
	}
	return nil
}

type relayNote struct {
	Node string `json:"node"`
	ID   int64  `json:"id"`
}

// received reads a relayed message by id and hands it on; in the listen
// loop, so one sender's messages keep their order.
func (n *Node) received(ctx context.Context, note string) {
	var rn relayNote
	if json.Unmarshal([]byte(note), &rn) != nil || rn.Node == n.opt.ID {
		return
	}
	n.mu.Lock()
	f := n.onRelay
	n.mu.Unlock()
	if f == nil {
		return
	}
	var topic, payload string
	if err := n.db.QueryRow(ctx, "SELECT topic, payload FROM live_relay WHERE id = ?", rn.ID).Scan(&topic, &payload); err != nil {
		n.log.Warn("cluster: relayed message", "id", strconv.FormatInt(rn.ID, 10), "err", err)
		return
	}
	f(rn.Node, topic, []byte(payload))
}
