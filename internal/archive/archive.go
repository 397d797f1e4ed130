package archive

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"lightbox/internal/facility"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lightbox/internal/blob"
	"lightbox/internal/db"
	"lightbox/internal/dcm"
)

// DuplicatePolicy decides what a re-sent SOP Instance UID with different bytes does.
type DuplicatePolicy string

// Duplicate policies. KeepFirst answers success so a modality never loops
// on retries, and records the duplicate for a coordinator.
const (
	KeepFirst DuplicatePolicy = "keep-first"
	Replace   DuplicatePolicy = "replace"
	Reject    DuplicatePolicy = "reject"
)

// Replaces reports whether a stored instance's bytes may change under its
// SOP Instance UID (the replace policy): readers must then not cache them
// as immutable.
func (a *Archive) Replaces() bool { return a.opt.Duplicates == Replace }

// ParsePolicy validates a policy name.
func ParsePolicy(s string) (DuplicatePolicy, error) {
	switch p := DuplicatePolicy(s); p {
	case KeepFirst, Replace, Reject:
		return p, nil
	case "":
		return KeepFirst, nil
	}
	return "", fmt.Errorf("unknown duplicate policy %q (want keep-first, replace or reject)", s)
}

// Outcome says what happened to a stored instance.
type Outcome string

// Outcomes of Store.
const (
	Stored        Outcome = "stored"
	SameDuplicate Outcome = "duplicate"            // identical bytes were already stored
	KeptFirst     Outcome = "duplicate-kept-first" // different bytes; the first is kept
	Replaced      Outcome = "replaced"
	Rejected      Outcome = "duplicate-rejected"
)

// Source says where an instance came from.
type Source struct {
	AETitle  string // calling AE title (DIMSE)
	Facility string // facility ID when the sender is known
	Remote   string // remote address, for logs
	// Check, when set, may refuse the instance once its study and the
	// study's facility are known, before anything is indexed (a STOW to
	// /studies/{s} with another study, a sender outside the study's
	// facility). Its error is returned wrapped in ErrRefused.
	Check func(studyUID, studyFacility string) error
}

// Result describes a stored instance.
type Result struct {
	SOPClassUID    string
	SOPInstanceUID string
	StudyUID       string
	SeriesUID      string
	TransferSyntax string
	Size           int64
	Digest         string // content digest: "blake3:" + hex, or SHA-256 hex if stored before (digest.go)
	Outcome        Outcome
	FacilityID     string
	// Warnings lists what was odd about the instance (stored with it).
	Warnings []Warning
}

// InputError means the instance itself is unacceptable (malformed, missing
// required attributes); retrying the same bytes will fail again. Code says
// which kind; the edges map it to a DIMSE status or STOW-RS failure reason,
// and Reason is the human-readable comment they send back.
type InputError struct {
	Code   InputCode
	Reason string
	Err    error // the parser's error, when there is one
}

func (e *InputError) Error() string { return e.Reason }

func (e *InputError) Unwrap() error { return e.Err }

// InputCode classifies an InputError.
type InputCode string

// Kinds of unacceptable input.
const (
	// InputNotDICOM: neither a Part 10 file nor a detectable data set.
	InputNotDICOM InputCode = "not-dicom"
	// InputMalformed: the encoding cannot be parsed (truncated, bad lengths).
	InputMalformed InputCode = "malformed"
	// InputMissingAttribute: a UID the archive keys on is missing or invalid.
	InputMissingAttribute InputCode = "missing-attribute"
	// InputPixelData: the pixel data does not hold what the image attributes say.
	InputPixelData InputCode = "pixel-data"
	// InputCommandMismatch: a C-STORE command names other UIDs than its data set.
	InputCommandMismatch InputCode = "command-mismatch"
)

func parseInputError(err error) *InputError {
	code := InputMalformed
	if errors.Is(err, dcm.ErrNotPart10) {
		code = InputNotDICOM
	}
	return &InputError{Code: code, Reason: err.Error(), Err: err}
}

// ErrDuplicateRejected is returned under the Reject policy.
var ErrDuplicateRejected = errors.New("an instance with this SOP Instance UID and different content is already stored")

// ErrRefused matches a Source.Check refusal (a *RefusedError): nothing was
// indexed.
var ErrRefused = errors.New("refused")

// RefusedError carries Source.Check's reason, for the edges to send back.
type RefusedError struct{ Reason error }

func (e *RefusedError) Error() string { return "refused: " + e.Reason.Error() }

// Unwrap lets callers match both ErrRefused and the Check's own error.
func (e *RefusedError) Unwrap() []error { return []error{ErrRefused, e.Reason} }

// ErrClosed is returned by Store after Close.
var ErrClosed = errors.New("archive is shutting down")

// Options configure an Archive.
type Options struct {
	Duplicates DuplicatePolicy
	Logger     *slog.Logger
	Now        func() time.Time
	// ForeignPatients decides what an instance whose patient belongs to
	// another facility's namespace does (default RejectForeign).
	ForeignPatients ForeignPolicy
	// MaxBatch bounds how many index commits share one transaction.
	MaxBatch int
	// NoJournal keeps the per-instance fsync'd blob commit on a folder
	// store (the journal is used only there; see doc.go).
	NoJournal bool
	// NoDirectIO writes the journal's segments through the page cache
	// rather than with direct I/O (journal_direct.go), for comparison and
	// for file systems whose direct I/O misbehaves.
	NoDirectIO bool
}

