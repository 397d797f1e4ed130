package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"lightbox/internal/bgloop"
	"lightbox/internal/db"
)

// Group commit.
//
// Each append used to be its own write transaction: on SQLite with
// synchronous=FULL that is a WAL fsync, and the signed head file another,
// about 1.2 ms per event on this project's test machine — most of a C-FIND
// (bench/README.md, DIMSE). Once Start has run, events go through one
// committer goroutine that appends every event waiting in a single
// transaction and writes the head once, so concurrent accesses share the
// fsyncs:
//
//   - Record still returns only after its event is committed (a waiter
//     in the batch), so a caller that must refuse on failure still can.
//   - Submit returns once the event is queued, so a read is answered
//     while its record commits. The queue is bounded: when the database
//     cannot keep up (or fails), Submit blocks, so reads slow down rather
//     than go unaudited; a failed batch is retried, never dropped.
//   - Close stops intake and commits everything queued: a clean shutdown
//     loses nothing.
//
// The crash window: an event Submit accepted is lost if the process dies
// (killed, power lost) before its batch commits — the time of one
// transaction plus the queue ahead of it, a few milliseconds at normal
// load. The response it audits may have reached the peer in that window.
// Record has no window.

// DefaultQueue is the queue length Start uses for n <= 0.
const DefaultQueue = 4096

// maxBatch bounds the events of one transaction (and so how long the
// chain's lock is held on PostgreSQL).
const maxBatch = 256

type pending struct {
	e     Event
	done  chan error    // nil for Submit
	flush chan struct{} // a Flush marker: closed once what precedes it commits
}

// committer is the state of a started Logger.
type committer struct {
	queue   chan pending
	stopped chan struct{}
	log     *slog.Logger
}

// Start begins group-committing Record and Submit. queue bounds the
// events waiting (DefaultQueue when <= 0). log receives failed-commit
// reports (no PHI: event codes and errors); nil discards them.
func (l *Logger) Start(queue int, log *slog.Logger) {
	if queue <= 0 {
		queue = DefaultQueue
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &committer{queue: make(chan pending, queue), stopped: make(chan struct{}), log: log}
	l.c.Store(c)
	go l.run(c)
}

// Submit queues e and returns without waiting for its commit (see the
// crash window above). Before Start, or after Close, it records e
// synchronously. It fails only for an invalid event.
func (l *Logger) Submit(ctx context.Context, e Event) error {
	c := l.c.Load()
	if c == nil {
		return l.Record(ctx, e)
	}
	if err := e.normalize(ms(l.now())); err != nil {
		return err
	}
	return l.enqueue(ctx, c, pending{e: e}, true)
}

// enqueue puts p on c's queue and, for a Record, waits for its commit.
// When c has closed meanwhile (Close has committed the queue), p is
// recorded directly.
func (l *Logger) enqueue(ctx context.Context, c *committer, p pending, async bool) (err error) {
	defer func() {
		if recover() != nil {
			if p.flush != nil {
				close(p.flush)
				return
			}
			_, err = l.recordNow(ctx, p.e)
		}
	}()
	select {
	case c.queue <- p:
	case <-ctx.Done():
		if !async {
			return ctx.Err()
		}
		// The access happened: queue its record regardless of the request.
		c.queue <- p
	}
	if p.done == nil {
		return nil
	}
	return <-p.done
}

// Flush waits until every event queued before it is committed.
func (l *Logger) Flush(ctx context.Context) error {
	c := l.c.Load()
	if c == nil {
		return nil
	}
	done := make(chan struct{})
	if err := l.enqueue(ctx, c, pending{flush: done}, false); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-c.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops intake and commits what is queued; later events are
// recorded synchronously. It returns an error when ctx ends first, and the
// events still queued are then committed in the background.
func (l *Logger) Close(ctx context.Context) error {
	c := l.c.Swap(nil)
	if c == nil {
		return nil
	}
	close(c.queue)
	select {
	case <-c.stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit: %d queued events not yet committed at shutdown: %w", len(c.queue), ctx.Err())
	}
}

// run is the committer: it takes what is queued (up to maxBatch), commits
// it as one transaction, and repeats until the queue is closed and empty.
func (l *Logger) run(c *committer) {
	defer close(c.stopped)
	for {
		p, ok := <-c.queue
		if !ok {
			return
		}
		l.commit(c, bgloop.Batch(c.queue, p, maxBatch))
	}
}

// commit appends batch in one transaction, then tells waiters and closes
// flush markers. An invalid event fails alone. A failed transaction fails
// the synchronous callers in it (they refuse the access) and is retried
// with backoff for the queued events, which are never dropped.
func (l *Logger) commit(c *committer, batch []pending) {
	ctx := context.Background()
	for i := range batch {
		p := &batch[i]
		if p.flush == nil && p.e.PatientID == "" && len(p.e.StudyUIDs) > 0 && l.PatientOf != nil {
			if iss, pid, ok := l.PatientOf(ctx, p.e.StudyUIDs[0]); ok {
				p.e.PatientIssuer, p.e.PatientID = iss, pid
			}
		}
	}
	wait := 10 * time.Millisecond
	for {
		var last Event
		bad := map[int]error{}
		err := l.DB.InTx(ctx, func(tx *db.Tx) error {
			clear(bad)
			last = Event{}
			for i, p := range batch {
				if p.flush != nil {
					continue
				}
				ev, err := l.RecordTx(ctx, tx, p.e)
				var ie *invalidEvent
				switch {
				case errors.As(err, &ie):
					bad[i] = err
				case err != nil:
					return err
				default:
					last = ev
				}
			}
			return nil
		})
		if err == nil {
			// Committed: a head file that cannot be written is reported,
			// not retried (that would append the events twice).
			var herr error
			if last.Seq > 0 {
				if herr = l.Keying.advance(last.Seq, last.Hash); herr != nil {
					c.log.Error("audit: signed head not written", "err", herr)
				}
			}
			for i, p := range batch {
				switch {
				case p.flush != nil:
					close(p.flush)
				case p.done != nil && bad[i] != nil:
					p.done <- bad[i]
				case p.done != nil:
					p.done <- herr
				}
			}
			return
		}
		c.log.Error("audit: group commit failed; retrying", "events", len(batch), "err", err)
		kept := batch[:0]
		for _, p := range batch {
			if p.done != nil {
				p.done <- err
				continue
			}
			kept = append(kept, p)
		}
		if batch = kept; len(batch) == 0 {
			return
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}
