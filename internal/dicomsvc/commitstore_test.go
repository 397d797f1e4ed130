package dicomsvc

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/query"
)

// An acknowledged request survives its process: another process (a
// restarted or a second node) finds it once the same-association grace has
// passed, exactly one of several claimants gets it, a failed delivery is
// retried later, and a delivered one is never handed out again.
func TestCommitRequestsDurableAndClaimedOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		first := newCommitStore(d)
		c := &caller{ae: "MODALITY", facility: "SGH", remote: "10.0.0.7", scope: query.Scope{Facilities: []string{"SGH"}}}
		refs := []commitRef{{"1.2.840.10008.5.1.4.1.1.2", "1.2.3.1"}, {"1.2.840.10008.5.1.4.1.1.2", "1.2.3.2"}}
		pk, err := first.add(ctx, c, "1.2.3.99", "1.2.840.10008.1.2.1", refs)
		if err != nil {
			t.Fatal(err)
		}
		// The acknowledging process "dies" here. Within the grace nobody
		// else takes it.
		nodes := []*commitStore{newCommitStore(d), newCommitStore(d), newCommitStore(d)}
		if due, err := nodes[0].due(ctx, 10); err != nil || len(due) != 0 {
			t.Fatalf("due within the grace: %v %v", due, err)
		}
		age(t, d, pk, "next_attempt_at", -time.Second)
		var wins atomic.Int32
		var got *commitRequest
		var holder *commitStore
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() {
				due, err := n.due(ctx, 10)
				if err != nil {
					t.Error(err)
					return
				}
				for _, p := range due {
					r, ok, err := n.claim(ctx, p)
					if err != nil {
						t.Error(err)
					}
					if ok {
						wins.Add(1)
						got, holder = r, n
					}
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d claims of one request, want 1", wins.Load())
		}
		if got.txn != "1.2.3.99" || got.caller.ae != "MODALITY" || len(got.refs) != 2 || got.refs[1].inst != "1.2.3.2" ||
			!got.caller.scope.AllowsFacility("SGH") || got.caller.scope.AllowsFacility("OTHER") || got.attempts != 1 {
			t.Fatalf("request as reloaded: %+v caller %+v", got, got.caller)
		}
		for _, n := range nodes {
			if _, ok, _ := n.claim(ctx, pk); ok {
				t.Fatal("a claimed request was claimed again")
			}
		}
		// The holder fails to deliver: pending again, after a backoff.
		if left, err := holder.finish(ctx, got, errors.New("peer down")); err != nil || left {
			t.Fatalf("failed delivery: %v %v", left, err)
		}
		if due, _ := holder.due(ctx, 10); len(due) != 0 {
			t.Fatal("retried before its backoff")
		}
		age(t, d, pk, "next_attempt_at", -time.Second)
		r, ok, err := holder.claim(ctx, pk)
		if err != nil || !ok || r.attempts != 2 {
			t.Fatalf("retry claim: %v %v %+v", ok, err, r)
		}
		if left, err := holder.finish(ctx, r, nil); err != nil || !left {
			t.Fatalf("delivered: %v %v", left, err)
		}
		for _, n := range nodes {
			if _, ok, _ := n.claim(ctx, pk); ok {
				t.Fatal("a delivered report was handed out again")
			}
		}
		// A claim held by a node that died lapses.
		pk2, err := first.add(ctx, c, "1.2.3.100", "", refs[:1])
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := first.claim(ctx, pk2); !ok {
			t.Fatal("the acknowledging process could not claim its request")
		}
		age(t, d, pk2, "next_attempt_at", -time.Second)
		if _, ok, _ := nodes[1].claim(ctx, pk2); ok {
			t.Fatal("a live claim was taken over")
		}
		age(t, d, pk2, "claimed_until", -time.Second)
		if _, ok, _ := nodes[1].claim(ctx, pk2); !ok {
			t.Fatal("a lapsed claim was not taken over")
		}
	})
}

func age(t *testing.T, d *db.DB, pk int64, col string, by time.Duration) {
	t.Helper()
	if _, err := d.Exec(context.Background(), "UPDATE stgcmt_request SET "+col+" = ? WHERE pk = ?", db.Now(time.Now().Add(by)), pk); err != nil {
		t.Fatal(err)
	}
}
