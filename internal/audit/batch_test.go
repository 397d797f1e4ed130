package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

// Group commit keeps every property of one-at-a-time appends: one keyed
// chain with its signed head, every event of Submit and Record there
// after Close, Record committed before it returns, an invalid event
// failing alone, and a trail search seeing what was submitted before it.
func TestGroupCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		k := &Keying{Key: DeriveKey([]byte("node secret")), HeadFile: filepath.Join(t.TempDir(), "audit-head.json")}
		l := &Logger{DB: d, SourceID: "node-1", Keying: k, PatientOf: func(context.Context, string) (string, string, bool) {
			return "HOSP", "MRN-OF-STUDY", true
		}}
		l.Start(8, nil) // a short queue, so submitters block on it
		const workers, each = 6, 40
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					e := QueryEvent(bob, "", "", fmt.Sprintf("C-FIND w%d-%d", w, i))
					if i%5 == 0 {
						// Record waits for its commit: its row is there.
						e = AccessEvent(alice, Read, "", "", studyA1)
						e.Detail = fmt.Sprintf("w%d-%d", w, i)
						if err := l.Record(ctx, e); err != nil {
							errs <- err
							continue
						}
						if n := dbtest.Count(t, d, `SELECT COUNT(*) FROM audit_event WHERE detail = ?`, e.Detail); n != 1 {
							errs <- fmt.Errorf("recorded %s: %d rows", e.Detail, n)
						}
						continue
					}
					errs <- l.Submit(ctx, e)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// An invalid event fails alone, in its caller.
		if err := l.Record(ctx, Event{EventID: Query, Action: "X", UserID: "u"}); err == nil {
			t.Fatal("invalid event recorded")
		}
		// A search first waits for the queue: every submitted event is seen.
		mustSubmit := func(detail string) {
			if err := l.Submit(ctx, QueryEvent(bob, "", "", detail)); err != nil {
				t.Fatal(err)
			}
		}
		mustSubmit("just before the search")
		page, err := l.Search(ctx, auditor, Filter{UserID: bob.UserID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(page.Events), workers*each*4/5+1; got != want {
			t.Fatalf("search saw %d of bob's events, want %d", got, want)
		}
		// Close commits what is queued; later events are recorded directly.
		for i := range 50 {
			mustSubmit(fmt.Sprintf("at shutdown %d", i))
		}
		if err := l.Close(ctx); err != nil {
			t.Fatal(err)
		}
		mustSubmit("after close")
		total := workers*each + 1 + 50 + 1 + 1 // + the search's own 110101
		if n := dbtest.Count(t, d, `SELECT COUNT(*) FROM audit_event`); n != total {
			t.Fatalf("%d events in the trail, want %d", n, total)
		}
		if n := dbtest.Count(t, d, `SELECT COUNT(*) FROM audit_event WHERE event_id = ? AND patient_id = 'MRN-OF-STUDY'`, string(InstancesAccessed)); n != workers*each/5 {
			t.Fatalf("patient named on %d study accesses", n)
		}
		rep, err := VerifyKeyed(ctx, d, k)
		if err != nil || !rep.OK || rep.Rows != int64(total) {
			t.Fatalf("chain: %+v %v (break %v)", rep, err, rep.Break)
		}
	})
}

// A canceled request still has its access queued: the read happened.
func TestSubmitIgnoresCanceledRequest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		l := newLogger(d)
		l.Start(1, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for range 5 {
			if err := l.Submit(ctx, QueryEvent(bob, "", "", "canceled")); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Record(ctx, QueryEvent(bob, "", "", "sync")); !errors.Is(err, context.Canceled) && err != nil {
			t.Fatal(err)
		}
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		if err := l.Close(cctx); err != nil {
			t.Fatal(err)
		}
		if n := dbtest.Count(t, d, `SELECT COUNT(*) FROM audit_event WHERE detail = 'canceled'`); n != 5 {
			t.Fatalf("%d of 5 canceled-request events", n)
		}
	})
}
