package api

import (
	"fmt"
	"net/http"
	"time"
)

// serveSSE streams ch as Server-Sent Events (HTML Living Standard §9.2),
// each named by event(v), with a keep-alive comment every 20 s, until the
// client goes or ch closes (a subscriber that fell behind: the client
// reconnects after retry and refetches).
func serveSSE[T any](w http.ResponseWriter, r *http.Request, ch <-chan T, retry time.Duration, event func(T) string) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: %d\n\n", retry.Milliseconds())
	fl.Flush()
	keep := time.NewTicker(20 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		case v, ok := <-ch:
			if !ok {
				return
			}
			b, _ := jsonMarshal(v)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event(v), b)
			fl.Flush()
		}
	}
}
