package archive

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

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

// The journal is the write-ahead log of index rows and instance bytes (see
// doc.go). A record is a header — magic, length, SHA-256 of the payload —
// followed by the payload: the length of a JSON journalMeta (the row's
// group and what replaying it needs), the meta, then the instance's bytes
// (none when they were fsync'd on the per-file path). A torn tail fails the
// length or the digest and ends the segment. Records of the first version
// (journalMagicV1: the bytes alone, their digest in the header) are still
// replayed.
const (
	journalMagic   = "LBJ2"
	journalMagicV1 = "LBJ1"
	journalHdrSize = 4 + 8 + sha256.Size
	// segmentMax is where a segment is sealed and a new one begun; a sealed
	// segment is deleted once a syncfs made its instances' blobs durable
	// and a flushed commit its index rows.
	segmentMax = 128 << 20
	// inMemoryMax bounds an instance whose bytes go into the journal;
	// larger ones are fsync'd on their own (the per-file path) and only
	// their row is journaled. The journal writes each byte twice (journal,
	// then the content-addressed file) to put one sequential, shared
	// fdatasync on the acknowledgement path instead of the per-file path's
	// fsyncs of file and folder. That pays where flushes bound the rate
	// (38 KB: 1.3× the per-file path in bench/ingest.sh), not for large
	// instances on this starved machine: with the journal taking 526 KB
	// slices too (run D in bench/README.md) one association went at 0.9×
	// the per-file path and import at 0.55× (CPU: the second write, and each
	// sealed segment's syncfs flushing the whole shared disk), although an
	// append + fdatasync of 526 KB alone is 3× quicker than the per-file
	// flushes. Hence the bound.
	inMemoryMax = 256 << 10
	// unpublishedMax bounds the acknowledged bytes held in memory while
	// their blobs are written: stores wait past it, so memory stays flat
	// however fast instances arrive.
	unpublishedMax = 128 << 20
)

// journalMeta is what replaying a record needs besides the bytes: the
// group whose index commit the record belongs to (compared with the
// group the index holds, see ingest_journal) and the row's inputs that
// are not in the instance itself.
type journalMeta struct {
	Group    uint64 `json:"g"`
	SOP      string `json:"sop"`
	SHA      string `json:"sha"`
	Size     int64  `json:"n"`
	AETitle  string `json:"ae,omitempty"`
	Facility string `json:"fac,omitempty"`
	At       string `json:"at"`
}

// journalRec is one record to append: meta, and the bytes when they are
// journaled.
type journalRec struct {
	meta []byte
	data []byte
}

type segment struct {
	path    string
	pending int // appended records whose blob is not yet published
	sealed  bool
}

type journal struct {
	id    string // this process's journal: its folder's name and its ingest_journal row
	dir   string // journal/<id>
	lock  *os.File
	store localStore
	log   *slog.Logger
	// syncIndex makes every index commit so far durable (a flushed
	// commit); a segment is retired only after it.
	syncIndex func(id string) error

	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File
	segs    []*segment // live segments, oldest first; the last is open
	nextSeg int
	size    int64  // bytes in the open segment
	group   uint64 // the last group number handed out
	syncing bool
	err     error // a failed write or fsync poisons the journal
	failed  bool  // a blob failed to publish: keep every segment for recovery

	kick chan struct{}
	done chan struct{}
}

// replayed is a record read back from a dead process's journal.
type replayed struct {
	meta journalMeta
	v1   bool // bytes only: its index commit was flushed on its own
}

