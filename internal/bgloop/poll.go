package bgloop

import (
	"context"
	"time"
)

// Poll runs step at once, then again every period and whenever wake
// receives (a nil wake never does), until ctx ends. An error of step goes
// to failed unless ctx ended meanwhile (a stopping loop is not a failure);
// failed may be nil for a step that never fails.
func Poll(ctx context.Context, every time.Duration, wake <-chan struct{}, step func(context.Context) error, failed func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := step(ctx); err != nil && ctx.Err() == nil {
			failed(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// Wake asks a loop waiting on wake (a channel of capacity one, as Poll
// takes) to step now, without blocking: a wake already pending covers this
// one too.
func Wake(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
