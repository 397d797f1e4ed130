package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotFound is returned for a key with no object.
var ErrNotFound = errors.New("blob not found")

// Store is where instance bytes live.
type Store interface {
	// Create starts a new blob in temporary storage.
	Create(ctx context.Context) (Writer, error)
	// Open returns a published object.
	Open(ctx context.Context, key string) (Object, error)
	// Exists reports whether key is published.
	Exists(ctx context.Context, key string) (bool, error)
	// Delete removes a published object.
	Delete(ctx context.Context, key string) error
	// Close releases the store's resources (temporary folder, lock).
	Close() error
}

// Lister is a Store that can enumerate its published objects.
type Lister interface {
	// Walk calls fn for each published object with its key and the time it
	// was last published.
	Walk(ctx context.Context, fn func(key string, published time.Time) error) error
}

// Writer receives a blob's bytes.
type Writer interface {
	io.Writer
	// Commit makes the bytes durable and publishes them under key. If key
	// already exists it is kept (content-addressed keys make them equal).
	Commit(ctx context.Context, key string) error
	// Abort discards the temporary object; safe after Commit.
	Abort() error
}

// Object is a published blob.
type Object interface {
	io.ReadSeekCloser
	io.ReaderAt
	Size() int64
}

// Open opens a store from a URL: "file:DIR", a bare folder path, or
// "s3://BUCKET[/PREFIX]?endpoint=…" (see ParseS3URL).
func Open(url string) (Store, error) {
	switch {
	case strings.HasPrefix(url, "s3://"):
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return OpenS3(ctx, url)
	default:
		return OpenDir(strings.TrimPrefix(url, "file:"))
	}
}

// Dir is a Store in a local folder: objects/ holds published blobs, tmp/
// one folder per live process.
type Dir struct {
	root    string
	tmp     string
	lock    *os.File
	objects string
	// folders remembers object folders known to exist, so a store into a
	// known folder costs no stat or mkdir: true once durable (made by
	// Commit), false when made by PutUnsynced (and not yet covered by a
	// SyncAll) or found there, which a durable publish flushes once.
	folders sync.Map
	flusher dirFlusher
	files   fileCache // bytes of small blobs read lately
	// StaleRemoved counts temp files of dead processes removed at open.
	StaleRemoved int
}

// OpenDir opens (creating) a folder store and removes temporary files left by
// processes that are no longer running.
func OpenDir(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("open blob folder: empty path")
	}
	d := &Dir{root: root, objects: filepath.Join(root, "objects")}
	tmpRoot := filepath.Join(root, "tmp")
	for _, p := range []string{d.objects, tmpRoot, PacksDir(root)} {
		if err := os.MkdirAll(p, 0o750); err != nil {
			return nil, fmt.Errorf("open blob folder %s: %w", root, err)
		}
	}
	removed, err := CleanStale(root)
	if err != nil {
		return nil, err
	}
	d.StaleRemoved = removed
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	lock, err := os.OpenFile(filepath.Join(tmpRoot, id+".lock"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open blob folder %s: %w", root, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock blob temp folder: %w", err)
	}
	d.lock = lock
	d.tmp = filepath.Join(tmpRoot, id)
	if err := os.MkdirAll(d.tmp, 0o750); err != nil {
		lock.Close()
		return nil, fmt.Errorf("open blob folder %s: %w", root, err)
	}
	return d, nil
}

// CleanStale removes temporary folders whose owning process has exited (its
// lock can be taken) and returns how many files it removed.
func CleanStale(root string) (int, error) {
	tmpRoot := filepath.Join(root, "tmp")
	entries, err := os.ReadDir(tmpRoot)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		return 0, fmt.Errorf("clean temp files: %w", err)
	}
	removed := 0
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".lock")
		if !ok {
			if e.IsDir() {
				// A temp folder without a lock file is always stale.
				if _, err := os.Stat(filepath.Join(tmpRoot, e.Name()+".lock")); errors.Is(err, fs.ErrNotExist) {
					removed += removeAllCount(filepath.Join(tmpRoot, e.Name()))
				}
			}
			continue
		}
		lockPath := filepath.Join(tmpRoot, e.Name())
		f, err := os.OpenFile(lockPath, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			removed += removeAllCount(filepath.Join(tmpRoot, name))
			_ = os.Remove(lockPath)
		}
		f.Close()
	}
	return removed, nil
}