// openJournal recovers the journals of processes that are gone (their
// blobs, then through reindex their lost index rows), then starts this
// process's own.
func openJournal(store localStore, log *slog.Logger, reindex func(id string, recs []replayed) error, syncIndex func(id string) error) (*journal, error) {
	root := filepath.Join(store.Root(), "journal")
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if err := recoverJournals(root, store, log, reindex); err != nil {
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
	j := &journal{id: id, dir: filepath.Join(root, id), lock: lock, store: store, log: log, syncIndex: syncIndex,
		kick: make(chan struct{}, 1), done: make(chan struct{})}
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

// nextGroup numbers the next group commit.
func (j *journal) nextGroup() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.group++
	return j.group
}

// Append writes a group commit's records with one writev and returns once
// one fdatasync made them durable. The committer is the only appender:
// every association, STOW-RS request and import worker whose rows are in
// the group shares that flush. The caller publishes each record's blob
// and then calls published(seg).
func (j *journal) Append(recs []journalRec) (*segment, error) {
	hdrs := make([]byte, 0, len(recs)*(journalHdrSize+4+256))
	bufs := make([][]byte, 0, 2*len(recs))
	var n int64
	withData := 0
	for _, r := range recs {
		off := len(hdrs)
		plen := 4 + len(r.meta) + len(r.data)
		// The digest covers the meta; the bytes are checked against the
		// meta's content digest (their address, already computed).
		h := sha256.New()
		var ml [4]byte
		binary.LittleEndian.PutUint32(ml[:], uint32(len(r.meta)))
		h.Write(ml[:])
		h.Write(r.meta)
		hdrs = append(hdrs, journalMagic...)
		hdrs = binary.LittleEndian.AppendUint64(hdrs, uint64(plen))
		hdrs = h.Sum(hdrs)
		hdrs = append(hdrs, ml[:]...)
		hdrs = append(hdrs, r.meta...)
		bufs = append(bufs, hdrs[off:len(hdrs):len(hdrs)])
		if len(r.data) > 0 {
			bufs = append(bufs, r.data)
			withData++
		}
		n += int64(journalHdrSize + plen)
	}
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
	if err := writev(j.f, bufs); err != nil {
		// A short write leaves a torn record; later records would follow it.
		j.err = fmt.Errorf("journal write: %w", err)
		return nil, j.err
	}
	j.size += n
	seg := j.segs[len(j.segs)-1]
	seg.pending += withData
	j.syncing = true
	f := j.f
	j.mu.Unlock()
	err := syscall.Fdatasync(int(f.Fd()))
	j.mu.Lock()
	j.syncing = false
	j.cond.Broadcast()
	if err != nil {
		j.err = fmt.Errorf("journal fdatasync: %w", err)
		seg.pending -= withData
		return nil, j.err
	}
	return seg, nil
}

// writev writes bufs in order, in as few system calls as the kernel takes.
func writev(f *os.File, bufs [][]byte) error {
	fd := int(f.Fd())
	for len(bufs) > 0 {
		n, err := unix.Writev(fd, bufs[:min(len(bufs), 1024)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for n > 0 {
			if n < len(bufs[0]) {
				bufs[0] = bufs[0][n:]
				break
			}
			n -= len(bufs[0])
			bufs = bufs[1:]
		}
	}
	return nil
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
func (j *journal) fail() {
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
		if j.failed || !(s.sealed || final) || s.pending > 0 {
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
	if err := j.syncIndex(j.id); err != nil {
		j.log.Error("journal checkpoint: index not flushed; segments kept for recovery", "error", err)
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

// Close makes every published blob and index commit durable and removes
// the journal, reporting whether it could; the archive calls it once no
// store is in flight.
func (j *journal) Close() bool {
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
	return left == 0
}

// recoverJournals replays the journals of processes that are gone (their
// lock is free): each intact record's blob is put back if it is missing or
// damaged, one syncfs makes them durable, then reindex commits the rows of
// the groups whose index commit was lost (a crash after the journal's
// flush, before the index's), and the journal is removed. A torn tail was
// never acknowledged.
func recoverJournals(root string, store localStore, log *slog.Logger, reindex func(id string, recs []replayed) error) error {
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
		restored, recs, err := replay(dir, store)
		if err == nil {
			err = store.SyncAll()
		}
		if err == nil {
			err = reindex(e.Name(), recs)
		}
		if err != nil {
			lock.Close()
			return fmt.Errorf("recover journal %s: %w", dir, err)
		}
		if len(recs) > 0 {
			log.Info("journal recovered", "records", len(recs), "blobs_restored", restored)
		}
		_ = os.RemoveAll(dir)
		_ = os.Remove(lockPath)
		lock.Close()
	}
	return nil
}

func replay(dir string, store localStore) (restored int, recs []replayed, err error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		return 0, nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		r, err := replaySegment(name, store, &recs)
		restored += r
		if err != nil {
			return restored, recs, err
		}
	}
	return restored, recs, nil
}

func replaySegment(name string, store localStore, recs *[]replayed) (restored int, err error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		var hdr [journalHdrSize]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return restored, nil // the end
		}
		v1 := string(hdr[:4]) == journalMagicV1
		n := binary.LittleEndian.Uint64(hdr[4:12])
		if !v1 && string(hdr[:4]) != journalMagic || n > 1<<40 || !v1 && n < 4 {
			return restored, nil // a torn tail
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return restored, nil
		}
		var rec replayed
		data := payload
		if v1 {
			sum := sha256.Sum256(data)
			if !bytes.Equal(sum[:], hdr[12:]) {
				return restored, nil
			}
			rec = replayed{v1: true, meta: journalMeta{SHA: hex.EncodeToString(sum[:]), Size: int64(len(data))}}
		} else {
			ml := uint64(binary.LittleEndian.Uint32(payload))
			if 4+ml > n {
				return restored, nil
			}
			if sum := sha256.Sum256(payload[:4+ml]); !bytes.Equal(sum[:], hdr[12:]) {
				return restored, nil
			}
			if err := json.Unmarshal(payload[4:4+ml], &rec.meta); err != nil {
				return restored, nil
			}
			data = payload[4+ml:]
			if len(data) > 0 && !hasDigest(bytes.NewReader(data), rec.meta.SHA) {
				return restored, nil
			}
		}
		*recs = append(*recs, rec)
		if len(data) == 0 {
			continue // fsync'd on the per-file path before its row was journaled
		}
		ok, err := restore(store, rec.meta.SHA, data)
		if err != nil {
			return restored, err
		}
		if ok {
			restored++
		}
	}
}

// restore puts data back under its content address unless an intact copy
// is there.
func restore(store localStore, digest string, data []byte) (bool, error) {
	ctx := context.Background()
	key := BlobKey(digest)
	if intact(ctx, store, key, digest) {
		return false, nil
	}
	w, err := store.Create(ctx)
	if err != nil {
		return false, err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return false, err
	}
	// A damaged copy is replaced: Commit keeps an existing key.
	_ = store.Delete(ctx, key)
	if err := w.Commit(ctx, key); err != nil {
		return false, err
	}
	return true, nil
}

// intact reports whether key holds bytes with digest.
func intact(ctx context.Context, store localStore, key string, digest string) bool {
	o, err := store.Open(ctx, key)
	if err != nil {
		return false
	}
	defer o.Close()
	return hasDigest(o, digest)
}
