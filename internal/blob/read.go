package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"syscall"
)

// Open opens a published blob.
func (d *Dir) Open(ctx context.Context, key string) (Object, error) {
	if IsPackKey(key) {
		return d.openPack(key)
	}
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	o, err := d.files.open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open blob %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("open blob %s: %w", key, err)
	}
	return o, nil
}

// fileObject is a published blob read through its bare descriptor rather
// than an *os.File. os.Open sets a descriptor non-blocking and offers it
// to the poller (two fcntl and an epoll_ctl refused for regular files),
// os.NewFile still asks for its flags, and each read and close goes
// through the poller's locks; none of it serves a regular file. A
// whole-series WADO-RS opens a thousand blobs per request: 1,000 opens,
// reads and closes of 8 KB blobs cost 35-40 ms with os.Open, 22-24 ms with
// os.NewFile and 13-16 ms so (bench/README.md, DICOMweb).
//
// Its size is read (fstat) when first asked for, while open: a reader
// that knows it from the index (a whole-series response whose length was
// promised) need not ask, and a short blob then shows as a short read.
//
// It is a syscall.Conn, so net's sendfile takes it as it takes an
// *os.File (from the descriptor's own position, which Read and Seek move
// as an *os.File's do). One goroutine uses an object at a time, as with
// the other stores' objects.
type fileObject struct {
	fd      int
	size    int64 // -1 until fstat'd
	cleanup runtime.Cleanup
}

func openFile(p string) (*fileObject, error) {
	fd, err := openFd(p)
	if err != nil {
		return nil, err
	}
	o := &fileObject{fd: fd, size: -1}
	// A blob never closed (a caller's bug) must not keep its descriptor
	// for the life of the process.
	o.cleanup = runtime.AddCleanup(o, func(fd int) { _ = syscall.Close(fd) }, fd)
	return o, nil
}

// openFd opens p read-only as a bare descriptor.
func openFd(p string) (int, error) {
	for {
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: p, Err: err}
		}
		return fd, nil
	}
}

var errClosed = errors.New("blob: read of a closed object")

// Size returns the blob's length, or -1 if it cannot be read (its reads
// fail then too).
func (o *fileObject) Size() int64 {
	if o.size < 0 && o.fd >= 0 {
		var st syscall.Stat_t
		if retry(func() error { return syscall.Fstat(o.fd, &st) }) == nil {
			o.size = st.Size
		}
	}
	return o.size
}

func (o *fileObject) Read(p []byte) (int, error) {
	if o.fd < 0 {
		return 0, errClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	err := retry(func() (err error) { n, err = syscall.Read(o.fd, p); return err })
	switch {
	case err != nil:
		return 0, &fs.PathError{Op: "read", Path: "blob", Err: err}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (o *fileObject) ReadAt(p []byte, off int64) (int, error) {
	if o.fd < 0 {
		return 0, errClosed
	}
	return preadFull(o.fd, p, off)
}

// preadFull reads len(p) bytes at off unless the file ends first (io.EOF).
func preadFull(fd int, p []byte, off int64) (int, error) {
	total := 0
	for total < len(p) {
		var n int
		err := retry(func() (err error) { n, err = syscall.Pread(fd, p[total:], off+int64(total)); return err })
		if err != nil {
			return total, &fs.PathError{Op: "read", Path: "blob", Err: err}
		}
		if n == 0 {
			return total, io.EOF
		}
		total += n
	}
	return total, nil
}

func (o *fileObject) Seek(offset int64, whence int) (int64, error) {
	if o.fd < 0 {
		return 0, errClosed
	}
	var pos int64
	err := retry(func() (err error) { pos, err = syscall.Seek(o.fd, offset, whence); return err })
	if err != nil {
		return 0, &fs.PathError{Op: "seek", Path: "blob", Err: err}
	}
	return pos, nil
}

// Close releases the descriptor; closing again does nothing (the number
// may already name another file).
func (o *fileObject) Close() error { return closeFd(&o.fd, o.cleanup) }

// closeFd closes *fd unless closed (-1), and marks it closed; cleanup,
// the collector's close of a forgotten object, is stopped.
func closeFd(fd *int, cleanup runtime.Cleanup) error {
	if *fd < 0 {
		return nil
	}
	cleanup.Stop()
	n := *fd
	*fd = -1
	if err := syscall.Close(n); err != nil {
		return &fs.PathError{Op: "close", Path: "blob", Err: err}
	}
	return nil
}

// SyscallConn makes the object a syscall.Conn, which is how net finds a
// file to sendfile from.
func (o *fileObject) SyscallConn() (syscall.RawConn, error) {
	if o.fd < 0 {
		return nil, errClosed
	}
	return rawFile(o.fd), nil
}

// rawFile is a blocking descriptor as a syscall.RawConn: a regular file
// is always ready.
type rawFile int

func (fd rawFile) Control(f func(fd uintptr)) error { f(uintptr(fd)); return nil }

func (fd rawFile) Read(f func(fd uintptr) bool) error {
	for !f(uintptr(fd)) {
	}
	return nil
}

func (fd rawFile) Write(f func(fd uintptr) bool) error {
	for !f(uintptr(fd)) {
	}
	return nil
}

// retry repeats a system call interrupted by a signal.
func retry(call func() error) error {
	for {
		if err := call(); err != syscall.EINTR {
			return err
		}
	}
}
