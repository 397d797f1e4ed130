package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"lightbox/internal/blob"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

// TestJournalRecovery stands in for a machine crash after acknowledgement:
// the process dies without a checkpoint (its journal lock is released),
// and the page-cache copies of some published blobs are lost (deleted) or
// damaged. Opening the archive again replays the journal: every
// acknowledged instance is back, byte for byte, a torn tail record is
// ignored, and the dead process's journal is gone. Every fourth instance is
// a 512×512 slice (512 KiB), whose journal record is its blob (packed).
func TestJournalRecovery(t *testing.T) {
	eachIO(t, func(t *testing.T, d *db.DB, opt Options) {
		ctx := context.Background()
		root := t.TempDir()
		a, b := openOn(t, d, root, opt)
		if a.journal == nil {
			t.Fatal("no journal on a folder store")
		}
		const n = 24
		stored := map[string][]byte{} // SOP Instance UID -> bytes
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			rows := 4 + i%3
			switch i % 4 {
			case 0:
				rows = 512
			case 2:
				rows = 128 // packed too (packMin)
			}
			data := part10(t, testInstance("1.7", "1.7.1", fmt.Sprintf("1.7.1.%d", i), "P7", "", rows))
			wg.Go(func() { // concurrent stores share fdatasyncs
				res, err := a.Store(ctx, bytes.NewReader(data), Source{Facility: "F1"})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				stored[res.SOPInstanceUID] = data
				mu.Unlock()
			})
		}
		wg.Wait()
		checkDirect(t, a, root, opt)
		segs, _ := filepath.Glob(filepath.Join(a.journal.dir, "*.wal"))
		if len(segs) != 1 {
			t.Fatalf("journal segments: %v", segs)
		}
		// A record per instance.
		if _, recs, err := replay(filepath.Dir(segs[0]), a.journal.store); err != nil || len(recs) != n {
			t.Fatalf("journal holds %d records (%v), want %d", len(recs), err, n)
		}
		// A torn record at the tail: a header promising more than follows.
		f, _ := os.OpenFile(segs[0], os.O_APPEND|os.O_WRONLY, 0)
		_, _ = f.Write(append([]byte(journalMagic), 0xff, 0xff, 0, 0, 0, 0, 0, 0, 1, 2, 3))
		f.Close()
		// The crash: no checkpoint, the lock freed, blobs lost or damaged.
		a.journal.lock.Close()
		i := 0
		for _, data := range stored {
			if len(data) >= packMin {
				continue // packed: the journal's record is the blob
			}
			p := filepath.Join(root, "objects", filepath.FromSlash(BlobKey(Digest(data))))
			switch i % 3 {
			case 0:
				os.Remove(p)
			case 1:
				os.WriteFile(p, []byte("damaged"), 0o640)
			}
			i++
		}
		b.Close()

		a2, b2 := openOn(t, d, root, opt) // the restart
		defer func() { a2.Close(); b2.Close() }()
		for sop, want := range stored {
			ref, err := a2.Instance(ctx, sop)
			if err != nil {
				t.Fatal(err)
			}
			key := ref.BlobKey
			if blob.IsPackKey(key) != (len(want) >= packMin) {
				t.Errorf("%s: blob key %s for %d bytes", sop, key, len(want))
			}
			o, err := b2.Open(ctx, key)
			if err != nil {
				t.Fatalf("%s after recovery: %v", key, err)
			}
			got := make([]byte, o.Size())
			_, _ = o.ReadAt(got, 0)
			o.Close()
			if sha256.Sum256(got) != sha256.Sum256(want) {
				t.Fatalf("%s not restored", key)
			}
		}
		if _, err := os.Stat(filepath.Dir(segs[0])); !os.IsNotExist(err) {
			t.Errorf("dead process's journal left after recovery: %v", err)
		}
		if c, _ := a2.Count(ctx); c.Instances != n {
			t.Errorf("indexed %d, want %d", c.Instances, n)
		}
	})
}

// TestJournalCheckpoint: a sealed segment is deleted once its blobs are
// synced, and a clean Close leaves no journal.
func TestJournalCheckpoint(t *testing.T) {
	ctx := context.Background()
	eachIO(t, func(t *testing.T, d *db.DB, opt Options) {
		root := t.TempDir()
		a, b := openOn(t, d, root, opt)
		defer b.Close()
		for i := range 3 {
			if _, err := a.Store(ctx, bytes.NewReader(part10(t, testInstance("1.8", "1.8.1", fmt.Sprintf("1.8.1.%d", i), "P8", "", 4))), Source{Facility: "F1"}); err != nil {
				t.Fatal(err)
			}
			a.journal.mu.Lock()
			err := a.journal.rotate() // seal after each record
			a.journal.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
		}
		checkDirect(t, a, root, opt)
		a.Close()
		left, _ := filepath.Glob(filepath.Join(root, "journal", "*", "*"))
		if len(left) != 0 {
			t.Errorf("journal files after Close: %v", left)
		}
	})
}

