package archive

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"lightbox/internal/blob"
)

// localStore is a blob store on this machine's disk that can publish
// without fsync and later make everything published durable at once
// (*blob.Dir). Only such a store gets a journal: an encrypted or S3 store
// keeps the per-instance durable Commit.
type localStore interface {
	blob.Store
	Root() string
	PutUnsynced(key string, data []byte) error
	SyncAll() error
}

// unwrapLocal finds a localStore below instrumentation wrappers.
func unwrapLocal(s blob.Store) localStore {
	for {
		if l, ok := s.(localStore); ok {
			return l
		}
		u, ok := s.(interface{ Unwrap() blob.Store })
		if !ok {
			return nil
		}
		s = u.Unwrap()
	}
}

// The journal is the write-ahead log of instance bytes (see doc.go). A
// record is a header — magic, length, SHA-256 of the bytes — followed by the
// bytes; a torn tail fails the length or the digest and ends the segment.
const (
	journalMagic   = "LBJ1"
	journalHdrSize = 4 + 8 + sha256.Size
	// segmentMax is where a segment is sealed and a new one begun; a sealed
	// segment is deleted once a syncfs made its instances' blobs durable.
	segmentMax = 128 << 20
	// inMemoryMax bounds an instance received into memory for the
	// journal; larger ones stream to a temporary blob and fsync on their
	// own. The journal writes each byte twice (journal, then the content-
	// addressed file) to put one sequential, shared fdatasync on the
	// acknowledgement path instead of the per-file path's fsyncs of file,
	// folder and folder entry. That pays where flushes bound the rate (38 KB:
	// 1.3× the per-file path in bench/ingest.sh), not for large instances on
	// this starved machine: with the journal taking 526 KB slices too (run D
	// in bench/README.md) one association went at 0.9× the per-file path and
	// import at 0.55× (CPU: the second write, and each sealed segment's
	// syncfs flushing the whole shared disk), although an append + fdatasync
	// of 526 KB alone is 3× quicker than the per-file flushes. Hence the bound.
	inMemoryMax = 256 << 10
	// unpublishedMax bounds the acknowledged bytes held in memory while
	// their blobs are written: stores wait past it, so memory stays flat
	// however fast instances arrive.
	unpublishedMax = 128 << 20
)

type segment struct {
	path    string
	pending int // appended records whose blob is not yet published
	sealed  bool
}

type journal struct {
	dir   string // this process's folder: journal/<id>
	lock  *os.File
	store localStore
	log   *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File
	segs    []*segment // live segments, oldest first; the last is open
	nextSeg int
	size    int64  // bytes in the open segment
	written uint64 // bytes appended, all segments
	synced  uint64 // bytes known durable
	syncing bool
	err     error // a failed fsync poisons the journal
	failed  bool  // a blob failed to publish: keep every segment for recovery

	kick chan struct{}
	done chan struct{}
}

