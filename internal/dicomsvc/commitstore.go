package dicomsvc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/query"
)

// Pending Storage Commitment reports live in stgcmt_request: the N-ACTION
// is answered Success only after its row commits, and a row leaves the
// pending state only once its N-EVENT-REPORT was answered (or its
// requester stayed unreachable for commitGiveUp). Every node polls for due
// rows and claims one before delivering it, so a report is sent by one
// node; a crash between the peer's answer and the row's update sends it
// once more after the claim expires (the transaction UID lets the
// modality recognise the repeat).

const (
	commitPending = "pending"
	commitSent    = "sent"
	commitFailed  = "failed"
)

var (
	// commitSameAssocGrace is how long a new request is left to the
	// association it came on before any node's poller may report it on a
	// new association (a restart of the acknowledging node included).
	commitSameAssocGrace = 5 * time.Second
	// commitClaim bounds one delivery: dial, N-EVENT-REPORT and its answer.
	commitClaim = 2 * time.Minute
	// commitBackoff are the waits after failed deliveries (the last repeats).
	commitBackoff = []time.Duration{2 * time.Second, 10 * time.Second, time.Minute, 5 * time.Minute, 10 * time.Minute}
	// commitGiveUp is how long an unreachable requester is retried.
	commitGiveUp = 24 * time.Hour
	// commitKeep is how long delivered and abandoned rows are kept.
	commitKeep = 7 * 24 * time.Hour
)

// commitCaller is what of the requesting association a report needs after
// a restart: where to send it, whose scope decides what may be confirmed,
// who the audit names.
type commitCaller struct {
	AE       string      `json:"ae"`
	User     string      `json:"user,omitempty"`
	Facility string      `json:"facility,omitempty"`
	Remote   string      `json:"remote,omitempty"`
	Scope    query.Scope `json:"scope"`
}

// commitRequest is one stgcmt_request row.
type commitRequest struct {
	pk        int64
	txn       string
	caller    *caller
	refs      []commitRef
	ts        string
	attempts  int
	createdAt time.Time
}

// commitStore runs the SQL on stgcmt_request for one process.
type commitStore struct {
	db *db.DB
	id string // this process, as claimant
}

func newCommitStore(d *db.DB) *commitStore {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &commitStore{db: d, id: hex.EncodeToString(b[:])}
}

// add records an acknowledged request. It is left unclaimed, so that a
// crash before the report only delays it by commitSameAssocGrace; the
// grace keeps other nodes' pollers off it while the acknowledging node
// claims it for the report on the requesting association.
func (st *commitStore) add(ctx context.Context, c *caller, txn, ts string, refs []commitRef) (int64, error) {
	cb, err := json.Marshal(commitCaller{AE: c.ae, User: c.user, Facility: c.facility, Remote: c.remote, Scope: c.scope})
	if err != nil {
		return 0, err
	}
	pairs := make([][2]string, len(refs))
	for i, r := range refs {
		pairs[i] = [2]string{r.class, r.inst}
	}
	rb, err := json.Marshal(pairs)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	var pk int64
	err = st.db.InTx(ctx, func(tx *db.Tx) error { // the writer: RETURNING reads back
		return tx.QueryRow(ctx, `INSERT INTO stgcmt_request (transaction_uid, calling_ae, caller, refs, transfer_syntax, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING pk`,
			txn, c.ae, string(cb), string(rb), ts, db.Now(now.Add(commitSameAssocGrace)), db.Now(now)).Scan(&pk)
	})
	if err != nil {
		return 0, fmt.Errorf("storage commitment: record request: %w", err)
	}
	return pk, nil
}

// due lists pending rows whose next attempt is due and that no live
// claim holds.
func (st *commitStore) due(ctx context.Context, limit int) ([]int64, error) {
	now := db.Now(time.Now())
	pks, err := db.Collect(db.Rows(st.db.Query(ctx, `SELECT pk FROM stgcmt_request WHERE status = ? AND next_attempt_at <= ? AND claimed_until < ? ORDER BY pk LIMIT ?`,
		commitPending, now, now, limit)), func(sc db.Scanner) (pk int64, err error) { return pk, sc.Scan(&pk) })
	if err != nil {
		return nil, fmt.Errorf("storage commitment: due: %w", err)
	}
	return pks, nil
}