// TestJournalLostIndexCommit stands in for a crash that loses index
// commits: they are not flushed (the journal's flush covers them), so the
// test rolls every group's transaction back after its journal flush while
// the stores still succeed. Opening the archive again commits the rows of
// every acknowledged instance from the journal, small (bytes in the
// journal) and large (fsync'd on the per-file path, its row journaled when
// it shares a group with small ones), with study counts that agree; an instance its Source.Check refused is not among them.
// A restart whose database fails that replay keeps the journal for the next.
func TestJournalLostIndexCommit(t *testing.T) {
	eachIO(t, func(t *testing.T, d *db.DB, opt Options) {
		ctx := context.Background()
		root := t.TempDir()
		a, b := openOn(t, d, root, opt)
		a.loseCommit = func() bool { return true }
		const n = 12
		var wg sync.WaitGroup
		for i := range n {
			rows := 4
			if i%3 == 0 {
				rows = 512
			}
			data := part10(t, testInstance("1.9", "1.9.1", fmt.Sprintf("1.9.1.%d", i), "P9", "", rows))
			wg.Go(func() {
				if _, err := a.Store(ctx, bytes.NewReader(data), Source{Facility: "F1"}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		refused := part10(t, testInstance("1.10", "1.10.1", "1.10.1.1", "P10", "", 4))
		if _, err := a.Store(ctx, bytes.NewReader(refused), Source{Facility: "F1", Check: func(string, string) error { return fmt.Errorf("not yours") }}); err == nil {
			t.Fatal("refused store succeeded")
		}
		// A group of large instances alone has a flushed commit of its own.
		if c, _ := a.Count(ctx); c.Instances > n/3 {
			t.Fatalf("the test's lost commits left %d instances", c.Instances)
		}
		a.journal.lock.Close() // the crash
		b.Close()

		// A restart whose database fails the replay keeps the journal for
		// the next one.
		if _, err := d.Exec(ctx, "ALTER TABLE instance RENAME TO instance_away"); err != nil {
			t.Fatal(err)
		}
		a1, b1 := openOn(t, d, root, opt)
		if a1.journal != nil {
			t.Error("a journal opened over a failed recovery")
		}
		a1.Close()
		b1.Close()
		if _, err := d.Exec(ctx, "ALTER TABLE instance_away RENAME TO instance"); err != nil {
			t.Fatal(err)
		}

		a2, b2 := openOn(t, d, root, opt) // the restart
		defer func() { a2.Close(); b2.Close() }()
		c, err := a2.Count(ctx)
		if err != nil || c.Instances != n || c.Studies != 1 || c.Series != 1 {
			t.Fatalf("after recovery: %+v %v, want %d instances in 1 study", c, err, n)
		}
		var num int
		if err := d.QueryRow(ctx, "SELECT num_instances FROM study WHERE study_uid = ?", "1.9").Scan(&num); err != nil || num != n {
			t.Fatalf("study counts %d instances (%v), want %d", num, err, n)
		}
		var markers int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM ingest_journal").Scan(&markers); err != nil || markers != 0 {
			t.Errorf("%d journal positions left (%v)", markers, err)
		}
		for i := range n {
			if _, err := a2.Instance(ctx, fmt.Sprintf("1.9.1.%d", i)); err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
		}
	})
}

// openOn opens an archive on a folder store at root, as a start does.
func openOn(t *testing.T, d *db.DB, root string, opt Options) (*Archive, *blob.Dir) {
	b, err := blob.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return New(d, b, opt), b
}

// eachIO runs fn with the journal's segments written directly and through
// the page cache (Options.NoDirectIO), each once per index back-end
// (dbtest.Each, a database each).
func eachIO(t *testing.T, fn func(t *testing.T, d *db.DB, opt Options)) {
	for _, c := range []struct {
		name string
		opt  Options
	}{{"direct", Options{}}, {"buffered", Options{NoDirectIO: true}}} {
		t.Run(c.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) { fn(t, d, c.opt) })
		})
	}
}

