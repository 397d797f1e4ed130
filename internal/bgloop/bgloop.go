package bgloop

import (
	"context"
	"sync"
)

// Loop runs at most one goroutine at a time. The zero value is ready.
type Loop struct {
	mu      sync.Mutex
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
}

// Start runs fn in a new goroutine with a context derived from ctx that
// Stop cancels. It reports false (and does nothing) when the loop is
// already running.
func (l *Loop) Start(ctx context.Context, fn func(ctx context.Context)) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return false
	}
	l.started = true
	ctx, l.cancel = context.WithCancel(ctx)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		fn(ctx)
	}()
	return true
}

// Stop cancels the running loop, if any, and waits for it to return.
func (l *Loop) Stop() {
	l.mu.Lock()
	cancel := l.cancel
	l.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	l.wg.Wait()
	l.mu.Lock()
	l.started = false
	l.mu.Unlock()
}