// Archive stores and indexes instances.
type Archive struct {
	db    *db.DB
	blobs blob.Store
	opt   Options
	log   *slog.Logger

	reqs    chan *commitReq
	journal *journal // nil: blobs commit one by one
	// unpublished holds journaled instances whose blob is being written
	// after acknowledgement; Open serves them from memory meanwhile.
	pubMu       sync.Mutex
	pubRoom     *sync.Cond   // signalled as unpublished bytes are written
	pubBytes    int          // bytes in unpublished, bounded by unpublishedMax
	spooled     atomic.Int64 // bytes of instances received past inMemoryMax, bounded by packedBudget
	unpublished map[string]*memBlob
	loseCommit  func() bool // tests: see errLostCommit
	publishing  sync.WaitGroup
	mu          sync.RWMutex // guards closed against in-flight Store calls
	closed      bool
	inflight    sync.WaitGroup
	done        chan struct{}
	// observe, when the blob store is instrumented, gets a "commit" per
	// instance the journal made durable (commit.go), as the store's own
	// Commit reports the per-file path's: the metric counts every instance
	// written.
	observe blob.Observer
}

// New starts an archive; Close stops it after in-flight stores finish.
func New(d *db.DB, blobs blob.Store, opt Options) *Archive {
	if opt.Duplicates == "" {
		opt.Duplicates = KeepFirst
	}
	if opt.ForeignPatients == "" {
		opt.ForeignPatients = RejectForeign
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 128
	}
	a := &Archive{db: d, blobs: blobs, opt: opt, log: opt.Logger, reqs: make(chan *commitReq, 256), done: make(chan struct{}),
		observe: blob.ObserverOf(blobs)}
	if l := unwrapLocal(blobs); l != nil && !opt.NoJournal {
		j, err := openJournal(l, a.log, !opt.NoDirectIO, a.reindex, a.syncIndex)
		if err != nil {
			// The journal stays on disk for the next start; stores meanwhile
			// commit each blob on its own.
			a.log.Error("ingest journal unavailable; blobs commit one by one", "error", err)
		} else {
			a.journal = j
			a.unpublished = map[string]*memBlob{}
			a.pubRoom = sync.NewCond(&a.pubMu)
			a.pruneMarkers()
		}
	}
	go a.committer()
	return a
}

// Close waits for in-flight stores, then stops the committer.
func (a *Archive) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	a.mu.Unlock()
	a.inflight.Wait()
	close(a.reqs)
	<-a.done
	a.publishing.Wait()
	if a.journal != nil && a.journal.Close() {
		a.dropMarker(a.journal.id)
	}
}

func (a *Archive) begin() error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return ErrClosed
	}
	a.inflight.Add(1)
	return nil
}

// Store ingests a Part 10 stream.
func (a *Archive) Store(ctx context.Context, r io.Reader, src Source) (*Result, error) {
	if err := a.begin(); err != nil {
		return nil, err
	}
	defer a.inflight.Done()
	return a.ingest(ctx, r, src, nil)
}

// StoreDataset ingests a data set without meta information (as DIMSE
// carries it), encoded in tsUID; a Part 10 header is written in front.
func (a *Archive) StoreDataset(ctx context.Context, r io.Reader, sopClass, sopInstance, tsUID string, src Source) (*Result, error) {
	if err := a.begin(); err != nil {
		return nil, err
	}
	defer a.inflight.Done()
	var hdr bytes.Buffer
	if err := dcm.WriteHeader(&hdr, dcm.NewMeta(sopClass, sopInstance, tsUID, src.AETitle)); err != nil {
		return nil, fmt.Errorf("store instance %s: %w", sopInstance, err)
	}
	return a.ingest(ctx, io.MultiReader(&hdr, r), src, &commandUIDs{class: sopClass, instance: sopInstance})
}

// commandUIDs are the SOP Class and Instance a DIMSE command names: the
// data set must carry the same (PS3.4 C.4.2.1.4.1), checked before
// anything is kept.
type commandUIDs struct{ class, instance string }

// tee copies what the parser reads into the blob and the hash, remembering
// whether a failure came from the source or from our own disk.
type tee struct {
	r        io.Reader
	w        io.Writer
	n        int64
	readErr  error
	writeErr error
}

func (t *tee) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		if _, werr := t.w.Write(p[:n]); werr != nil {
			t.writeErr = werr
			return n, werr
		}
		t.n += int64(n)
	}
	if err != nil && err != io.EOF {
		t.readErr = err
	}
	return n, err
}

// spool holds an instance as it arrives: in memory while it is small
// enough for the journal, else in a temporary blob written as it arrives.
// (Receiving larger ones into memory and writing them in one go cost more
// CPU, not less: 4.6–4.8 against 3.7–4.4 ms per 526 KB instance, run G in
// bench/README.md.)
type spool struct {
	a    *Archive
	ctx  context.Context
	held int64 // bytes counted in a.spooled (grow)
	buf  *bytes.Buffer
	w    blob.Writer
}

