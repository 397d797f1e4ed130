// Package cluster lets several identical nodes share one PostgreSQL
// database: it elects the one node that runs the assignment engine, carries
// worklist events between nodes, and forwards engine calls made on other
// nodes to the leader.
//
// Leadership is a session-level advisory lock, pg_try_advisory_lock(LockKey, hashtext(schema)),
// held on a connection opened for nothing else. The lock lives exactly as
// long as that session: a leader that is killed, loses its network or
// stops closes the session and PostgreSQL releases the lock at once, so a
// follower (trying every PollEvery) takes over within about a second plus
// the time to rebuild the engine from the database. A leader pings its
// connection every PollEvery and steps down (stops its engine) the moment
// a ping fails, before a follower can have taken over for longer than that.
//
// Events go over LISTEN/NOTIFY on a second dedicated connection per node,
// channel "lightbox_events" (suffixed with the schema unless it is public); payloads carry identifiers and codes only, never
// patient data (NOTIFY payloads are visible to every database session).
// Engine calls made on a follower are rows in engine_call (this package owns
// the table): the caller inserts one and notifies "lightbox_call", the
// leader runs it and notifies "lightbox_done"; both sides also poll, so a
// lost notification only costs latency. SQLite has one node, which always
// leads; this package is then not used.
//
// Live events of the colleagues' features (a consult's chat, the shared
// viewer, WebRTC signalling, the reading room's channel) are relayed the
// same way (Node.Relay, channel "lightbox_relay"): the sender stores the
// message in live_relay, kept one minute (RelayTTL), and NOTIFYs only its
// row id; every other node reads it by id and hands it to its own
// subscribers, so the two sides of a consult may be on different nodes.
package cluster
