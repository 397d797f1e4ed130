package bgloop

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Poll steps at once, on wake, and reports failures until its context ends.
func TestPoll(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{})
	steps := make(chan int, 10)
	n := 0
	var failures int
	done := make(chan struct{})
	go func() {
		defer close(done)
		Poll(ctx, time.Hour, wake, func(context.Context) error {
			n++
			steps <- n
			return errors.New("step failed")
		}, func(error) { failures++ })
	}()
	if got := <-steps; got != 1 {
		t.Fatalf("first step %d", got)
	}
	wake <- struct{}{}
	if got := <-steps; got != 2 {
		t.Fatalf("woken step %d", got)
	}
	cancel()
	<-done
	if failures < 1 || failures > 2 {
		t.Fatalf("failures = %d, want the steps' (1 or 2: one may end with the context)", failures)
	}
}
