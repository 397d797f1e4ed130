package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
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
// (none when they were fsync'd on the per-file path). A packed record
// (meta.Pack) begins on a blob.PackAlign boundary and is followed by zeros
// to the next; zeros where a record would begin are skipped, as are the
// holes a checkpoint or a deletion punched. A torn tail fails the
// length or the digest and ends the segment. Records of the first version
// (journalMagicV1: the bytes alone, their digest in the header) are still
// replayed.
const (
	journalMagic   = "LBJ2"
	journalMagicV1 = "LBJ1"
	journalHdrSize = 4 + 8 + sha256.Size
	// segmentMax is where a segment is sealed and a new one begun; a sealed
	// segment is checkpointed once a syncfs made its published blobs
	// durable and a flushed commit its index rows.
	segmentMax = 128 << 20
	// inMemoryMax bounds the bytes of an instance received into memory
	// without counting against packedBudget; it was the bound of the
	// published ones before packMin (below), which is why:
	// Journaling writes each byte twice (journal, then the
	// content-addressed file) to put one sequential, shared fdatasync on
	// the acknowledgement path instead of the per-file path's fsyncs of
	// file and folder. That pays where flushes bound the rate (38 KB: 1.3×
	// the per-file path in bench/ingest.sh), not for large instances on a
	// starved machine: journaled and published, 526 KB slices (run D in
	// bench/README.md) went at 0.9× the per-file path over one association
	// and import at 0.55× (CPU: the second write, and the syncfs each
	// sealed segment needs). Packed, they are written once and need no
	// syncfs; so are instances from packMin up.
	inMemoryMax = 256 << 10
	// packMin: an instance the journal takes is packed from this size up,
	// journaled and published as a file below it. Packing 38 KB instances
	// saves the publish (a file create, write and rename each) and the
	// segment's syncfs: 0.1-0.7 ms of CPU per instance and 1.03-1.49x the
	// C-STORE rate over one association in four A/B pairs on a shared
	// machine (bench/README.md, session 10, h/packsmall). Smaller blobs stay files: the blob store keeps the
	// bytes of files under 16 KiB in memory once read (its cacheBelow),
	// which packs do not have (a whole-series WADO-RS of 1,000 × 8 KB
	// instances took 2.5x the time packed), and a packed record wastes
	// up to 4 KiB to its alignment, at most a quarter from 16 KiB.
	packMin = 16 << 10
	// packMax bounds an instance the journal keeps as its blob (packed):
	// over inMemoryMax and up to this, an instance is received into memory
	// and appended once, its bytes never published as a file of their
	// own (doc.go). Larger ones (a whole-slide or multi-frame object)
	// stream to a temporary blob on the per-file path, not into memory.
	packMax = 16 << 20
	// packedBudget bounds the bytes past inMemoryMax of all instances
	// being received into memory to be packed; past it they stream to
	// temporary blobs (the per-file path), so memory stays bounded however
	// many arrive at once.
	packedBudget = 96 << 20
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
	// Pack: the record's bytes are the instance's blob for good, named
	// by where they are (blob.PackKey), never published as a file.
	Pack bool `json:"pk,omitempty"`
}

// journalRec is one record to append: meta, and the bytes when they are
// journaled; packed: the bytes stay in the segment as the blob (a large
// instance), the record aligned to blob.PackAlign so deleting it punches
// whole blocks.
type journalRec struct {
	meta   []byte
	data   []byte
	packed bool
}

type segment struct {
	path    string // journal/<id>/<n>.wal: there until the segment is checkpointed
	pack    string // packs/<id>-<n>.pack, the same file: the store of its packed blobs
	pending int    // appended records whose blob is not yet published
	sealed  bool
	// published: records of it were published as files, which its
	// checkpoint must make durable (syncfs) before it goes.
	published bool
	keep      [][2]int64 // extents of packed blobs the index names
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
	placed  placement // where the next Append's packed records go (place)
	err     error     // a failed write or fsync poisons the journal
	failed  bool      // a blob failed to publish: keep every segment for recovery

	// direct: f is written with direct I/O (journal_direct.go), a group
	// at a time through stage, padded to directAlign. noDirect: new
	// segments are not (switched off, or the file system refused it).
	direct, noDirect bool
	stage            []byte

	kick chan struct{}
	done chan struct{}
}

