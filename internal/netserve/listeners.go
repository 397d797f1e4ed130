package netserve

import (
	"net"
	"sync"
)

// Listeners is the set of listeners a server accepts on, so that its Close
// and Shutdown stop them all, including one whose Serve starts while they
// run. The zero value is ready.
type Listeners struct {
	mu     sync.Mutex
	set    map[net.Listener]struct{}
	closed bool
}

// Add registers l for Close. It reports false, leaving l alone, when Close
// has already run.
func (ls *Listeners) Add(l net.Listener) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.closed {
		return false
	}
	if ls.set == nil {
		ls.set = map[net.Listener]struct{}{}
	}
	ls.set[l] = struct{}{}
	return true
}

// Remove unregisters l and closes it.
func (ls *Listeners) Remove(l net.Listener) {
	ls.mu.Lock()
	delete(ls.set, l)
	ls.mu.Unlock()
	_ = l.Close()
}

// Close closes every registered listener; later Adds are refused.
func (ls *Listeners) Close() {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.closed = true
	for l := range ls.set {
		_ = l.Close()
	}
}