// claim takes a pending row for this process, due or not; ok is false
// when another claim holds it or it is no longer pending.
func (st *commitStore) claim(ctx context.Context, pk int64) (*commitRequest, bool, error) {
	now := time.Now()
	res, err := st.db.Exec(ctx, `UPDATE stgcmt_request SET claimed_until = ?, claimed_by = ?, attempts = attempts + 1
		WHERE pk = ? AND status = ? AND claimed_until < ?`,
		db.Now(now.Add(commitClaim)), st.id, pk, commitPending, db.Now(now))
	if err != nil {
		return nil, false, fmt.Errorf("storage commitment: claim: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil, false, err
	}
	r, err := st.load(ctx, pk)
	return r, err == nil, err
}

func (st *commitStore) load(ctx context.Context, pk int64) (*commitRequest, error) {
	var cb, rb, created string
	r := &commitRequest{pk: pk}
	err := st.db.QueryRow(ctx, `SELECT transaction_uid, caller, refs, transfer_syntax, attempts, created_at FROM stgcmt_request WHERE pk = ?`, pk).
		Scan(&r.txn, &cb, &rb, &r.ts, &r.attempts, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("storage commitment request %d vanished", pk)
	}
	if err != nil {
		return nil, fmt.Errorf("storage commitment: load: %w", err)
	}
	var cc commitCaller
	var pairs [][2]string
	if err := json.Unmarshal([]byte(cb), &cc); err != nil {
		return nil, fmt.Errorf("storage commitment %d: caller: %w", pk, err)
	}
	if err := json.Unmarshal([]byte(rb), &pairs); err != nil {
		return nil, fmt.Errorf("storage commitment %d: references: %w", pk, err)
	}
	r.caller = &caller{ae: cc.AE, user: cc.User, facility: cc.Facility, remote: cc.Remote, scope: cc.Scope}
	for _, p := range pairs {
		r.refs = append(r.refs, commitRef{class: p[0], inst: p[1]})
	}
	r.createdAt, _ = db.ParseTime(created)
	return r, nil
}

// finish records a delivery attempt: sent, or retried later, or abandoned
// once the requester has been unreachable for commitGiveUp. It reports
// whether the row left the pending state.
func (st *commitStore) finish(ctx context.Context, r *commitRequest, sendErr error) (bool, error) {
	now := time.Now()
	status, next, msg := commitSent, now, ""
	if sendErr != nil {
		msg = sendErr.Error()
		status = commitPending
		next = now.Add(commitBackoff[min(max(r.attempts-1, 0), len(commitBackoff)-1)])
		if now.Sub(r.createdAt) > commitGiveUp {
			status = commitFailed
		}
	}
	done := ""
	if status != commitPending {
		done = db.Now(now)
	}
	_, err := st.db.Exec(ctx, `UPDATE stgcmt_request SET status = ?, next_attempt_at = ?, last_error = ?, done_at = ?, claimed_until = '', claimed_by = ''
		WHERE pk = ? AND claimed_by = ?`, status, db.Now(next), msg, done, r.pk, st.id)
	if err != nil {
		return false, fmt.Errorf("storage commitment: record attempt: %w", err)
	}
	return status != commitPending, nil
}

// prune deletes rows that left the pending state long ago.
func (st *commitStore) prune(ctx context.Context) error {
	_, err := st.db.Exec(ctx, `DELETE FROM stgcmt_request WHERE status <> ? AND done_at < ?`, commitPending, db.Now(time.Now().Add(-commitKeep)))
	return err
}

// CommitReporter delivers the Storage Commitment reports that are due on
// new associations: those whose requester released its association, and
// those a stopped or crashed node acknowledged.
type CommitReporter struct {
	s      *Service
	poll   time.Duration
	cancel context.CancelFunc
	done   chan struct{}
}

// StartCommitReports starts the poller (every poll; 0 = 2 s) until Stop.
func (s *Service) StartCommitReports(poll time.Duration) *CommitReporter {
	if poll <= 0 {
		poll = 2 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	cr := &CommitReporter{s: s, poll: poll, cancel: cancel, done: make(chan struct{})}
	go cr.loop(ctx)
	return cr
}

// Stop ends the poller and waits for deliveries in flight.
func (cr *CommitReporter) Stop() {
	if cr == nil {
		return
	}
	cr.cancel()
	<-cr.done
}

func (cr *CommitReporter) loop(ctx context.Context) {
	defer close(cr.done)
	// Deliveries in flight at Stop get a moment to finish: a report the
	// peer has taken but this node has not recorded would go out again.
	dctx, dcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer dcancel()
	var wg sync.WaitGroup
	defer func() {
		t := time.AfterFunc(10*time.Second, dcancel)
		wg.Wait()
		t.Stop()
	}()
	sem := make(chan struct{}, 4) // a few unreachable modalities do not hold up the rest
	t := time.NewTicker(cr.poll)
	defer t.Stop()
	st := cr.s.commits
	for n := 0; ; n++ {
		if n%1800 == 0 {
			if err := st.prune(ctx); err != nil && ctx.Err() == nil {
				cr.s.log.Warn("storage commitment: prune", "err", err)
			}
		}
		pks, err := st.due(ctx, 50)
		if err != nil && ctx.Err() == nil {
			cr.s.log.Warn("storage commitment: scan", "err", err)
		}
		for _, pk := range pks {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			r, ok, err := st.claim(ctx, pk)
			if err != nil && ctx.Err() == nil {
				cr.s.log.Warn("storage commitment: claim", "err", err)
			}
			if !ok {
				<-sem
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				rctx, cancel := context.WithTimeout(dctx, commitClaim)
				defer cancel()
				cr.s.report(rctx, nil, r)
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