// replayed is a record read back from a dead process's journal.
type replayed struct {
	meta journalMeta
	v1   bool   // bytes only: its index commit was flushed on its own
	key  string // a packed blob's key (its place in the segment)
}

// openJournal recovers the journals of processes that are gone (their
// blobs, then through reindex their lost index rows), then starts this
// process's own.
func openJournal(store localStore, log *slog.Logger, directIO bool, reindex func(id string, recs []replayed) error, syncIndex func(id string) error) (*journal, error) {
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
		noDirect: !directIO, kick: make(chan struct{}, 1), done: make(chan struct{})}
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
//
// A segment is also a pack: made in packs/ and linked into the journal's
// folder, both entries durable before its first record. Checkpointing it
// removes the journal's link (and the pack's, when it holds no packed blob).
func (j *journal) newSegment() error {
	seg := &segment{path: filepath.Join(j.dir, fmt.Sprintf("%016d.wal", j.nextSeg)),
		pack: filepath.Join(blob.PacksDir(j.store.Root()), packName(j.id, j.nextSeg))}
	j.nextSeg++
	// No O_APPEND: Append writes at explicit offsets (pwrite), which
	// direct I/O needs and O_APPEND would override.
	f, err := os.OpenFile(seg.pack, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("journal segment: %w", err)
	}
	j.direct = false
	if !j.noDirect {
		if err := setDirect(f); err != nil {
			j.noDirect = true // said once: the file system stays the same
			j.log.Info("ingest journal: writing through the page cache", "reason", err)
		} else {
			j.direct = true
		}
	}
	if err := os.Link(seg.pack, seg.path); err != nil {
		f.Close()
		os.Remove(seg.pack)
		return fmt.Errorf("journal segment: %w", err)
	}
	for _, dir := range []string{j.dir, filepath.Dir(seg.pack)} {
		if err := blob.SyncDir(dir); err != nil {
			f.Close()
			return err
		}
	}
	j.f, j.size = f, 0
	j.segs = append(j.segs, seg)
	return nil
}

// exists reports whether journal id's folder is there (or cannot be told
// missing): a live or dead process's journal, not one closed for good.
func (j *journal) exists(id string) bool {
	_, err := os.Stat(filepath.Join(filepath.Dir(j.dir), id))
	return !errors.Is(err, fs.ErrNotExist)
}

// packName is the pack file of journal id's segment n.
func packName(id string, n int) string { return fmt.Sprintf("%s-%016d.pack", id, n) }

// placement is where place put the next Append's packed records: that
// segment, from that size on.
type placement struct {
	seg  *segment
	size int64
}

// alignUp rounds off up to the next blob.PackAlign boundary.
func alignUp(off int64) int64 { return (off + blob.PackAlign - 1) &^ (blob.PackAlign - 1) }

// place decides where the next Append writes the packed records of recs
// (which come first in it) and returns their blob keys, so the group's
// index rows can name them before the bytes are written. The committer is
// the only appender, so nothing moves the segment's end in between.
func (j *journal) place(recs []journalRec) ([]string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.ready(); err != nil {
		return nil, err
	}
	seg := j.segs[len(j.segs)-1]
	j.placed = placement{seg: seg, size: j.size}
	keys := make([]string, 0, len(recs))
	off := j.size
	for _, r := range recs {
		if !r.packed {
			break
		}
		data := alignUp(off) + journalHdrSize + 4 + int64(len(r.meta))
		keys = append(keys, blob.PackKey(filepath.Base(seg.pack), data, int64(len(r.data))))
		off = alignUp(data + int64(len(r.data)))
	}
	return keys, nil
}

// ready makes sure a segment with room is open; mu held.
func (j *journal) ready() error {
	if j.err != nil {
		return j.err
	}
	switch {
	case j.f == nil: // the first segment is made on first use
		if err := j.newSegment(); err != nil {
			j.err = err
			return err
		}
	case j.size >= segmentMax:
		return j.rotate()
	}
	return nil
}

// kept records packed blobs of seg that index rows name: a checkpoint
// frees the rest of the segment.
func (j *journal) kept(seg *segment, keys []string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, k := range keys {
		if _, off, n, err := blob.ParsePackKey(k); err == nil {
			start, end := blob.PackExtent(off, n)
			seg.keep = append(seg.keep, [2]int64{start, end})
		}
	}
}

// nextGroup numbers the next group commit.
func (j *journal) nextGroup() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.group++
	return j.group
}