func removeAllCount(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	_ = os.RemoveAll(dir)
	return n
}

// Close releases the lock and removes this process's temporary folder.
func (d *Dir) Close() error {
	if d.lock == nil {
		return nil
	}
	d.files.closeAll()
	err := os.RemoveAll(d.tmp)
	_ = os.Remove(d.lock.Name())
	err = errors.Join(err, d.lock.Close())
	d.lock = nil
	return err
}

func (d *Dir) path(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("invalid blob key %q", key)
	}
	return filepath.Join(d.objects, filepath.FromSlash(key)), nil
}

// Create starts a temporary file: one without a name (O_TMPFILE) where
// the file system allows, linked under its key by Commit. Creating a named
// temporary file and renaming it away cost ≈ 0.5 ms of CPU per instance
// under load (bench/README.md), and an unnamed one leaves nothing behind
// when the process dies.
func (d *Dir) Create(ctx context.Context) (Writer, error) {
	if f, err := openUnnamed(d.tmp); err == nil {
		return &dirWriter{d: d, f: f, unnamed: true}, nil
	}
	f, err := os.CreateTemp(d.tmp, "blob-*")
	if err != nil {
		return nil, fmt.Errorf("create temp blob: %w", err)
	}
	return &dirWriter{d: d, f: f}, nil
}

type dirWriter struct {
	d       *Dir
	f       *os.File
	unnamed bool // O_TMPFILE: linked by Commit, nothing to remove
	done    bool
}

func (w *dirWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *dirWriter) Commit(ctx context.Context, key string) error {
	final, err := w.d.path(key)
	if err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("fsync blob: %w", err)
	}
	if w.unnamed {
		w.done = true
		return w.link(key, final)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close blob: %w", err)
	}
	w.done = true
	if _, err := os.Stat(final); err == nil {
		touch(final)
		return os.Remove(w.f.Name())
	}
	return w.d.publish("publish", key, w.f.Name(), final)
}

// publish renames a durable file to final and returns once the folder
// entry, and any folder made for it, are durable. The folder fsyncs are
// group-committed with concurrent publishes (dirFlusher): the file was
// fsync'd before the rename, so a crash before the flush loses at most an
// unacknowledged entry, never exposes a half-written object.
func (d *Dir) publish(op, key, from, final string) error {
	dir := filepath.Dir(final)
	parents, err := d.folder(dir)
	if err != nil {
		return err
	}
	if err := move(op, key, from, final); err != nil {
		return err
	}
	return d.entryDurable(dir, parents)
}

// link names an unnamed file final (Commit, after its fsync).
func (w *dirWriter) link(key, final string) error {
	defer w.f.Close()
	dir := filepath.Dir(final)
	parents, err := w.d.folder(dir)
	if err != nil {
		return err
	}
	if err := linkUnnamed(w.f, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			touch(final)
			return nil
		}
		return fmt.Errorf("publish blob %s: %w", key, err)
	}
	return w.d.entryDurable(dir, parents)
}

// touch marks an existing object in use again (a commit of a key already
// published): an orphan cleanup, which spares recent objects, must not
// take it while its index rows commit.
func touch(final string) {
	now := time.Now()
	_ = os.Chtimes(final, now, now)
}

// entryDurable returns once the entries just made in dir are durable, with
// those of parents, the folders made for it (from folder).
func (d *Dir) entryDurable(dir string, parents []string) error {
	if err := d.flusher.flush(append(parents, dir)); err != nil {
		return err
	}
	if parents != nil {
		d.folders.Store(dir, true)
	}
	return nil
}

func (w *dirWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	if w.unnamed {
		return nil
	}
	return os.Remove(w.f.Name())
}

// folder makes sure an object folder exists and returns the folders whose
// fsync makes its entry durable: none once it is known durable.
func (d *Dir) folder(dir string) ([]string, error) {
	known, ok := d.folders.Load(dir)
	if ok && known.(bool) {
		return nil, nil
	}
	if !ok {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create blob folder: %w", err)
		}
		d.folders.LoadOrStore(dir, false)
	}
	var parents []string
	for p := dir; len(p) > len(d.objects); p = filepath.Dir(p) {
		parents = append(parents, filepath.Dir(p))
	}
	return parents, nil
}

