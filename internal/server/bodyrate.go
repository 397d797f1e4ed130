package server

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Request body pacing: a body must keep arriving at MinBodyRate on average
// after a grace period, so a client announcing 2 GB and sending 1 KB is
// answered 408 within seconds instead of holding a connection (and a STOW
// handler) forever. Requests without a body (SSE streams, downloads) get no
// deadline; idle keep-alive connections end by http.Server.IdleTimeout.
const (
	MinBodyRate = 32 << 10 // bytes per second
	bodyGrace   = 10 * time.Second
	bodySlack   = 64 << 10 // bytes a client may be "behind" at any moment
)

// paceBodies wraps h: each read of a request body extends the connection's
// read deadline by what the bytes received so far earn at MinBodyRate.
func paceBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		pb := &pacedBody{rc: rc, body: r.Body, start: time.Now()}
		if err := pb.extend(); err != nil {
			// The connection cannot take deadlines (HTTP/2 stream via a
			// wrapper that does not support it): serve unpaced.
			h.ServeHTTP(w, r)
			return
		}
		r.Body = pb
		tw := &timeoutWriter{ResponseWriter: w, body: pb}
		h.ServeHTTP(tw, r)
		// What the handler left unread is drained by net/http (small rests)
		// before the next request; bound that too.
		_ = rc.SetReadDeadline(time.Now().Add(bodyGrace))
	})
}

type pacedBody struct {
	rc       *http.ResponseController
	body     io.ReadCloser
	start    time.Time
	n        int64
	timedOut atomic.Bool
}

func (b *pacedBody) extend() error {
	earned := time.Duration(float64(b.n+bodySlack) / MinBodyRate * float64(time.Second))
	return b.rc.SetReadDeadline(b.start.Add(bodyGrace + earned))
}

func (b *pacedBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.n += int64(n)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		b.timedOut.Store(true)
		return n, err
	}
	if n > 0 {
		_ = b.extend()
	}
	return n, err
}

func (b *pacedBody) Close() error { return b.body.Close() }

// timeoutWriter answers 408 instead of whatever the handler makes of a
// body that stopped arriving (a multipart parser's "unexpected EOF").
type timeoutWriter struct {
	http.ResponseWriter
	body     *pacedBody
	replaced bool
}

func (w *timeoutWriter) WriteHeader(code int) {
	if w.replaced {
		return
	}
	if w.body.timedOut.Load() {
		w.replaced = true
		w.Header().Del("Content-Length")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Connection", "close")
		w.ResponseWriter.WriteHeader(http.StatusRequestTimeout)
		_, _ = w.ResponseWriter.Write([]byte(`{"error":"the request body arrived too slowly"}` + "\n"))
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *timeoutWriter) Write(p []byte) (int, error) {
	if !w.replaced && w.body.timedOut.Load() {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *timeoutWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes through for handlers that stream a response to a body.
func (w *timeoutWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.replaced {
		f.Flush()
	}
}
