package blob

import (
	"context"
	"io"
	"syscall"
	"time"
)

// Observer receives the duration and outcome of each store operation
// ("create", "commit", "open", "read", "exists", "delete").
type Observer func(op string, d time.Duration, err error)

// Instrumented wraps a Store so each operation is reported to observe
// (metrics: blob store latency and errors, instances written).
func Instrumented(s Store, observe Observer) Store {
	return &instrumented{Store: s, observe: observe}
}

type instrumented struct {
	Store
	observe Observer
}

func (s *instrumented) timed(op string, start time.Time, err error) {
	s.observe(op, time.Since(start), err)
}

func (s *instrumented) Create(ctx context.Context) (Writer, error) {
	start := time.Now()
	w, err := s.Store.Create(ctx)
	s.timed("create", start, err)
	if err != nil {
		return nil, err
	}
	return &instrumentedWriter{Writer: w, s: s}, nil
}

func (s *instrumented) Open(ctx context.Context, key string) (Object, error) {
	start := time.Now()
	o, err := s.Store.Open(ctx, key)
	s.timed("open", start, err)
	if err != nil {
		return nil, err
	}
	w := &instrumentedObject{Object: o, s: s}
	if f, ok := o.(syscall.Conn); ok {
		return &instrumentedFile{instrumentedObject: w, file: f}, nil
	}
	return w, nil
}

func (s *instrumented) Exists(ctx context.Context, key string) (bool, error) {
	start := time.Now()
	ok, err := s.Store.Exists(ctx, key)
	s.timed("exists", start, err)
	return ok, err
}

func (s *instrumented) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := s.Store.Delete(ctx, key)
	s.timed("delete", start, err)
	return err
}

// ObserverOf returns the Observer s reports to, found below other
// wrappers; nil when s is not instrumented. The archive reports through it
// the instances its ingest journal makes durable, which never pass through
// a Writer's Commit.
func ObserverOf(s Store) Observer {
	for {
		if i, ok := s.(*instrumented); ok {
			return i.observe
		}
		u, ok := s.(interface{ Unwrap() Store })
		if !ok {
			return nil
		}
		s = u.Unwrap()
	}
}

// Unwrap returns the instrumented store (to reach backend specifics).
func (s *instrumented) Unwrap() Store { return s.Store }

type instrumentedWriter struct {
	Writer
	s *instrumented
}

func (w *instrumentedWriter) Commit(ctx context.Context, key string) error {
	start := time.Now()
	err := w.Writer.Commit(ctx, key)
	w.s.timed("commit", start, err)
	return err
}

// instrumentedObject times ranged reads (frames); sequential Reads are
// left alone, they are one transfer.
type instrumentedObject struct {
	Object
	s *instrumented
}

func (o *instrumentedObject) ReadAt(p []byte, off int64) (int, error) {
	start := time.Now()
	n, err := o.Object.ReadAt(p, off)
	reported := err
	if err == io.EOF {
		reported = nil // the end of the blob is no store error
	}
	o.s.timed("read", start, reported)
	return n, err
}

// instrumentedFile keeps a folder store's object a syscall.Conn, which
// is how net finds a file to sendfile from (a metrics wrapper must not
// turn sendfile off).
type instrumentedFile struct {
	*instrumentedObject
	file syscall.Conn
}

func (o *instrumentedFile) SyscallConn() (syscall.RawConn, error) { return o.file.SyscallConn() }
