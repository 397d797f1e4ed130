package blob

import (
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// cacheBelow is the size under which a blob's bytes are kept in memory
// after a read. For blobs that small every system call costs more than the
// bytes (1.5-2 µs each on this VM, bench/README.md: a whole-series WADO-RS
// of 1,000 × 8 KB instances spent most of its CPU in one pread per blob,
// after the open and close had been cached away), and a reader copies
// them rather than sendfiles them; larger blobs get a descriptor of their
// own, which net can sendfile from.
const cacheBelow = 16 << 10

// Bounds of the cache: the count, and the bytes (at most 32 MiB of heap,
// four 1,000-slice series of 8 KB instances).
const (
	maxCached      = 4096
	maxCachedBytes = 32 << 20
)

// revalidateAfter is how long a cached blob is served without looking at
// its file again. Another process (a node sharing the folder, the
// lightbox CLI) may delete or retire (rename away) a blob; a hit older
// than this checks that the path still names the same file, one stat
// instead of the nothing a hit otherwise costs. A check per hit would
// cost a system call per instance again; a deletion that races a read
// serves the old bytes anyway, and this widens that window by at most
// revalidateAfter. A variable for tests.
var revalidateAfter = time.Second

// minResidence is how long a cached blob stays before a newcomer may take
// its place. A series larger than the cache, read again and again, would
// otherwise evict each blob before its next read (no hit at all from a
// first-in, first-out cache) while allocating every blob's bytes; instead
// the blobs that do not fit are read from their files, as large ones are,
// and the cache keeps what it holds. A variable for tests.
var minResidence = 10 * time.Second

// fileCache keeps the bytes of recently read small blobs. Published blobs
// never change (a key names its bytes, and a commit of an existing key
// keeps the file), so bytes read earlier are what a fresh read would
// give; Delete and Retire drop the key at once, and a removal by another
// process is seen by the revalidation. Bounded by count and bytes, the
// oldest dropped first once it has stayed minResidence: a series read
// again (a second reader, a viewer reloading) costs no system call per
// blob.
type fileCache struct {
	mu    sync.Mutex
	byKey map[string]*cachedBlob
	ring  []*cachedBlob // in order of caching; next is the oldest
	next  int
	bytes int
	// gen counts forgets: a read that began before one may have read the
	// file forgotten, so it does not cache its bytes.
	gen uint64
}

// cachedBlob is a small blob's bytes and the identity of the file they
// were read from.
type cachedBlob struct {
	path     string
	data     []byte
	dev, ino uint64
	slot     int
	added    int64        // when cached (since epoch)
	checked  atomic.Int64 // when the file was last seen under path (since epoch)
}

// epoch anchors the monotonic times of the revalidations.
var epoch = time.Now()

// open returns an object on a small blob's cached bytes, read now if they
// were not cached, or on a descriptor of its own for a blob not below
// cacheBelow.
func (c *fileCache) open(path string) (Object, error) {
	c.mu.Lock()
	f := c.byKey[path]
	gen := c.gen
	c.mu.Unlock()
	if f != nil {
		if c.valid(f) {
			return &memObject{b: f.data}, nil
		}
		c.drop(f)
		gen++ // drop counted a forget
	}
	o, err := openFile(path)
	if err != nil {
		return nil, err
	}
	var st syscall.Stat_t
	if err := retry(func() error { return syscall.Fstat(o.fd, &st) }); err != nil {
		o.Close()
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	o.size = st.Size
	if st.Size >= cacheBelow || !c.room(int(st.Size)) {
		return o, nil
	}
	data := make([]byte, st.Size)
	n, err := preadFull(o.fd, data, 0)
	o.Close()
	if err != nil {
		if err == io.EOF {
			err = fmt.Errorf("blob shorter than its size: %d of %d bytes: %w", n, st.Size, io.ErrUnexpectedEOF)
		}
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	now := int64(time.Since(epoch))
	f = &cachedBlob{path: path, data: data, dev: uint64(st.Dev), ino: st.Ino, added: now}
	f.checked.Store(now)
	c.put(f, gen)
	return &memObject{b: data}, nil
}

// valid reports whether f may be served: checked lately, or its path
// still names the file it was read from.
func (c *fileCache) valid(f *cachedBlob) bool {
	now := int64(time.Since(epoch))
	if now-f.checked.Load() < int64(revalidateAfter) {
		return true
	}
	var st syscall.Stat_t
	if retry(func() error { return syscall.Stat(f.path, &st) }) != nil ||
		uint64(st.Dev) != f.dev || st.Ino != f.ino || st.Size != int64(len(f.data)) {
		return false
	}
	f.checked.Store(now)
	return true
}

// room reports whether a blob of size bytes would be cached: the entries
// it would take the place of (the oldest slot, and the ones after it while
// the bytes do not fit) have all stayed minResidence.
func (c *fileCache) room(size int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.victims(size, int64(time.Since(epoch))) >= 0
}

// victims returns how many slots from next a blob of size bytes takes
// (c.mu held), -1 if one of the entries in them is too young to go.
func (c *fileCache) victims(size int, now int64) int {
	if c.ring == nil {
		return 1
	}
	bytes := c.bytes
	for i, n := c.next, 1; n <= len(c.ring); i, n = (i+1)%len(c.ring), n+1 {
		if old := c.ring[i]; old != nil {
			if now-old.added < int64(minResidence) {
				return -1
			}
			bytes -= len(old.data)
		}
		if bytes+size <= maxCachedBytes {
			return n
		}
	}
	return len(c.ring)
}

// put caches f unless a forget came after gen (the file read may be one
// forgotten meanwhile), another reader cached the path first, or the
// entries it would replace are too young (room changed meanwhile).
func (c *fileCache) put(f *cachedBlob, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.byKey[f.path] != nil {
		return
	}
	n := c.victims(len(f.data), f.added)
	if n < 0 {
		return
	}
	if c.ring == nil {
		c.ring = make([]*cachedBlob, maxCached)
		c.byKey = make(map[string]*cachedBlob, maxCached)
	}
	for i := range n {
		if old := c.ring[(c.next+i)%len(c.ring)]; old != nil {
			c.uncache(old)
		}
	}
	f.slot = c.next
	c.ring[c.next] = f
	c.byKey[f.path] = f
	c.bytes += len(f.data)
	c.next = (c.next + 1) % len(c.ring)
}

// forget drops path from the cache, once its file is gone.
func (c *fileCache) forget(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if f := c.byKey[path]; f != nil {
		c.uncache(f)
	}
}

// drop takes f out of the cache if it is still there (found stale).
func (c *fileCache) drop(f *cachedBlob) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if c.byKey[f.path] == f {
		c.uncache(f)
	}
}

// closeAll empties the cache (the store is closing).
func (c *fileCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.byKey, c.ring, c.next, c.bytes = nil, nil, 0, 0
}

// uncache takes f out of the cache; c.mu held.
func (c *fileCache) uncache(f *cachedBlob) {
	delete(c.byKey, f.path)
	c.ring[f.slot] = nil
	c.bytes -= len(f.data)
}

// memObject reads a cached blob's bytes, with its own offset. The bytes
// are shared and never written.
type memObject struct {
	b      []byte
	off    int64
	closed bool
}

func (o *memObject) Size() int64 { return int64(len(o.b)) }

func (o *memObject) ReadAt(p []byte, off int64) (int, error) {
	if o.closed {
		return 0, errClosed
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: "blob", Err: syscall.EINVAL}
	}
	if off >= int64(len(o.b)) {
		return 0, io.EOF
	}
	n := copy(p, o.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (o *memObject) Read(p []byte) (int, error) {
	if o.closed {
		return 0, errClosed
	}
	if o.off >= int64(len(o.b)) {
		return 0, io.EOF
	}
	n := copy(p, o.b[o.off:])
	o.off += int64(n)
	return n, nil
}

func (o *memObject) Seek(offset int64, whence int) (int64, error) {
	if o.closed {
		return 0, errClosed
	}
	switch whence {
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += int64(len(o.b))
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: "blob", Err: syscall.EINVAL}
	}
	o.off = offset
	return offset, nil
}

func (o *memObject) Close() error {
	o.closed = true
	return nil
}