// checkDirect fails unless the open journal of a writes the way opt asks,
// where the file system of root has direct I/O (a probe file says): a
// refused direct write (EINVAL) would otherwise pass silently through the
// page cache.
func checkDirect(t *testing.T, a *Archive, root string, opt Options) {
	t.Helper()
	f, err := os.CreateTemp(root, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	want := !opt.NoDirectIO && setDirect(f) == nil
	a.journal.mu.Lock()
	defer a.journal.mu.Unlock()
	if a.journal.direct != want {
		t.Errorf("journal writes directly: %v, want %v", a.journal.direct, want)
	}
}

// TestSegmentPadding: zeros where a record would begin are padding, however
// few. A group of unpacked records can end 1-3 bytes before a boundary, and
// the next group's first record begins on it (packed, or any record when
// segments are written directly, whose groups are padded to whole blocks):
// the scan must not take those bytes and the next magic for a torn tail.
// A segment written either way is read back whole, record by record.
func TestSegmentPadding(t *testing.T) {
	for _, direct := range []bool{true, false} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			j := testJournal(t, direct)
			meta := func(i int, pack bool, data []byte) []byte {
				m, _ := json.Marshal(journalMeta{Group: uint64(i), SOP: fmt.Sprint(i), SHA: Digest(data), Size: int64(len(data)), Pack: pack})
				return m
			}
			data := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
			var want [][]byte
			for i, gap := range []int{2, 1, 3, 0, 4} {
				// An unpacked record ending gap bytes before the boundary
				// (its meta's length does not depend on its data's)...
				n := blob.PackAlign - gap - journalHdrSize - 4 - len(meta(2*i, false, data(3000, 1)))
				small := data(n, byte(i+1))
				m := meta(2*i, false, small)
				if _, err := j.place(nil); err != nil {
					t.Fatal(err)
				}
				if _, err := appendAll(j, []journalRec{{meta: m, data: small}}); err != nil {
					t.Fatal(err)
				}
				// ... then a packed one on it.
				bytes := data(20000+i, byte(0x80+i))
				big := []journalRec{{meta: meta(2*i+1, true, bytes), data: bytes, packed: true}}
				if _, err := j.place(big); err != nil {
					t.Fatal(err)
				}
				if _, err := appendAll(j, big); err != nil {
					t.Fatal(err)
				}
				want = append(want, small, big[0].data)
			}
			if j.direct != direct {
				t.Fatalf("journal writes directly: %v", j.direct)
			}
			f, err := os.Open(j.segs[0].pack)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got [][]byte
			err = scanSegment(f, true, func(rec replayed, off int64, data []byte) error {
				if rec.meta.Pack && off%blob.PackAlign != journalHdrSize+4+int64(len(meta(int(rec.meta.Group), true, data))) {
					t.Errorf("packed record %d's bytes at %d", rec.meta.Group, off)
				}
				got = append(got, data)
				return nil
			})
			if err != nil || len(got) != len(want) {
				t.Fatalf("scanned %d records (%v), want %d", len(got), err, len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("record %d read back wrong", i)
				}
			}
		})
	}
}

// TestAppendIndexFails: Append writes a group's packed records while the
// group is indexed; when the indexing fails nothing is appended and the
// journal goes on (not poisoned), the next group is placed where the
// failed one was and writes over its bytes, and the segment holds the
// next group's record alone. Both ways of writing.
func TestAppendIndexFails(t *testing.T) {
	for _, direct := range []bool{true, false} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			j := testJournal(t, direct)
			rec := func(group int, b byte) []journalRec {
				data := bytes.Repeat([]byte{b}, 40000)
				m, _ := json.Marshal(journalMeta{Group: uint64(group), SOP: fmt.Sprint(group), SHA: Digest(data), Size: int64(len(data)), Pack: true})
				return []journalRec{{meta: m, data: data, packed: true}}
			}
			failed := rec(1, 0xA1)
			keys, err := j.place(failed)
			if err != nil {
				t.Fatal(err)
			}
			boom := errors.New("index failed")
			if seg, err := j.Append(failed, func() ([]journalRec, error) { return nil, boom }); !errors.Is(err, boom) || seg != nil {
				t.Fatalf("Append with a failing index: %v %v", seg, err)
			}
			if j.err != nil || j.size != 0 {
				t.Fatalf("after a failed index: err %v, size %d", j.err, j.size)
			}
			next := rec(2, 0xB2)
			keys2, err := j.place(next)
			if err != nil {
				t.Fatal(err)
			}
			if keys2[0] != keys[0] {
				t.Errorf("next group placed at %s, the failed one at %s", keys2[0], keys[0])
			}
			if _, err := appendAll(j, next); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(j.segs[0].pack)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var groups []uint64
			if err := scanSegment(f, true, func(rec replayed, _ int64, data []byte) error {
				if !bytes.Equal(data, next[0].data) {
					t.Errorf("record %d read back wrong", rec.meta.Group)
				}
				groups = append(groups, rec.meta.Group)
				return nil
			}); err != nil || len(groups) != 1 || groups[0] != 2 {
				t.Fatalf("scanned groups %v (%v), want [2]", groups, err)
			}
		})
	}
}

