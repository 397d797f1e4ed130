package archive

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"lightbox/internal/bgloop"
	"lightbox/internal/db"
	"lightbox/internal/dcm"
)

// The group commit: concurrent stores' index rows share one transaction.
// With a journal (a folder store, doc.go), when the group holds an instance
// the journal takes, the group's rows and those instances' bytes are
// appended as records and flushed by one fdatasync before the transaction
// commits, and the commit itself is
// not flushed (SQLite synchronous=NORMAL, PostgreSQL synchronous_commit
// off): one flush makes a whole group durable. The transaction also sets
// the journal's row in ingest_journal to the group's number, so after a
// crash the index says which journaled groups it lost. Without a journal
// each commit is flushed.

type commitReq struct {
	row    *instanceRow
	data   []byte // the bytes to journal with the row; nil: fsync'd already
	packed bool   // the journal keeps data as the blob (its key set here)
	done   chan commitResult
}

type commitResult struct {
	res *Result
	seg *segment // the journal segment holding the record
	err error
}

func (a *Archive) commit(ctx context.Context, row *instanceRow, data []byte, packed bool) (*Result, *segment, error) {
	req := &commitReq{row: row, data: data, packed: packed, done: make(chan commitResult, 1)}
	select {
	case a.reqs <- req:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	// Once queued the commit happens regardless of ctx: the caller must learn
	// whether it did.
	r := <-req.done
	return r.res, r.seg, r.err
}

func (a *Archive) committer() {
	defer close(a.done)
	ctx := context.Background()
	for req := range a.reqs {
		batch := bgloop.Batch(a.reqs, req, a.opt.MaxBatch)
		out, err := a.commitGroup(ctx, batch)
		if err == nil {
			for i, r := range batch {
				r.done <- out[i]
			}
			continue
		}
		// One bad row must not fail its neighbours: retry one by one.
		for _, r := range batch {
			out, err := a.commitGroup(ctx, []*commitReq{r})
			if err != nil {
				out = []commitResult{{err: err}}
			}
			r.done <- out[0]
		}
	}
}

// commitGroup indexes batch in one transaction, durable when it returns.
func (a *Archive) commitGroup(ctx context.Context, batch []*commitReq) ([]commitResult, error) {
	out := make([]commitResult, len(batch))
	index := func(tx db.Execer) error {
		for i, r := range batch {
			res, err := a.index(ctx, tx, r.row)
			if err != nil {
				return err
			}
			out[i].res = res
		}
		return nil
	}
	journaled := false
	for _, r := range batch {
		journaled = journaled || r.data != nil
	}
	if !journaled {
		// Without a journal, or a group of instances fsync'd on their own
		// (over 16 MiB): a flushed commit. SQLite's write-ahead log is
		// rewritten in place, so its fdatasync flushes data alone, while
		// the journal's, on a file that grows, commits the file system's
		// journal too. (bench/ingest.sh could not tell them apart on this
		// machine: runs G to I in bench/README.md.)
		return out, a.db.InTx(ctx, func(tx *db.Tx) error { return index(tx) })
	}
	group := a.journal.nextGroup()
	record := func(r *commitReq) (journalRec, error) {
		meta, err := json.Marshal(journalMeta{Group: group, SOP: r.row.sopUID, SHA: r.row.sha, Size: r.row.size,
			AETitle: r.row.src.AETitle, Facility: r.row.src.Facility, At: r.row.receivedAt, Pack: r.packed})
		return journalRec{meta: meta, data: r.data, packed: r.packed}, err
	}
	// Packed records go first, placed before the rows that name them.
	var recs []journalRec
	var packed []int // their requests
	for i, r := range batch {
		if r.packed {
			rec, err := record(r)
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
			packed = append(packed, i)
		}
	}
	if len(recs) > 0 {
		keys, err := a.journal.place(recs)
		if err != nil {
			return nil, err
		}
		for i, k := range keys {
			batch[packed[i]].row.blobKey = k
		}
	}
	var appended *segment
	err := a.db.InUnflushedTx(ctx, func(tx *db.Tx) error {
		// The packed records' bytes do not depend on the index (a
		// duplicate's are written too): Append writes them while rest
		// indexes the group, so the device and the index work overlap.
		// Durable before the rows can be: a commit that reaches the disk
		// first would name bytes that are nowhere.
		start := time.Now()
		seg, err := a.journal.Append(recs, func() ([]journalRec, error) {
			if err := index(tx); err != nil {
				return nil, err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ingest_journal (journal, seq) VALUES (?, ?)
			ON CONFLICT (journal) DO UPDATE SET seq = excluded.seq`, a.journal.id, int64(group)); err != nil {
				return nil, fmt.Errorf("journal position: %w", err)
			}
			var rest []journalRec
			for i, r := range batch {
				if r.packed || out[i].res.Outcome == SameDuplicate {
					// Nothing to write for a duplicate: the bytes and rows are
					// there (a packed one's place is taken, and freed later).
					continue
				}
				rec, err := record(r)
				if err != nil {
					return nil, err
				}
				rest = append(rest, rec)
			}
			recs = append(recs, rest...)
			return rest, nil
		})
		a.observeJournaled(recs, time.Since(start), err)
		if err != nil || seg == nil {
			return err
		}
		appended = seg
		for i := range out {
			out[i].seg = seg
		}
		if a.loseCommit != nil && a.loseCommit() {
			return errLostCommit
		}
		return nil
	})
	if appended != nil && (err == nil || errors.Is(err, errLostCommit)) {
		var keys []string
		for _, i := range packed {
			if out[i].res.Outcome != SameDuplicate {
				keys = append(keys, batch[i].row.blobKey)
			}
		}
		a.journal.kept(appended, keys)
	}
	if errors.Is(err, errLostCommit) {
		return out, nil // a test's crash: acknowledged, the commit lost
	}
	if err != nil && appended != nil {
		// No blob of this group will be published (its stores fail and
		// may be retried in another group): its records with bytes wait
		// for nothing, and none of them was acknowledged.
		for i, r := range batch {
			if r.data != nil && !r.packed && out[i].res.Outcome != SameDuplicate {
				a.journal.published(appended)
			}
		}
	}
	return out, err
}

// observeJournaled reports each instance whose bytes an Append made
// durable (or failed to) as a blob "commit" taking the Append's time.
func (a *Archive) observeJournaled(recs []journalRec, d time.Duration, err error) {
	if a.observe == nil {
		return
	}
	for _, r := range recs {
		if r.data != nil {
			a.observe("commit", d, err)
		}
	}
}

// errLostCommit and loseCommit let a test roll back a group's index
// commit after its journal flush, as a crash that loses the unflushed
// commit would.
var errLostCommit = errors.New("index commit lost (test)")

// syncIndex makes every index commit so far durable: a flushed commit
// flushes the log before it, on SQLite (one write-ahead log) and on
// PostgreSQL alike. synced_at changes so the commit writes something.
func (a *Archive) syncIndex(id string) error {
	return a.db.InTx(context.Background(), func(tx *db.Tx) error {
		_, err := tx.Exec(context.Background(), "UPDATE ingest_journal SET synced_at = ? WHERE journal = ?", time.Now().UTC().Format(time.RFC3339Nano), id)
		return err
	})
}

// dropMarker forgets a journal that is gone.
func (a *Archive) dropMarker(id string) {
	if _, err := a.db.Exec(context.Background(), "DELETE FROM ingest_journal WHERE journal = ?", id); err != nil {
		a.log.Error("forget ingest journal", "error", err)
	}
}

// pruneMarkers forgets the journals whose folder is gone: a process that
// died between closing its journal (the folder removed, everything in it
// durable) and dropMarker left its row behind, and no recovery would come
// for it. A row is written only while its journal's folder exists, and
// recovery reads a dead journal's row before it removes the folder, so a
// row without a folder is never needed again, whichever node looks.
func (a *Archive) pruneMarkers() {
	ctx := context.Background()
	rows, err := a.db.Query(ctx, "SELECT journal FROM ingest_journal")
	if err != nil {
		a.log.Error("list ingest journals", "error", err)
		return
	}
	var gone []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err == nil && !a.journal.exists(id) {
			gone = append(gone, id)
		}
	}
	if err := rows.Err(); err != nil {
		a.log.Error("list ingest journals", "error", err)
	}
	rows.Close()
	for _, id := range gone {
		a.dropMarker(id)
	}
}

// reindex commits, after a crash, the rows of a dead journal's groups that
// the index lost (those above its position in ingest_journal), in order,
// each from its blob (restored before). The WAL of either database keeps
// commits in order, so every later change to the index (a deletion, say)
// was lost with them: nothing deleted comes back.
func (a *Archive) reindex(id string, recs []replayed) error {
	ctx := context.Background()
	var pos int64
	err := a.db.QueryRow(ctx, "SELECT seq FROM ingest_journal WHERE journal = ?", id).Scan(&pos)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("journal position: %w", err)
	}
	lost := 0
	for _, r := range recs {
		if r.v1 || r.meta.Group <= uint64(pos) {
			continue
		}
		row, err := a.rowFromBlob(ctx, r.meta, r.key)
		if err != nil {
			// It was indexed once against the same index, so only damage
			// from outside (its per-file blob gone, say) gets here; one
			// such record must not keep the archive from starting.
			a.log.Error("journal recovery: index row not committed again", "sop_instance_uid", r.meta.SOP, "error", err)
			continue
		}
		// A failed commit is the database's trouble, not the record's: the
		// journal is kept for the next start rather than deleted with rows
		// that were acknowledged.
		if err := a.db.InTx(ctx, func(tx *db.Tx) error {
			_, err := a.index(ctx, tx, row)
			return err
		}); err != nil {
			return fmt.Errorf("journal recovery: index %s: %w", r.meta.SOP, err)
		}
		lost++
	}
	if lost > 0 {
		a.log.Warn("journal recovery: index rows the crash lost were committed again", "rows", lost)
	}
	_, err = a.db.Exec(ctx, "DELETE FROM ingest_journal WHERE journal = ?", id)
	return err
}

// rowFromBlob rebuilds a journaled instance's index row from its blob:
// under key when packed, else its content address.
func (a *Archive) rowFromBlob(ctx context.Context, m journalMeta, key string) (*instanceRow, error) {
	if key == "" {
		key = BlobKey(m.SHA)
	}
	o, err := a.blobs.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	f, err := dcm.ReadFile(io.NewSectionReader(o, 0, o.Size()), dcm.ReadOptions{})
	if err != nil {
		return nil, err
	}
	row, err := buildRow(f)
	if err != nil {
		return nil, err
	}
	row.size, row.sha, row.blobKey = m.Size, m.SHA, key
	row.src = Source{AETitle: m.AETitle, Facility: m.Facility}
	row.receivedAt = m.At
	return row, nil
}
