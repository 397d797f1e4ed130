package bgloop

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestStartStop(t *testing.T) {
	var l Loop
	var runs atomic.Int32
	fn := func(ctx context.Context) { runs.Add(1); <-ctx.Done() }
	for i, step := range []struct {
		start bool
		want  bool
	}{{true, true}, {true, false}, {false, false}, {true, true}} {
		if !step.start {
			l.Stop()
			continue
		}
		if got := l.Start(context.Background(), fn); got != step.want {
			t.Fatalf("step %d: Start = %v, want %v", i, got, step.want)
		}
	}
	l.Stop()
	l.Stop() // stopping a stopped loop is harmless
	if n := runs.Load(); n != 2 {
		t.Fatalf("runs = %d, want 2", n)
	}
}