// TestStaleMarkerPruned: the ingest_journal row of a journal whose folder
// is gone (its process died between closing the journal and forgetting
// it) goes at the next start; the row of another process's live journal
// (its folder there, its lock held) stays.
func TestStaleMarkerPruned(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		root := t.TempDir()
		live := filepath.Join(root, "journal", "0123456789abcdef")
		if err := os.MkdirAll(live, 0o750); err != nil {
			t.Fatal(err)
		}
		lock, err := os.OpenFile(live+".lock", os.O_CREATE|os.O_RDWR, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Close()
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"0123456789abcdef", "fedcba9876543210"} {
			if _, err := d.Exec(ctx, "INSERT INTO ingest_journal (journal, seq) VALUES (?, 7)", id); err != nil {
				t.Fatal(err)
			}
		}
		a, b := openOn(t, d, root, Options{})
		defer b.Close()
		defer a.Close()
		var ids []string
		rows, err := d.Query(ctx, "SELECT journal FROM ingest_journal ORDER BY journal")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) != 1 || ids[0] != "0123456789abcdef" {
			t.Fatalf("markers after the start: %v, want the live journal's only", ids)
		}
	})
}

// TestJournalDirectRefused: a direct write the file system refuses
// (EINVAL; here a staging buffer off its alignment by a byte) is written
// again through the page cache, and the journal stays there, its next
// segment too: every record reads back.
func TestJournalDirectRefused(t *testing.T) {
	root := t.TempDir()
	store, err := blob.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	j, err := openJournal(store, slog.New(slog.DiscardHandler), true, func(string, []replayed) error { return nil }, func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.place(nil); err != nil {
		t.Fatal(err)
	}
	if !j.direct {
		t.Skip("no direct I/O here")
	}
	j.stage = alignedBuf(writevMax + 1)[1:]
	var want []string
	for i := range 3 {
		data := bytes.Repeat([]byte{byte(i + 1)}, 5000)
		m, _ := json.Marshal(journalMeta{Group: uint64(i), SOP: fmt.Sprint(i), SHA: Digest(data), Size: int64(len(data))})
		if _, err := j.place(nil); err != nil {
			t.Fatal(err)
		}
		if _, err := appendAll(j, []journalRec{{meta: m, data: data}}); err != nil {
			t.Fatal(err)
		}
		if i == 0 && j.direct {
			t.Skip("the file system takes unaligned buffers")
		}
		if j.direct || !j.noDirect {
			t.Fatalf("direct I/O after a refusal: %v %v", j.direct, j.noDirect)
		}
		want = append(want, Digest(data))
		if i == 1 {
			j.mu.Lock()
			err := j.rotate()
			j.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	var got []string
	for _, s := range j.segs {
		f, err := os.Open(s.pack)
		if err != nil {
			t.Fatal(err)
		}
		_ = scanSegment(f, true, func(rec replayed, _ int64, data []byte) error {
			got = append(got, Digest(data))
			return nil
		})
		f.Close()
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("read back %d records, want %d", len(got), len(want))
	}
}

// appendAll appends recs, its packed records first, as one group with
// nothing to index in between.
func appendAll(j *journal, recs []journalRec) (*segment, error) {
	n := 0
	for n < len(recs) && recs[n].packed {
		n++
	}
	return j.Append(recs[:n], func() ([]journalRec, error) { return recs[n:], nil })
}

// testJournal opens a journal on a new folder store, writing directly or
// through the page cache, closed when the test ends.
func testJournal(t *testing.T, direct bool) *journal {
	t.Helper()
	root := t.TempDir()
	store, err := blob.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	nop := func(string, []replayed) error { return nil }
	j, err := openJournal(store, slog.New(slog.DiscardHandler), direct, nop, func(string) error { return nil })
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close(); store.Close() })
	return j
}