// openJournal recovers the journals of processes that are gone, then starts
// this process's own.
func openJournal(store localStore, log *slog.Logger) (*journal, error) {
	root := filepath.Join(store.Root(), "journal")
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if err := recoverJournals(root, store, log); err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	lock, err := os.OpenFile(filepath.Join(root, id+".lock"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock journal: %w", err)
	}
	j := &journal{dir: filepath.Join(root, id), lock: lock, store: store, log: log, kick: make(chan struct{}, 1), done: make(chan struct{})}
	j.cond = sync.NewCond(&j.mu)
	if err := os.MkdirAll(j.dir, 0o750); err != nil {
		lock.Close()
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if err := blob.SyncDir(root); err != nil {
		lock.Close()
		return nil, err
	}
	go j.checkpointer()
	return j, nil
}

// newSegment opens the next segment file; the caller holds mu (or is the
// only user).
func (j *journal) newSegment() error {
	path := filepath.Join(j.dir, fmt.Sprintf("%016d.wal", j.nextSeg))
	j.nextSeg++
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("journal segment: %w", err)
	}
	if err := blob.SyncDir(j.dir); err != nil {
		f.Close()
		return err
	}
	j.f, j.size = f, 0
	j.segs = append(j.segs, &segment{path: path})
	return nil
}

// Append writes data's record and returns once it is durable, sharing one
// fdatasync with every record appended meanwhile (group commit). The caller
// publishes the blob and then calls published(seg).
func (j *journal) Append(sum [sha256.Size]byte, data []byte) (*segment, error) {
	var hdr [journalHdrSize]byte
	copy(hdr[:4], journalMagic)
	binary.LittleEndian.PutUint64(hdr[4:12], uint64(len(data)))
	copy(hdr[12:], sum[:])
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return nil, j.err
	}
	switch {
	case j.f == nil: // the first segment is made on first use
		if err := j.newSegment(); err != nil {
			j.err = err
			return nil, err
		}
	case j.size >= segmentMax:
		if err := j.rotate(); err != nil {
			return nil, err
		}
	}
	bufs := [][]byte{hdr[:], data}
	for _, b := range bufs {
		if _, err := j.f.Write(b); err != nil {
			// A short write leaves a torn record; later records would follow it.
			j.err = fmt.Errorf("journal write: %w", err)
			return nil, j.err
		}
	}
	n := uint64(journalHdrSize + len(data))
	j.size += int64(n)
	j.written += n
	seg := j.segs[len(j.segs)-1]
	seg.pending++
	pos := j.written
	for j.synced < pos && j.err == nil {
		if j.syncing {
			j.cond.Wait()
			continue
		}
		j.syncing = true
		target, f := j.written, j.f
		j.mu.Unlock()
		err := syscall.Fdatasync(int(f.Fd()))
		j.mu.Lock()
		j.syncing = false
		if err != nil {
			j.err = fmt.Errorf("journal fdatasync: %w", err)
		} else if target > j.synced {
			j.synced = target
		}
		j.cond.Broadcast()
	}
	if j.err != nil {
		seg.pending--
		return nil, j.err
	}
	return seg, nil
}

// rotate seals the open segment (synced first: later records go elsewhere)
// and opens a new one; mu held.
func (j *journal) rotate() error {
	for j.syncing {
		j.cond.Wait()
	}
	if err := syscall.Fdatasync(int(j.f.Fd())); err != nil {
		j.err = fmt.Errorf("journal fdatasync: %w", err)
		return j.err
	}
	j.synced = j.written
	j.f.Close()
	j.segs[len(j.segs)-1].sealed = true
	if err := j.newSegment(); err != nil {
		j.err = err
		return err
	}
	j.nudge()
	return nil
}

func (j *journal) nudge() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// published says a record's blob is in the store (not necessarily durable).
func (j *journal) published(seg *segment) {
	j.mu.Lock()
	seg.pending--
	ready := seg.sealed && seg.pending == 0
	j.mu.Unlock()
	if ready {
		j.nudge()
	}
}

// fail keeps all segments from now on: a blob could not be published, so
// only the journal holds its bytes until the next start replays it.
func (j *journal) fail(error) {
	j.mu.Lock()
	j.failed = true
	j.mu.Unlock()
}

// checkpointer deletes sealed segments whose blobs are all published, after
// one syncfs made those blobs durable.
func (j *journal) checkpointer() {
	defer close(j.done)
	for range j.kick {
		j.checkpoint(false)
	}
}

// checkpoint retires the leading sealed segments with nothing pending (all
// segments when final: Close waited for every store).
func (j *journal) checkpoint(final bool) {
	j.mu.Lock()
	var retire []*segment
	for _, s := range j.segs {
		if j.failed {
			break
		}
		if !(s.sealed || final) || s.pending > 0 {
			break
		}
		retire = append(retire, s)
	}
	j.mu.Unlock()
	if len(retire) == 0 {
		return
	}
	start := time.Now()
	if err := j.store.SyncAll(); err != nil {
		j.log.Error("journal checkpoint: blobs not synced; segments kept for recovery", "error", err)
		return
	}
	j.log.Debug("journal checkpoint", "segments", len(retire), "syncfs", time.Since(start))
	for _, s := range retire {
		if err := os.Remove(s.path); err != nil {
			j.log.Error("journal checkpoint", "error", err)
		}
	}
	j.mu.Lock()
	j.segs = j.segs[len(retire):]
	j.mu.Unlock()
}

