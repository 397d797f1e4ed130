package event

import (
	"context"
	"errors"
	"sync"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

type payload struct {
	N int `json:"n"`
}

// An event exists exactly when the change that publishes it commits; it is
// handled at least once, in order, and retried after a failure.
func TestPublishDrainRetry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		b := &Bus{DB: d}
		var mu sync.Mutex
		var got []int
		fail := true
		b.Handle("test.x", func(ctx context.Context, e Event) error {
			var p payload
			if err := e.Decode(&p); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if p.N == 2 && fail {
				fail = false
				return errors.New("peer down")
			}
			got = append(got, p.N)
			return nil
		})
		for _, tc := range []struct {
			n        int
			rollback bool
		}{{1, false}, {2, false}, {3, true}, {4, false}} {
			err := d.InTx(ctx, func(tx *db.Tx) error {
				if err := Publish(ctx, tx, "test.x", "s", payload{N: tc.n}); err != nil {
					return err
				}
				if tc.rollback {
					return errors.New("the change failed")
				}
				return nil
			})
			if (err != nil) != tc.rollback {
				t.Fatalf("publish %d: %v", tc.n, err)
			}
		}
		if err := Publish(ctx, d, "other.kind", "s", payload{}); err != nil { // no handler here: waits
			t.Fatal(err)
		}
		n, err := b.Drain(ctx)
		if err != nil || n != 2 {
			t.Fatalf("first drain handled %d (%v), want 2 (event 2 failed once)", n, err)
		}
		// The failed event is due again after its backoff.
		if _, err := d.Exec(ctx, "UPDATE domain_event SET next_attempt_at = ? WHERE done_at = '' AND kind = 'test.x'", "2000-01-01T00:00:00.000Z"); err != nil {
			t.Fatal(err)
		}
		if n, err := b.Drain(ctx); err != nil || n != 1 {
			t.Fatalf("second drain handled %d (%v)", n, err)
		}
		if n, _ := b.Drain(ctx); n != 0 {
			t.Fatalf("handled again: %d", n)
		}
		if len(got) != 3 || got[0] != 1 || got[1] != 4 || got[2] != 2 {
			t.Fatalf("handled %v, want [1 4 2] (3 was rolled back)", got)
		}
		var pending, attempts int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM domain_event WHERE done_at = ''").Scan(&pending); err != nil || pending != 1 {
			t.Fatalf("pending %d (%v), want the unhandled kind only", pending, err)
		}
		if err := d.QueryRow(ctx, "SELECT attempts FROM domain_event WHERE payload = ?", `{"n":2}`).Scan(&attempts); err != nil || attempts != 2 {
			t.Fatalf("attempts %d (%v)", attempts, err)
		}
	})
}