// spoolBufs keeps receive buffers for the next instances: a channel, not
// a sync.Pool, since a collection empties a pool, and ingesting 526 KB
// instances collects often: regrowing a buffer per instance (allocating
// and zeroing it) was ≈ 12% of the CPU of storing one (pprof of
// BenchmarkIngest, bench/README.md, session 10). Bounded in number and
// size (pooledMax): at most 32 MiB stays allocated.
var spoolBufs = make(chan *bytes.Buffer, 16)

// pooledMax bounds the buffers spoolBufs keeps: a CT or MR slice's fits
// (526 KB grows one to 1 MiB), a rare large instance's is left to the GC.
const pooledMax = 2 << 20

func getSpoolBuf() *bytes.Buffer {
	select {
	case b := <-spoolBufs:
		return b
	default:
		return new(bytes.Buffer)
	}
}

// grow reports whether n more bytes of an instance past inMemoryMax may
// be received into memory, to be packed: only with a journal, up to
// packMax, and while every instance's bytes past inMemoryMax stay within
// packedBudget (32 imports in flight, a few STOW-RS requests and many
// associations at once). Otherwise the instance streams to a temporary
// blob and takes the per-file path.
func (s *spool) grow(n int) bool {
	if s.a.journal == nil || s.buf.Len()+n > packMax {
		return false
	}
	if s.a.spooled.Add(int64(n)) > packedBudget {
		s.a.spooled.Add(-int64(n))
		return false
	}
	s.held += int64(n)
	return true
}

// ungrow gives back n bytes grow granted but that did not arrive.
func (s *spool) ungrow(n int) {
	s.a.spooled.Add(-int64(n))
	s.held -= int64(n)
}

// Write takes what arrives past the in-memory bound: spill has made the
// temporary blob.
func (s *spool) Write(p []byte) (int, error) { return s.w.Write(p) }

// spill writes what is held in memory to a temporary blob, which takes
// the rest. The buffer is kept (receive still parses it) until release.
func (s *spool) spill(ctx context.Context) error {
	w, err := s.a.blobs.Create(ctx)
	if err != nil {
		return err
	}
	s.w = w
	_, err = w.Write(s.buf.Bytes())
	return err
}

func (s *spool) release() {
	if s.held > 0 {
		s.a.spooled.Add(-s.held)
		s.held = 0
	}
	if s.buf != nil && s.buf.Cap() <= pooledMax {
		s.buf.Reset()
		select {
		case spoolBufs <- s.buf:
		default:
		}
	}
	s.buf = nil
}

// errPastMemory stops fillReader where an instance may no longer be held
// in memory.
var errPastMemory = errors.New("archive: instance past the in-memory bound")

// fillReader is what receive reads an instance through into its spool's
// buffer (bytes.Buffer.ReadFrom reads into the buffer's free space, so
// the bytes land there without a copy): it hashes them where they land
// and stops with errPastMemory where the instance may not stay in memory:
// past inMemoryMax, unless grow grants it.
type fillReader struct {
	r       io.Reader
	sp      *spool
	h       hash.Hash
	readErr error
}

func (f *fillReader) Read(p []byte) (int, error) {
	s := f.sp
	have, granted := s.buf.Len(), 0
	switch {
	case have+len(p) <= inMemoryMax:
	case have < inMemoryMax:
		p = p[:inMemoryMax-have]
	default:
		// Reserve no more than one read is likely to bring (the free
		// space can be far larger), so that other instances are not
		// refused room they would have had.
		p = p[:min(len(p), inMemoryMax, max(packMax-have, 0))]
		if len(p) == 0 || !s.grow(len(p)) {
			return 0, errPastMemory
		}
		granted = len(p)
	}
	n, err := f.r.Read(p)
	if granted > n {
		s.ungrow(granted - n)
	}
	f.h.Write(p[:n])
	if err != nil && err != io.EOF {
		f.readErr = err
	}
	return n, err
}

// read receives the instance from r into the spool, hashing it into h,
// and parses it. One that may stay in memory is read into the spool's
// buffer and parsed from there (dcm.ReadFileBytes): parsing it through
// ReadFile's bufio.Reader and copying what that read into the spool cost
// two more copies of every byte. One past that bound streams on through
// the parser into a temporary blob. The size is the instance's length.
func (s *spool) read(r io.Reader, h hash.Hash) (f *dcm.File, size int64, err error) {
	fr := &fillReader{r: r, sp: s, h: h}
	_, err = s.buf.ReadFrom(fr)
	switch {
	case fr.readErr != nil:
		return nil, 0, fmt.Errorf("store instance: receive: %w", fr.readErr)
	case err == nil:
		f, err = dcm.ReadFileBytes(s.buf.Bytes(), dcm.ReadOptions{})
		if err != nil {
			return f, 0, parseInputError(err)
		}
		return f, int64(s.buf.Len()), nil
	case !errors.Is(err, errPastMemory):
		return nil, 0, fmt.Errorf("store instance: receive: %w", err)
	}
	if err := s.spill(s.ctx); err != nil {
		return nil, 0, fmt.Errorf("store instance: write blob: %w", err)
	}
	t := &tee{r: r, w: io.MultiWriter(s, h), n: int64(s.buf.Len())}
	f, err = dcm.ReadFile(io.MultiReader(bytes.NewReader(s.buf.Bytes()), t), dcm.ReadOptions{})
	s.release() // parsed: only the blob holds it now
	switch {
	case t.writeErr != nil:
		return f, 0, fmt.Errorf("store instance: write blob: %w", t.writeErr)
	case t.readErr != nil:
		return f, 0, fmt.Errorf("store instance: receive: %w", t.readErr)
	case err != nil:
		return f, 0, parseInputError(err)
	}
	return f, t.n, nil
}

