package blob

import (
	"io"
	"io/fs"
	"runtime"
	"sync"
	"syscall"
)

// cacheBelow is the size under which a blob's descriptor is kept open
// after a read. For blobs that small the open and close cost more than
// the read (a whole-series WADO-RS of 1,000 × 8 KB instances spent 3.7 ms
// of CPU in open, 0.9 ms in close and 3.0 ms in pread; bench/README.md),
// and a reader copies them rather than sendfiles them; larger blobs get
// a descriptor of their own, which net can sendfile from.
const cacheBelow = 16 << 10

// fileCache keeps the descriptors of recently read small blobs open.
// Published blobs never change (a key names its bytes, and a commit of an
// existing key keeps the file), so a descriptor read later reads what a
// fresh open would; Delete and Retire drop the key once the file is gone,
// so an object removed through this store is not served from here
// afterwards (another process removing one is not seen: a stale
// descriptor still reads the key's bytes). Bounded
// by count, the oldest dropped first: a series read again (a second
// reader, a viewer reloading) finds its files open.
type fileCache struct {
	mu    sync.Mutex
	byKey map[string]*sharedFile
	ring  []*sharedFile // in order of caching; next is the oldest
	next  int
	// gen counts forgets: an open that began before one may have opened
	// the file forgotten, so it does not cache its descriptor.
	gen uint64
}

// sharedFile is a cached descriptor, read by position only (sharing it
// rules out its file offset), so closed once no object uses it and the
// cache has dropped it.
type sharedFile struct {
	fd   int
	size int64
	path string
	refs int // objects open on it, plus one while cached
	slot int
}

// capacity is the number of descriptors a cache keeps: a quarter of what
// the process may open (Go raises the soft limit to the hard one), at most
// 4,096.
func capacity() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return int(min(rl.Cur/4, 4096))
}

// open returns an object on a cached descriptor of path, or on a fresh
// one for a blob not below cacheBelow.
func (c *fileCache) open(path string) (Object, error) {
	c.mu.Lock()
	if f := c.byKey[path]; f != nil {
		f.refs++
		c.mu.Unlock()
		return newSharedObject(c, f), nil
	}
	gen := c.gen
	c.mu.Unlock()
	o, err := openFile(path)
	if err != nil {
		return nil, err
	}
	size := o.Size()
	if size < 0 || size >= cacheBelow {
		return o, nil
	}
	// The descriptor passes from o to the cache.
	o.cleanup.Stop()
	f := &sharedFile{fd: o.fd, size: size, path: path, refs: 1}
	o.fd = -1
	c.mu.Lock()
	if c.ring == nil {
		c.ring = make([]*sharedFile, capacity())
		c.byKey = make(map[string]*sharedFile, len(c.ring))
	}
	var drop []*sharedFile
	switch old := c.byKey[path]; {
	case c.gen != gen:
		// Not cached (the file may be one forgotten meanwhile): closed
		// with its object.
	case old != nil:
		drop = append(drop, f) // opened meanwhile by another reader
		f = old
		f.refs++
	case len(c.ring) > 0:
		if old := c.ring[c.next]; old != nil {
			drop = c.uncache(old, drop)
		}
		f.slot, f.refs = c.next, f.refs+1
		c.ring[c.next] = f
		c.byKey[path] = f
		c.next = (c.next + 1) % len(c.ring)
	}
	c.mu.Unlock()
	closeFiles(drop)
	return newSharedObject(c, f), nil
}

// forget drops path from the cache, once its file is gone.
func (c *fileCache) forget(path string) {
	c.mu.Lock()
	c.gen++
	var drop []*sharedFile
	if f := c.byKey[path]; f != nil {
		drop = c.uncache(f, drop)
	}
	c.mu.Unlock()
	closeFiles(drop)
}

// closeAll drops every cached descriptor (the store is closing).
func (c *fileCache) closeAll() {
	c.mu.Lock()
	var drop []*sharedFile
	for _, f := range c.byKey {
		drop = c.uncache(f, drop)
	}
	c.mu.Unlock()
	closeFiles(drop)
}

// uncache takes f out of the cache (c.mu held) and returns drop with f
// added if no object reads it.
func (c *fileCache) uncache(f *sharedFile, drop []*sharedFile) []*sharedFile {
	delete(c.byKey, f.path)
	c.ring[f.slot] = nil
	if f.refs--; f.refs == 0 {
		drop = append(drop, f)
	}
	return drop
}

func (c *fileCache) release(f *sharedFile) {
	c.mu.Lock()
	f.refs--
	last := f.refs == 0
	c.mu.Unlock()
	if last {
		_ = syscall.Close(f.fd)
	}
}

func closeFiles(files []*sharedFile) {
	for _, f := range files {
		_ = syscall.Close(f.fd)
	}
}

// sharedObject reads a cached descriptor by position, keeping its own
// offset. It is no syscall.Conn: sendfile would move the shared offset.
type sharedObject struct {
	c       *fileCache
	f       *sharedFile // nil once closed
	size    int64
	off     int64
	cleanup runtime.Cleanup
}

func newSharedObject(c *fileCache, f *sharedFile) *sharedObject {
	o := &sharedObject{c: c, f: f, size: f.size}
	// An object never closed (a caller's bug) must not hold the
	// descriptor open for good.
	o.cleanup = runtime.AddCleanup(o, func(f *sharedFile) { c.release(f) }, f)
	return o
}

func (o *sharedObject) Size() int64 { return o.size }

func (o *sharedObject) ReadAt(p []byte, off int64) (int, error) {
	if o.f == nil {
		return 0, errClosed
	}
	return preadFull(o.f.fd, p, off)
}

func (o *sharedObject) Read(p []byte) (int, error) {
	if o.f == nil {
		return 0, errClosed
	}
	if o.off >= o.size {
		return 0, io.EOF
	}
	n, err := o.ReadAt(p[:min(int64(len(p)), o.size-o.off)], o.off)
	o.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (o *sharedObject) Seek(offset int64, whence int) (int64, error) {
	if o.f == nil {
		return 0, errClosed
	}
	switch whence {
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.size
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: "blob", Err: syscall.EINVAL}
	}
	o.off = offset
	return offset, nil
}

func (o *sharedObject) Close() error {
	if o.f == nil {
		return nil
	}
	o.cleanup.Stop()
	o.c.release(o.f)
	o.f = nil
	return nil
}
