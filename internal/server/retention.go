package server

import (
	"context"
	"fmt"
	"os"
	"time"
)

// startRetention runs the retention timer on this node: every node ticks,
// the timer row makes each period run once cluster-wide, and every tick
// drains the blob-deletion queue (internal/retention).
func (s *Server) startRetention(bg context.Context) {
	every := s.cfg.RetentionEvery
	if every < 0 {
		return
	}
	if every == 0 {
		every = 24 * time.Hour
	}
	go s.Retention.Timer(bg, nodeName(), every, min(every, time.Minute))
}

// nodeName names this process in the rows that make a timer fire once
// cluster-wide.
func nodeName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}