// Close makes every published blob durable and removes the journal; the
// archive calls it once no store is in flight.
func (j *journal) Close() {
	j.mu.Lock()
	for j.syncing {
		j.cond.Wait()
	}
	if j.f != nil {
		_ = syscall.Fdatasync(int(j.f.Fd()))
		j.f.Close()
	}
	for _, s := range j.segs {
		s.sealed = true
	}
	j.mu.Unlock()
	close(j.kick)
	<-j.done
	j.checkpoint(true)
	j.mu.Lock()
	left := len(j.segs)
	j.mu.Unlock()
	if left == 0 {
		_ = os.Remove(j.dir)
		_ = os.Remove(j.lock.Name())
	}
	j.lock.Close()
}

// recoverJournals replays the journals of processes that are gone (their
// lock is free): each intact record's blob is put back if it is missing or
// damaged, one syncfs makes them durable, and the journal is removed.
// Records whose index row never committed leave unreferenced blobs, which
// the orphan sweep removes (orphans.go); their stores were never
// acknowledged.
func recoverJournals(root string, store localStore, log *slog.Logger) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("recover journal: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		lockPath := dir + ".lock"
		lock, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o640)
		if err != nil {
			return fmt.Errorf("recover journal: %w", err)
		}
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			lock.Close() // a live process's journal
			continue
		}
		restored, records, err := replay(dir, store)
		if err == nil {
			err = store.SyncAll()
		}
		if err != nil {
			lock.Close()
			return fmt.Errorf("recover journal %s: %w", dir, err)
		}
		if records > 0 {
			log.Info("journal recovered", "records", records, "blobs_restored", restored)
		}
		_ = os.RemoveAll(dir)
		_ = os.Remove(lockPath)
		lock.Close()
	}
	return nil
}

func replay(dir string, store localStore) (restored, records int, err error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		return 0, 0, err
	}
	sort.Strings(names)
	for _, name := range names {
		r, n, err := replaySegment(name, store)
		restored += r
		records += n
		if err != nil {
			return restored, records, err
		}
	}
	return restored, records, nil
}

func replaySegment(name string, store localStore) (restored, records int, err error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	ctx := context.Background()
	for {
		var hdr [journalHdrSize]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil || string(hdr[:4]) != journalMagic {
			return restored, records, nil // end, or a torn tail
		}
		n := binary.LittleEndian.Uint64(hdr[4:12])
		if n > 1<<40 {
			return restored, records, nil
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(br, data); err != nil {
			return restored, records, nil
		}
		sum := sha256.Sum256(data)
		if !bytes.Equal(sum[:], hdr[12:]) {
			return restored, records, nil
		}
		records++
		key := BlobKey(hex.EncodeToString(sum[:]))
		if intact(ctx, store, key, sum) {
			continue
		}
		w, err := store.Create(ctx)
		if err != nil {
			return restored, records, err
		}
		if _, err := w.Write(data); err != nil {
			w.Abort()
			return restored, records, err
		}
		// A damaged copy is replaced: Commit keeps an existing key.
		_ = store.Delete(ctx, key)
		if err := w.Commit(ctx, key); err != nil {
			return restored, records, err
		}
		restored++
	}
}

// intact reports whether key holds bytes with digest sum.
func intact(ctx context.Context, store localStore, key string, sum [sha256.Size]byte) bool {
	o, err := store.Open(ctx, key)
	if err != nil {
		return false
	}
	defer o.Close()
	h := sha256.New()
	if _, err := io.Copy(h, o); err != nil {
		return false
	}
	return bytes.Equal(h.Sum(nil), sum[:])
}