// Append writes a group commit's records (journal.write: direct I/O, or
// pwritev through the page cache) and returns once one fdatasync made them
// durable. The committer is the only appender: every association, STOW-RS
// request and import worker whose rows are in the group shares that flush.
// packed, the group's packed records, go first, where place put them, and
// are written while rest runs: rest indexes the group and returns its
// other records (journaled bytes, rows), written after them once the
// packed write is done (one write at a time: write may leave direct I/O).
// The overlap takes the index work off the device's idle time: the
// committer was ≈ 90% busy over 4 associations of 526 KB instances, 70%
// of it in Append (bench/README.md, session 11). When rest
// fails nothing is appended: the packed bytes already written lie past the
// segment's end, where the next group writes over them. With no record at
// all Append writes nothing and returns a nil segment. The caller
// publishes each journaled (not packed) record's blob and then calls
// published(seg).
func (j *journal) Append(packed []journalRec, rest func() ([]journalRec, error)) (*segment, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(packed) > 0 && (j.placed.seg == nil || j.placed.size != j.size || j.placed.seg != j.segs[len(j.segs)-1]) {
		return nil, errors.New("journal: packed records not where they were placed")
	}
	j.placed = placement{}
	if err := j.ready(); err != nil {
		return nil, err
	}
	seg, f := j.segs[len(j.segs)-1], j.f
	at := j.size
	// The writes and the flush run without mu, as rotate and Close wait
	// for syncing: a direct write waits for the device, and publishers
	// (published) need mu meanwhile. The committer is the only appender,
	// so nothing else moves the segment's end.
	j.syncing = true
	j.mu.Unlock()
	var wrote chan error
	end := at
	if len(packed) > 0 {
		var bufs [][]byte
		bufs, end, _ = j.layout(packed, at)
		wrote = make(chan error, 1)
		go func() { wrote <- j.write(bufs, at) }()
	}
	recs, err := rest()
	if wrote != nil {
		// Waited for on every path: past this the next group may write here.
		if werr := <-wrote; werr != nil {
			err = &journalError{fmt.Errorf("journal write: %w", werr)}
		}
	}
	withData := 0
	if err == nil && len(recs) > 0 {
		var bufs [][]byte
		from := end
		bufs, end, withData = j.layout(recs, from)
		if werr := j.write(bufs, from); werr != nil {
			err = &journalError{fmt.Errorf("journal write: %w", werr)}
		}
	}
	if err == nil && end > at {
		if serr := syscall.Fdatasync(int(f.Fd())); serr != nil {
			err = &journalError{fmt.Errorf("journal fdatasync: %w", serr)}
		}
	}
	j.mu.Lock()
	j.syncing = false
	j.cond.Broadcast()
	var failed *journalError
	switch {
	case errors.As(err, &failed):
		// A short write leaves a torn record; later records would follow it.
		j.err = err
		return nil, err
	case err != nil:
		return nil, err // rest failed: nothing appended
	case end == at:
		return nil, nil
	}
	seg.pending += withData
	seg.published = seg.published || withData > 0
	j.size = end
	return seg, nil
}

// journalError is a failed write or flush of the journal, which poisons
// it (journal.err), as against the failure of the index work in between.
type journalError struct{ err error }

func (e *journalError) Error() string { return e.err.Error() }
func (e *journalError) Unwrap() error { return e.err }

// layout lays recs out from off: their bytes to write, where they end and
// how many carry journaled (not packed) bytes. A packed record starts and
// ends on a blob.PackAlign boundary; with direct I/O so does the whole
// (zeros the scan skips), as a direct write is whole blocks.
func (j *journal) layout(recs []journalRec, off int64) (bufs [][]byte, end int64, withData int) {
	hdrs := make([]byte, 0, len(recs)*(journalHdrSize+4+256))
	bufs = make([][]byte, 0, 2*len(recs)+2)
	pad := func(to int64) {
		if to > off {
			bufs = append(bufs, zeros[:to-off])
			off = to
		}
	}
	for _, r := range recs {
		if r.packed {
			pad(alignUp(off))
		}
		start := len(hdrs)
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
		bufs = append(bufs, hdrs[start:len(hdrs):len(hdrs)])
		if len(r.data) > 0 {
			bufs = append(bufs, r.data)
			if !r.packed {
				withData++
			}
		}
		off += int64(journalHdrSize + plen)
		if r.packed {
			pad(alignUp(off))
		}
	}
	if j.direct {
		pad(alignUp(off))
	}
	return bufs, off, withData
}