func (s *spool) close() {
	if s.w != nil {
		_ = s.w.Abort()
	}
	s.release()
}

func (a *Archive) ingest(ctx context.Context, r io.Reader, src Source, cmd *commandUIDs) (*Result, error) {
	rc, res, err := a.receive(ctx, r, src, cmd)
	if err != nil {
		return res, err
	}
	return a.finish(ctx, rc)
}

// received is an instance read and parsed, not yet durable.
type received struct {
	sp  *spool
	row *instanceRow
	sum [32]byte
}

// receive reads and parses the instance into its spool; on error the
// spool is released and the Result names the instance if it could be read.
func (a *Archive) receive(ctx context.Context, r io.Reader, src Source, cmd *commandUIDs) (*received, *Result, error) {
	sp := &spool{a: a, ctx: ctx, buf: getSpoolBuf()}
	h := newContentHash()
	f, size, err := sp.read(r, h)
	var row *instanceRow
	if err == nil {
		row, err = buildRow(f)
	}
	if err != nil {
		sp.close()
		return nil, partial(f), err
	}
	if cmd != nil && (row.sopUID != cmd.instance || row.sopClass != cmd.class) {
		// The sender's bug, refused before the blob or a row is kept.
		sp.close()
		return nil, partial(f), &InputError{Code: InputCommandMismatch, Reason: fmt.Sprintf("data set SOP Class/Instance %s/%s does not match the command's %s/%s",
			row.sopClass, row.sopUID, cmd.class, cmd.instance)}
	}
	rc := &received{sp: sp, row: row}
	h.Sum(rc.sum[:0])
	row.size = size
	row.sha = formatDigest(rc.sum[:])
	row.blobKey = BlobKey(row.sha)
	row.src = src
	row.receivedAt = db.Now(a.opt.Now())
	return rc, nil, nil
}

