package netserve

import (
	"net"
	"sync"
)

// Limit counts holders per peer (remote IP) and in total. The zero value
// (no caps) allows everything; a cap of 0 means unlimited.
type Limit struct {
	Total   int // all peers together
	PerPeer int // one remote IP

	mu    sync.Mutex
	n     int
	peers map[string]int
}

// PeerKey is the remote IP of addr (the port changes with every
// connection, so it never identifies a peer).
func PeerKey(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	if ta, ok := addr.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return h
}

// Acquire takes a slot for peer; release gives it back (once). ok is false
// when a cap is reached.
func (l *Limit) Acquire(peer string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.peers == nil {
		l.peers = map[string]int{}
	}
	if (l.Total > 0 && l.n >= l.Total) || (l.PerPeer > 0 && l.peers[peer] >= l.PerPeer) {
		return func() {}, false
	}
	l.n++
	l.peers[peer]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.n--
			if l.peers[peer]--; l.peers[peer] <= 0 {
				delete(l.peers, peer)
			}
		})
	}, true
}

// Count returns how many slots are held in total and by peer.
func (l *Limit) Count(peer string) (total, byPeer int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n, l.peers[peer]
}

// Listener closes accepted connections over its Limit at once; a slot is
// released when its connection closes.
type Listener struct {
	net.Listener
	Limit *Limit
	// OnRefuse, when set, is told about each refused connection.
	OnRefuse func(remote net.Addr)
}

// Accept returns the next connection within the limit.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		release, ok := l.Limit.Acquire(PeerKey(c.RemoteAddr()))
		if ok {
			return &conn{Conn: c, release: release}, nil
		}
		if l.OnRefuse != nil {
			l.OnRefuse(c.RemoteAddr())
		}
		_ = c.Close()
	}
}

type conn struct {
	net.Conn
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