// dirFlusher fsyncs folders for concurrent publishes together: whoever
// finds no flush running fsyncs every folder named meanwhile (a group
// commit; on ext4 the fsyncs after the first find their entries already
// committed).
type dirFlusher struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending map[string]bool // folders for the next round
	started uint64          // rounds begun
	ended   uint64          // rounds finished
	busy    bool
	err     error // a failed fsync fails every later flush
}

func (f *dirFlusher) flush(dirs []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cond == nil {
		f.cond = sync.NewCond(&f.mu)
		f.pending = map[string]bool{}
	}
	for _, d := range dirs {
		f.pending[d] = true
	}
	mine := f.started + 1 // the round that takes these folders
	for f.ended < mine && f.err == nil {
		if f.busy {
			f.cond.Wait()
			continue
		}
		f.busy, f.started = true, mine
		round := f.pending
		f.pending = map[string]bool{}
		f.mu.Unlock()
		var err error
		for d := range round {
			if err = SyncDir(d); err != nil {
				break
			}
		}
		f.mu.Lock()
		f.busy, f.ended = false, mine
		if err != nil {
			f.err = err
		}
		f.cond.Broadcast()
	}
	return f.err
}

// SyncDir fsyncs a folder, making the entries created or renamed in it durable.
func SyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync folder: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// Exists reports whether key is published.
func (d *Dir) Exists(ctx context.Context, key string) (bool, error) {
	if IsPackKey(key) {
		o, err := d.openPack(key)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return true, o.Close()
	}
	p, err := d.path(key)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Delete removes a published blob.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if IsPackKey(key) {
		return d.deletePack(key)
	}
	p, err := d.path(key)
	if err != nil {
		return err
	}
	err = removeFile("delete", key, p)
	d.files.forget(p)
	return err
}

// removeFile removes the file p holding key; absent is not an error.
func removeFile(op, key, p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s blob %s: %w", op, key, err)
	}
	return nil
}

// Walk implements Lister.
func (d *Dir) Walk(ctx context.Context, fn func(key string, published time.Time) error) error {
	return filepath.WalkDir(d.objects, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !e.Type().IsRegular() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		rel, err := filepath.Rel(d.objects, p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), info.ModTime())
	})
}

// Root is the store's folder.
func (d *Dir) Root() string { return d.root }

// PutUnsynced publishes data under key without waiting for the disk. The
// caller must hold a durable copy of data (the archive's journal) until a
// later SyncAll returns: until then a crash of the machine may lose the
// object or its folder entry. If key exists it is kept, as in Commit.
func (d *Dir) PutUnsynced(key string, data []byte) error {
	final, err := d.path(key)
	if err != nil {
		return err
	}
	if _, err := os.Stat(final); err == nil {
		touch(final)
		return nil
	}
	if _, err := d.folder(filepath.Dir(final)); err != nil {
		return err
	}
	if f, err := openUnnamed(d.tmp); err == nil {
		// As in Create: no temporary name to make and rename away.
		defer f.Close()
		if _, err := f.Write(data); err != nil {
			return fmt.Errorf("write blob: %w", err)
		}
		if err := linkUnnamed(f, final); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("publish blob %s: %w", key, err)
		}
		return nil
	}
	f, err := os.CreateTemp(d.tmp, "blob-*")
	if err != nil {
		return fmt.Errorf("create temp blob: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("write blob: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("close blob: %w", err)
	}
	if err := os.Rename(f.Name(), final); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("publish blob %s: %w", key, err)
	}
	return nil
}

// SyncAll makes every object published so far durable, with their folders
// (one syncfs(2) of the file system on Linux).
func (d *Dir) SyncAll() error {
	f, err := os.Open(d.objects)
	if err != nil {
		return fmt.Errorf("sync blobs: %w", err)
	}
	defer f.Close()
	if err := syncFS(f); err != nil {
		return fmt.Errorf("sync blobs: %w", err)
	}
	return nil
}