// finish makes a received instance durable and indexes it: an instance
// the journal takes goes into the index's group commit, whose one journal
// flush covers its bytes and its rows; any other is fsync'd on its own
// first and only its row is journaled.
func (a *Archive) finish(ctx context.Context, rc *received) (*Result, error) {
	defer rc.sp.close()
	row := rc.row
	var (
		data   []byte
		m      *memBlob
		packed bool
	)
	switch {
	case a.journal != nil && rc.sp.w == nil && rc.sp.buf.Len() < packMin:
		data = rc.sp.buf.Bytes()
		a.reserve(len(data))
		m = a.hold(row.blobKey, data)
	case a.journal != nil && rc.sp.w == nil:
		// A large instance: its record in the journal is its blob.
		data, packed = rc.sp.buf.Bytes(), true
	default:
		if err := a.commitBlob(ctx, rc.sp, row.blobKey); err != nil {
			return nil, fmt.Errorf("store instance %s: %w", row.sopUID, err)
		}
	}
	res, seg, err := a.commit(ctx, row, data, packed)
	if m != nil {
		if err == nil && res.Outcome != SameDuplicate {
			a.publish(rc.sp, row.blobKey, m, seg)
		} else {
			a.unreserve(len(data))
			if !a.release(row.blobKey, m, data) {
				rc.sp.buf = nil // a reader has it
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store instance %s: %w", row.sopUID, err)
	}
	if res.Outcome == Rejected {
		return res, ErrDuplicateRejected
	}
	return res, nil
}

// StoreAsync reads and parses a Part 10 stream, then makes it durable and
// indexes it in the background, so a caller with more instances to read
// (one STOW-RS request) receives the next while this one commits. An error
// here means the instance was not accepted (the Result names it when it
// could be read); otherwise wait returns what Store would have. Nothing is
// acknowledged by StoreAsync itself: only wait's success means stored.
func (a *Archive) StoreAsync(ctx context.Context, r io.Reader, src Source) (wait func() (*Result, error), res *Result, err error) {
	if err := a.begin(); err != nil {
		return nil, nil, err
	}
	rc, res, err := a.receive(ctx, r, src, nil)
	if err != nil {
		a.inflight.Done()
		return nil, res, err
	}
	type outcome struct {
		res *Result
		err error
	}
	ch := make(chan outcome, 1)
	go func() {
		defer a.inflight.Done()
		res, err := a.finish(ctx, rc)
		ch <- outcome{res, err}
	}()
	return func() (*Result, error) { o := <-ch; return o.res, o.err }, nil, nil
}

// commitBlob makes an instance the journal does not take durable under
// key: its temporary blob, or the bytes received into memory written in
// one go, fsync'd and published.
func (a *Archive) commitBlob(ctx context.Context, sp *spool, key string) error {
	if sp.w == nil {
		if err := sp.spill(ctx); err != nil {
			return err
		}
	}
	return sp.w.Commit(ctx, key) // close's Abort is then a no-op
}

// hold lets Open serve a journaled instance's bytes from memory from
// before its rows commit until its blob is written.
func (a *Archive) hold(key string, data []byte) *memBlob {
	a.pubMu.Lock()
	defer a.pubMu.Unlock()
	m := a.unpublished[key]
	if m == nil {
		m = &memBlob{data: data}
		a.unpublished[key] = m
	}
	m.writers++
	return m
}

// release drops a hold and reports whether data's buffer may be reused:
// not when Open can still hand it out or has handed it out.
func (a *Archive) release(key string, m *memBlob, data []byte) bool {
	a.pubMu.Lock()
	defer a.pubMu.Unlock()
	if m.writers--; m.writers == 0 {
		delete(a.unpublished, key)
	}
	mine := &m.data[0] == &data[0]
	return !mine || (m.writers == 0 && !m.read)
}

// publish writes an acknowledged, journaled instance's blob without fsync
// in the background: the journal holds the bytes until a checkpoint's
// syncfs, and Open serves them from memory meanwhile.
func (a *Archive) publish(sp *spool, key string, m *memBlob, seg *segment) {
	buf := sp.buf
	sp.buf = nil // back to the pool once written, unless a reader saw it
	data := buf.Bytes()
	a.publishing.Go(func() {
		defer a.unreserve(len(data))
		if err := a.journal.store.PutUnsynced(key, data); err != nil {
			// The journal keeps the bytes (the segment is never retired)
			// and so does memory; the next start restores the blob.
			a.log.Error("publish journaled blob; kept in the journal for recovery", "key", key, "error", err)
			a.journal.fail()
			return
		}
		reuse := a.release(key, m, data)
		a.journal.published(seg)
		if reuse {
			(&spool{buf: buf}).release()
		}
	})
}

// reserve waits until n more bytes may wait in memory for their blob to be
// written (unpublishedMax; one instance is always let through).
func (a *Archive) reserve(n int) {
	a.pubMu.Lock()
	for a.pubBytes > 0 && a.pubBytes+n > unpublishedMax {
		a.pubRoom.Wait()
	}
	a.pubBytes += n
	a.pubMu.Unlock()
}

func (a *Archive) unreserve(n int) {
	a.pubMu.Lock()
	a.pubBytes -= n
	a.pubMu.Unlock()
	a.pubRoom.Broadcast()
}

// memBlob is an acknowledged instance's bytes not yet in the store.
type memBlob struct {
	data    []byte
	writers int
	read    bool // a reader was given data: the buffer is not reused
}

type memObject struct {
	*bytes.Reader
	size int64
}

func (o memObject) Size() int64  { return o.size }
func (o memObject) Close() error { return nil }

// openBlob opens a published blob, or one still being published.
func (a *Archive) openBlob(ctx context.Context, key string) (blob.Object, error) {
	if a.unpublished != nil {
		a.pubMu.Lock()
		m := a.unpublished[key]
		if m != nil {
			m.read = true
		}
		a.pubMu.Unlock()
		if m != nil {
			return memObject{Reader: bytes.NewReader(m.data), size: int64(len(m.data))}, nil
		}
	}
	o, err := a.blobs.Open(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		// An index row names this key, so a retired copy (a deletion that
		// raced with the same bytes being stored again, see DeleteQueued)
		// belongs back: restore it rather than fail the read.
		if r, ok := a.blobs.(blob.Retirer); ok && r.Restore(ctx, key) == nil {
			a.log.Warn("blob queue: restored a retired blob that an index row names", "blob", key)
			return a.blobs.Open(ctx, key)
		}
	}
	return o, err
}

// partial names a refused instance by whatever UIDs could be read, so the
// refusal can say which instance it was.
func partial(f *dcm.File) *Result {
	if f == nil || f.Dataset == nil {
		return nil
	}
	uid, class := f.Dataset.Str(dcm.TagSOPInstanceUID), f.Dataset.Str(dcm.TagSOPClassUID)
	if uid == "" && class == "" {
		return nil
	}
	return &Result{SOPInstanceUID: uid, SOPClassUID: class}
}

var uidPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

func checkUID(ds *dcm.Dataset, t dcm.Tag, name string) (string, error) {
	v := ds.Str(t)
	if v == "" {
		return "", &InputError{Code: InputMissingAttribute, Reason: fmt.Sprintf("missing %s %s", name, t)}
	}
	if len(v) > 64 || !uidPattern.MatchString(v) {
		return "", &InputError{Code: InputMissingAttribute, Reason: fmt.Sprintf("invalid %s %s: %q", name, t, v)}
	}
	return v, nil
}

type instanceRow struct {
	sopUID, sopClass, studyUID, seriesUID, ts string
	ds                                        *dcm.Dataset
	numFrames, rows, cols                     int
	meta                                      []byte
	frames                                    []byte
	size                                      int64
	sha, blobKey, receivedAt                  string
	src                                       Source
	warnings                                  []Warning
}

func buildRow(f *dcm.File) (*instanceRow, error) {
	ds := f.Dataset
	r := &instanceRow{ds: ds, ts: f.TransferSyntax.UID}
	if f.Meta.Str(dcm.TagMediaStorageSOPClassUID) == mediaStorageDirectory {
		return nil, &InputError{Code: InputMissingAttribute, Reason: "a DICOMDIR is an index of files, not an instance: send the files it lists"}
	}
	var err error
	if r.sopUID, err = checkUID(ds, dcm.TagSOPInstanceUID, "SOP Instance UID"); err != nil {
		return nil, err
	}
	if r.sopClass, err = checkUID(ds, dcm.TagSOPClassUID, "SOP Class UID"); err != nil {
		return nil, err
	}
	if r.studyUID, err = checkUID(ds, dcm.TagStudyInstanceUID, "Study Instance UID"); err != nil {
		return nil, err
	}
	if r.seriesUID, err = checkUID(ds, dcm.TagSeriesInstanceUID, "Series Instance UID"); err != nil {
		return nil, err
	}
	for _, q := range f.Quirks {
		r.warnings = append(r.warnings, Warning{Code: string(q.Code), Detail: q.Detail})
	}
	// The data set wins over the meta information, as in DCMTK and Orthanc.
	if m := f.Meta.Str(dcm.TagMediaStorageSOPInstanceUID); m != "" && m != r.sopUID {
		r.warnings = append(r.warnings, Warning{Code: WarnMetaSOPInstance, Detail: fmt.Sprintf("meta information SOP Instance UID %s differs from the data set's; the data set's is used", m)})
	}
	if m := f.Meta.Str(dcm.TagMediaStorageSOPClassUID); m != "" && m != r.sopClass {
		r.warnings = append(r.warnings, Warning{Code: WarnMetaSOPClass, Detail: fmt.Sprintf("meta information SOP Class UID %s differs from the data set's %s; the data set's is used", m, r.sopClass)})
	}
	r.rows = ds.IntOr(dcm.TagRows, 0)
	r.cols = ds.IntOr(dcm.TagColumns, 0)
	r.numFrames = ds.IntOr(dcm.TagNumberOfFrames, 1)
	if r.numFrames < 1 {
		r.numFrames = 1
	}
	frames, err := locateFrames(ds, f.TransferSyntax, r.numFrames)
	if err != nil {
		return nil, err
	}
	if frames != nil {
		r.frames, _ = json.Marshal(frames)
	}
	base := "{{dicomweb}}/studies/" + r.studyUID + "/series/" + r.seriesUID + "/instances/" + r.sopUID
	r.meta = dcm.MarshalJSON(ds, dcm.JSONOptions{SkipMeta: true, BulkURI: func(t dcm.Tag) string {
		return base + "/bulk/" + t.Hex()
	}})
	return r, nil
}

// Frame is one frame's bytes in the blob: one or more ranges (fragments).
type Frame [][2]int64

// locateFrames finds each frame's byte ranges, checking that native pixel
// data is as long as the image attributes say.
func locateFrames(ds *dcm.Dataset, ts dcm.TransferSyntax, n int) ([]Frame, error) {
	px := ds.Get(dcm.TagPixelData)
	if px == nil || px.Bulk == nil || px.Bulk.Offset < 0 {
		return nil, nil
	}
	ref := px.Bulk
	if !ts.Encapsulated {
		rows, cols := ds.IntOr(dcm.TagRows, 0), ds.IntOr(dcm.TagColumns, 0)
		spp, bits := ds.IntOr(dcm.TagSamplesPerPixel, 1), ds.IntOr(dcm.TagBitsAllocated, 16)
		frameBits := int64(rows) * int64(cols) * int64(spp) * int64(bits)
		if ds.Str(tagPhotometricInterpretation) == "YBR_FULL_422" && spp == 3 {
			// Native 4:2:2 keeps two luma samples per chroma pair (PS3.3 C.7.6.3.1.2).
			frameBits = frameBits * 2 / 3
		}
		if frameBits == 0 {
			return nil, nil
		}
		if bits%8 != 0 {
			return nil, nil // 1-bit frames are not byte aligned; serve whole
		}
		size := frameBits / 8
		if need := size * int64(n); ref.Length < need {
			return nil, &InputError{Code: InputPixelData, Reason: fmt.Sprintf("pixel data holds %d bytes; %d frame(s) of %dx%d, %d sample(s) of %d bits need %d", ref.Length, n, rows, cols, spp, bits, need)}
		}
		out := make([]Frame, n)
		for i := range out {
			out[i] = Frame{{ref.Offset + int64(i)*size, size}}
		}
		return out, nil
	}
	frags := ref.Fragments
	switch {
	case len(frags) == 0:
		return nil, &InputError{Code: InputPixelData, Reason: "encapsulated pixel data has no fragments"}
	case n == 1:
		f := make(Frame, len(frags))
		for i, fr := range frags {
			f[i] = [2]int64{fr.Offset, fr.Length}
		}
		return []Frame{f}, nil
	case len(frags) == n:
		out := make([]Frame, n)
		for i, fr := range frags {
			out[i] = Frame{{fr.Offset, fr.Length}}
		}
		return out, nil
	case len(ref.OffsetTable) == n:
		// Offsets count from the first fragment's item tag; each item has an 8-byte header.
		out := make([]Frame, n)
		start := frags[0].Offset - 8
		fi := 0
		for i := range n {
			end := int64(-1)
			if i+1 < n {
				end = start + int64(ref.OffsetTable[i+1])
			}
			for fi < len(frags) && (end < 0 || frags[fi].Offset-8 < end) {
				out[i] = append(out[i], [2]int64{frags[fi].Offset, frags[fi].Length})
				fi++
			}
		}
		return out, nil
	}
	// Frames cannot be told apart without decoding; frame requests fall back.
	return nil, nil
}

func (a *Archive) index(ctx context.Context, tx db.Execer, r *instanceRow) (*Result, error) {
	ds := r.ds
	res := &Result{SOPClassUID: r.sopClass, SOPInstanceUID: r.sopUID, StudyUID: r.studyUID, SeriesUID: r.seriesUID,
		TransferSyntax: r.ts, Size: r.size, Digest: r.sha, Outcome: Stored, Warnings: r.warnings}
	var (
		pk             int64
		oldSHA, oldKey string
	)
	err := tx.QueryRow(ctx, "SELECT pk, sha256, blob_key FROM instance WHERE sop_uid = ?", r.sopUID).Scan(&pk, &oldSHA, &oldKey)
	switch {
	case err == nil:
		if a.sameContent(ctx, oldSHA, oldKey, r.sha) {
			res.Outcome = SameDuplicate
			return res, nil
		}
		action := map[DuplicatePolicy]Outcome{KeepFirst: KeptFirst, Replace: Replaced, Reject: Rejected}[a.opt.Duplicates]
		res.Outcome = action
		keptKey := r.blobKey
		if action == Replaced {
			keptKey = oldKey
			if _, err := tx.Exec(ctx, `UPDATE instance SET sop_class = ?, transfer_syntax = ?, blob_key = ?, size_bytes = ?, sha256 = ?,
				num_frames = ?, rows_ = ?, columns_ = ?, received_at = ?, meta = ?, frames = ? WHERE pk = ?`,
				r.sopClass, r.ts, r.blobKey, r.size, r.sha, r.numFrames, r.rows, r.cols, r.receivedAt, r.meta, r.frames, pk); err != nil {
				return nil, fmt.Errorf("replace instance: %w", err)
			}
			if err := a.recordWarnings(ctx, tx, r); err != nil {
				return nil, err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO instance_duplicate (sop_uid, sha256, size_bytes, blob_key, action, source_ae, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.sopUID, r.sha, r.size, keptKey, string(action), r.src.AETitle, r.receivedAt); err != nil {
			return nil, fmt.Errorf("record duplicate: %w", err)
		}
		a.log.Warn("duplicate SOP instance with different content", "sop_instance_uid", r.sopUID, "action", string(action), "source_ae", r.src.AETitle)
		return res, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("look up instance: %w", err)
	}

	facility, err := resolveFacility(ctx, tx, r)
	if err != nil {
		return nil, err
	}
	res.FacilityID = facility
	issuer := ds.Str(dcm.TagIssuerOfPatientID)
	if issuer == "" {
		issuer = facility
	}
	pid := ds.Str(dcm.TagPatientID)
	if pid == "" {
		// Never merge anonymous patients: each study is its own patient.
		pid = "~" + r.studyUID
	}
	now := r.receivedAt
	if err := CheckPatientNamespace(ctx, tx, facility, issuer, pid); err != nil {
		if !errors.Is(err, ErrForeignPatient) || a.opt.ForeignPatients != QuarantineForeign {
			return nil, fmt.Errorf("%w: %w", ErrRefused, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO instance_quarantine (sop_uid, study_uid, sha256, size_bytes, blob_key, facility_id, issuer, reason, source_ae, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.sopUID, r.studyUID, r.sha, r.size, r.blobKey, facility, issuer, err.Error(), r.src.AETitle, now); err != nil {
			return nil, fmt.Errorf("quarantine instance: %w", err)
		}
		a.log.Warn("instance quarantined: patient of another facility", "sop_instance_uid", r.sopUID, "facility", facility, "source_ae", r.src.AETitle)
		res.Outcome = Quarantined
		return res, nil
	}
	var patientPK int64
	if _, err := findOrInsert(ctx, tx, "patient", []any{&patientPK}, "SELECT pk FROM patient WHERE issuer = ? AND patient_id = ?", []any{issuer, pid},
		`INSERT INTO patient (issuer, patient_id, name, birth_date, sex, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (issuer, patient_id) DO NOTHING`, issuer, pid, ds.Str(dcm.TagPatientName), ds.Str(dcm.TagPatientBirthDate), ds.Str(dcm.TagPatientSex), now, now); err != nil {
		return nil, err
	}
	procCode := ""
	if items := ds.Seq(dcm.TagProcedureCodeSequence); len(items) > 0 {
		procCode = items[0].Str(dcm.TagCodeValue)
	}
	var studyPK int64
	if _, err := findOrInsert(ctx, tx, "study", []any{&studyPK, &res.FacilityID}, "SELECT pk, facility_id FROM study WHERE study_uid = ?", []any{r.studyUID},
		`INSERT INTO study (study_uid, patient_pk, facility_id, accession, study_id, study_date, study_time, description, referring,
		procedure_code, priority, body_part, created_at, last_instance_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (study_uid) DO NOTHING`,
		r.studyUID, patientPK, facility, ds.Str(dcm.TagAccessionNumber), ds.Str(dcm.TagStudyID), ds.Str(dcm.TagStudyDate), ds.Str(dcm.TagStudyTime),
		ds.Str(dcm.TagStudyDescription), ds.Str(dcm.TagReferringPhysicianName), procCode, ds.Str(TagRequestedProcedurePriority),
		ds.Str(dcm.TagBodyPartExamined), now, now); err != nil {
		return nil, err
	}
	if r.src.Check != nil {
		if err := r.src.Check(r.studyUID, res.FacilityID); err != nil {
			return nil, &RefusedError{Reason: err}
		}
	}
	modality := ds.Str(dcm.TagModality)
	var seriesNumber any
	if n, ok := ds.Int(dcm.TagSeriesNumber); ok {
		seriesNumber = n
	}
	var seriesPK int64
	newSeries, err := findOrInsert(ctx, tx, "series", []any{&seriesPK}, "SELECT pk FROM series WHERE series_uid = ?", []any{r.seriesUID},
		`INSERT INTO series (series_uid, study_pk, modality, series_number, description, body_part, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (series_uid) DO NOTHING`,
		r.seriesUID, studyPK, modality, seriesNumber, ds.Str(dcm.TagSeriesDescription), ds.Str(dcm.TagBodyPartExamined), now)
	if err != nil {
		return nil, err
	}
	var instNumber any
	if n, ok := ds.Int(dcm.TagInstanceNumber); ok {
		instNumber = n
	}
	if _, err := tx.Exec(ctx, `INSERT INTO instance (sop_uid, series_pk, sop_class, instance_number, transfer_syntax, blob_key, size_bytes, sha256,
		num_frames, rows_, columns_, source_ae, source_facility, received_at, meta, frames) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.sopUID, seriesPK, r.sopClass, instNumber, r.ts, r.blobKey, r.size, r.sha, r.numFrames, r.rows, r.cols, r.src.AETitle, r.src.Facility, now, r.meta, r.frames); err != nil {
		return nil, fmt.Errorf("insert instance: %w", err)
	}
	if err := a.recordWarnings(ctx, tx, r); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, "UPDATE series SET num_instances = num_instances + 1 WHERE pk = ?", seriesPK); err != nil {
		return nil, fmt.Errorf("count series: %w", err)
	}
	modalities := ""
	if newSeries > 0 {
		modalities, err = studyModalities(ctx, tx, studyPK)
		if err != nil {
			return nil, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE study SET num_instances = num_instances + 1, size_bytes = size_bytes + ?, last_instance_at = ?,
		num_series = num_series + ?, modalities = CASE WHEN ? = '' THEN modalities ELSE ? END WHERE pk = ?`,
		r.size, now, newSeries, modalities, modalities, studyPK); err != nil {
		return nil, fmt.Errorf("count study: %w", err)
	}
	return res, nil
}

// findOrInsert scans the row sel finds into dest, inserting it with ins
// first when there is none; it reports how many rows ins added. Looking
// first spares the common case (the next instance of a known series) an
// INSERT that only conflicts: three statements of a dozen per instance.
// ins keeps its ON CONFLICT DO NOTHING for a row another transaction adds
// between the two (PostgreSQL).
func findOrInsert(ctx context.Context, tx db.Execer, what string, dest []any, sel string, selArgs []any, ins string, insArgs ...any) (int64, error) {
	err := tx.QueryRow(ctx, sel, selArgs...).Scan(dest...)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find %s: %w", what, err)
	}
	res, err := tx.Exec(ctx, ins, insArgs...)
	if err != nil {
		return 0, fmt.Errorf("insert %s: %w", what, err)
	}
	added, _ := res.RowsAffected()
	if err := tx.QueryRow(ctx, sel, selArgs...).Scan(dest...); err != nil {
		return 0, fmt.Errorf("find %s: %w", what, err)
	}
	return added, nil
}

func studyModalities(ctx context.Context, tx db.Execer, studyPK int64) (string, error) {
	rows, err := tx.Query(ctx, "SELECT DISTINCT modality FROM series WHERE study_pk = ? AND modality <> '' ORDER BY modality", studyPK)
	if err != nil {
		return "", fmt.Errorf("study modalities: %w", err)
	}
	defer rows.Close()
	var ms []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return "", err
		}
		ms = append(ms, m)
	}
	return strings.Join(ms, `\`), rows.Err()
}

// resolveFacility attributes an instance to a facility: the sender's if
// known, else a facility whose name matches Institution Name, else UNKNOWN
// (visible to administrators only).
func resolveFacility(ctx context.Context, tx db.Execer, r *instanceRow) (string, error) {
	if r.src.Facility != "" {
		return r.src.Facility, nil
	}
	if name := r.ds.Str(dcm.TagInstitutionName); name != "" {
		id, ok, err := facility.ByName(ctx, tx, name)
		if err != nil {
			return "", fmt.Errorf("resolve facility: %w", err)
		}
		if ok {
			return id, nil
		}
	}
	return UnknownFacility, nil
}

const tagPhotometricInterpretation = dcm.Tag(0x00280004)

// mediaStorageDirectory is the SOP Class of DICOMDIR files (PS3.10 8.6).
const mediaStorageDirectory = "1.2.840.10008.1.3.10"

// TagRequestedProcedurePriority (0040,1003) carries STAT/HIGH/ROUTINE when
// the modality copies it from the worklist.
const TagRequestedProcedurePriority = dcm.Tag(0x00401003)

// UnknownFacility holds instances whose sender and institution are not known.
const UnknownFacility = "UNKNOWN"