// zeros pads packed records to their alignment.
var zeros = make([]byte, blob.PackAlign)

// writevMax bounds the bytes of one write, and is the direct path's
// staging buffer (journal_direct.go). A group of packed 526 KB
// instances runs to megabytes, and one call of 17 MB (32 of them, an
// import's group) cost 0.5-1 ms of system time per instance now and then,
// against 0.13-0.19 ms in calls of about 2 MB or in single writes (a probe
// of 8 groups, six times over; bench/README.md, session 10).
const writevMax = 2 << 20

// pwritev writes bufs in order at off, in calls of at most writevMax
// bytes: a segment's writes through the page cache.
func pwritev(fd int, bufs [][]byte, off int64) error {
	call := make([][]byte, 0, 16)
	for len(bufs) > 0 {
		call = call[:0]
		size := 0
		for _, b := range bufs {
			if size >= writevMax || len(call) == 1024 {
				break
			}
			b = b[:min(len(b), writevMax-size)]
			call = append(call, b)
			size += len(b)
		}
		n, err := unix.Pwritev(fd, call, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		off += int64(n)
		for len(bufs) > 0 && n >= len(bufs[0]) {
			n -= len(bufs[0])
			bufs = bufs[1:]
		}
		if n > 0 {
			bufs[0] = bufs[0][n:]
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
	_ = blob.SealPack(j.f)
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
	published := false
	for _, s := range retire {
		published = published || s.published
	}
	// Packed blobs were durable when appended: only blobs published as
	// files need the syncfs, which flushes the whole (shared) file system.
	if published {
		if err := j.store.SyncAll(); err != nil {
			j.log.Error("journal checkpoint: blobs not synced; segments kept for recovery", "error", err)
			return
		}
	}
	if err := j.syncIndex(j.id); err != nil {
		j.log.Error("journal checkpoint: index not flushed; segments kept for recovery", "error", err)
		return
	}
	j.log.Debug("journal checkpoint", "segments", len(retire), "syncfs", time.Since(start))
	for _, s := range retire {
		j.mu.Lock()
		keep := s.keep
		j.mu.Unlock()
		if err := keepPacked(s.pack, keep); err != nil {
			j.log.Error("journal checkpoint: pack not trimmed", "error", err)
		}
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
		_ = blob.SealPack(j.f)
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
// flush, before the index's), each segment keeps only its packed blobs,
// and the journal is removed. A torn tail was never acknowledged.
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
		// Every intact packed blob is kept: one whose row never committed
		// is an orphan for check --clean-orphans.
		keep := map[string][][2]int64{}
		for _, r := range recs {
			if r.key != "" {
				name, off, n, _ := blob.ParsePackKey(r.key)
				start, end := blob.PackExtent(off, n)
				keep[name] = append(keep[name], [2]int64{start, end})
			}
		}
		segs, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
		for _, seg := range segs {
			pack := filepath.Join(blob.PacksDir(store.Root()), segmentPack(seg))
			if err := keepPacked(pack, keep[filepath.Base(pack)]); err != nil {
				log.Error("journal recovery: pack not trimmed", "error", err)
			}
		}
		_ = os.RemoveAll(dir)
		_ = os.Remove(lockPath)
		lock.Close()
	}
	return nil
}

// segmentPack is the pack name of a journal segment's path
// (journal/<id>/<n>.wal).
func segmentPack(seg string) string {
	n, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(seg), ".wal"))
	return packName(filepath.Base(filepath.Dir(seg)), n)
}

// keepPacked frees everything in a checkpointed segment's pack but the
// extents of keep (its packed blobs the index names) and seals it: the
// journal's records are done with. A pack with none is removed.
func keepPacked(pack string, keep [][2]int64) error {
	if len(keep) == 0 {
		if err := os.Remove(pack); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	f, err := os.OpenFile(pack, os.O_WRONLY, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	sort.Slice(keep, func(a, b int) bool { return keep[a][0] < keep[b][0] })
	var off int64
	for _, k := range append(keep, [2]int64{st.Size(), st.Size()}) {
		if k[0] > off {
			if err := blob.PunchHole(f, off, k[0]-off); err != nil && !errors.Is(err, errors.ErrUnsupported) {
				return err
			}
		}
		off = max(off, k[1])
	}
	if err := blob.SealPack(f); err != nil {
		return err
	}
	if blob.Empty(f) {
		// Its blobs were deleted meanwhile, each before the seal that
		// would have let its deletion remove the pack.
		if err := os.Remove(pack); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
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
	pack := segmentPack(name)
	err = scanSegment(f, true, func(rec replayed, off int64, data []byte) error {
		if rec.meta.Pack {
			// The blob itself, where the index rows name it.
			rec.key = blob.PackKey(pack, off, int64(len(data)))
			*recs = append(*recs, rec)
			return nil
		}
		*recs = append(*recs, rec)
		if len(data) == 0 {
			return nil // fsync'd on the per-file path before its row was journaled
		}
		ok, err := restore(store, rec.meta.SHA, data)
		if ok {
			restored++
		}
		return err
	})
	return restored, err
}

// scanSegment calls fn with each intact record of a segment in order, the
// offset of its bytes in the segment and, withData, the bytes (checked
// against their digest); it stops at a torn tail. Zeros where a record
// would begin are a packed record's or a direct-written group's
// alignment, or a hole a checkpoint or a deletion punched: the scan goes
// on at the next data past them.
func scanSegment(f *os.File, withData bool, fn func(rec replayed, off int64, data []byte) error) error {
	var pos int64
	for {
		var hdr [journalHdrSize + 4]byte
		n, err := f.ReadAt(hdr[:], pos)
		if n < journalHdrSize {
			return nil // the end
		}
		// No record starts with a zero byte (the magic): padding or a
		// hole. The first byte alone, as padding can be 1-3 bytes long
		// (a group of unpacked records ending 1-3 bytes before a
		// boundary, and the next group's packed or direct-written record
		// on it), where four bytes would include the next magic's.
		if hdr[0] == 0 {
			next := blob.NextData(f, alignUp(pos+1))
			if next < 0 {
				return nil
			}
			pos = next &^ (blob.PackAlign - 1)
			continue
		}
		v1 := string(hdr[:4]) == journalMagicV1
		plen := int64(binary.LittleEndian.Uint64(hdr[4:12]))
		if !v1 && string(hdr[:4]) != journalMagic || plen > 1<<40 || !v1 && (plen < 4 || err != nil) {
			return nil // a torn tail
		}
		var rec replayed
		var data []byte
		off := pos + journalHdrSize
		if v1 {
			data = make([]byte, plen)
			if _, err := f.ReadAt(data, off); err != nil {
				return nil
			}
			sum := sha256.Sum256(data)
			if !bytes.Equal(sum[:], hdr[12:journalHdrSize]) {
				return nil
			}
			rec = replayed{v1: true, meta: journalMeta{SHA: hex.EncodeToString(sum[:]), Size: int64(len(data))}}
		} else {
			ml := int64(binary.LittleEndian.Uint32(hdr[journalHdrSize:]))
			if 4+ml > plen {
				return nil
			}
			meta := make([]byte, 4+ml)
			if _, err := f.ReadAt(meta, off); err != nil {
				return nil
			}
			if sum := sha256.Sum256(meta); !bytes.Equal(sum[:], hdr[12:journalHdrSize]) {
				return nil
			}
			if err := json.Unmarshal(meta[4:], &rec.meta); err != nil {
				return nil
			}
			off += 4 + ml
			dlen := plen - 4 - ml
			if withData && dlen > 0 {
				data = make([]byte, dlen)
				if _, err := f.ReadAt(data, off); err != nil || !hasDigest(bytes.NewReader(data), rec.meta.SHA) {
					return nil
				}
			} else if st, err := f.Stat(); err != nil || off+dlen > st.Size() {
				return nil
			}
		}
		if err := fn(rec, off, data); err != nil {
			return err
		}
		pos = pos + journalHdrSize + plen
	}
}

// walkPacks calls fn with the key of every packed blob in the folder
// store at root (deleted ones are holes, skipped) and its pack's last
// change: an orphan check's view of the packs. A pack still being
// appended to shows what it holds so far.
func walkPacks(ctx context.Context, root string, fn func(key string, published time.Time) error) error {
	dir := blob.PacksDir(root)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // removed meanwhile
		}
		st, err := f.Stat()
		if err == nil {
			err = scanSegment(f, false, func(rec replayed, off int64, _ []byte) error {
				if !rec.meta.Pack {
					return nil
				}
				return fn(blob.PackKey(e.Name(), off, rec.meta.Size), st.ModTime())
			})
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
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
