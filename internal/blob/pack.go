package blob

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// Packs: on a folder store, instances from 16 KiB up are not files of their own
// but ranges of pack files (packs/NAME), appended by the archive's journal
// (internal/archive/doc.go): creating, fsyncing and linking a file cost
// ≈ 0.6-0.7 ms of CPU per instance on the bench machine, an append to a
// shared file with a shared fdatasync ≈ 0.3 ms. Such a blob's key names
// its place, "pack:NAME@OFFSET+LENGTH", so every consumer that goes by key
// (reads, the deletion queue, check) reaches it without a table to look
// it up in, and another node reads it through the shared folder. A pack
// key is never published twice (each store appends anew), so the race
// that retiring guards content-addressed keys against cannot happen: a
// pack blob is deleted at once, by punching a hole where it was, and a
// pack is removed when its writer sealed it and nothing is left in it.
// A pack blob's record (the writer's header, then the blob) starts on a
// PackAlign boundary, and the next record on the boundary after the blob,
// so punching the blocks from the one holding its first byte to that
// boundary frees the whole record and never touches a neighbour.

// PackAlign is the alignment of a pack record: a blob's first block holds
// its record's header, and its last block nothing of the next record.
const PackAlign = 4096

const packPrefix = "pack:"

// PacksDir is the folder of a folder store's packs.
func PacksDir(root string) string { return filepath.Join(root, "packs") }

// PackKey names length bytes at off in pack name.
func PackKey(name string, off, length int64) string {
	return packPrefix + name + "@" + strconv.FormatInt(off, 10) + "+" + strconv.FormatInt(length, 10)
}

// IsPackKey reports whether key names a range of a pack.
func IsPackKey(key string) bool { return strings.HasPrefix(key, packPrefix) }

// ParsePackKey splits a pack key into pack, offset and length.
func ParsePackKey(key string) (name string, off, length int64, err error) {
	rest, ok := strings.CutPrefix(key, packPrefix)
	name, pos, ok2 := strings.Cut(rest, "@")
	o, l, ok3 := strings.Cut(pos, "+")
	if ok && ok2 && ok3 && name != "" && !strings.ContainsAny(name, "/\\") && !strings.Contains(name, "..") {
		off, err1 := strconv.ParseInt(o, 10, 64)
		length, err2 := strconv.ParseInt(l, 10, 64)
		if err1 == nil && err2 == nil && off >= 0 && length >= 0 {
			return name, off, length, nil
		}
	}
	return "", 0, 0, fmt.Errorf("invalid pack key %q", key)
}

// packExtent is the part of a pack a blob's record takes: from the block
// holding the blob's first byte (its header's block) to the boundary after
// its last.
func packExtent(off, length int64) (start, end int64) {
	return off &^ (PackAlign - 1), (off + length + PackAlign - 1) &^ (PackAlign - 1)
}

// PackExtent is packExtent for the archive's journal, which keeps a pack
// blob's record whole when it punches what it no longer needs.
func PackExtent(off, length int64) (start, end int64) { return packExtent(off, length) }

// openPack opens a pack blob: ErrNotFound when its pack is gone or its
// range was punched (deleted).
func (d *Dir) openPack(key string) (Object, error) {
	name, off, length, err := ParsePackKey(key)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(PacksDir(d.root), name)
	fd, err := openFd(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open blob %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("open blob %s: %w", key, err)
	}
	if !dataAt(fd, off) {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("open blob %s: %w", key, ErrNotFound)
	}
	o := &packObject{fd: fd, base: off, size: length}
	o.cleanup = runtime.AddCleanup(o, func(fd int) { _ = syscall.Close(fd) }, fd)
	return o, nil
}

// deletePack punches a pack blob's record out of its pack, and removes
// the pack once it is sealed and holds nothing more. A file system that
// cannot punch holes keeps the bytes (the pack goes when all of it is
// deleted: then the check below finds no data only if it can punch).
func (d *Dir) deletePack(key string) error {
	name, off, length, err := ParsePackKey(key)
	if err != nil {
		return err
	}
	p := filepath.Join(PacksDir(d.root), name)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	defer f.Close()
	start, end := packExtent(off, length)
	if err := PunchHole(f, start, end-start); err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return nil
		}
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	if st, err := f.Stat(); err == nil && st.Mode()&os.ModeSticky != 0 && Empty(f) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove pack %s: %w", name, err)
		}
	}
	return nil
}

// SealPack marks f, a pack, as never appended to again: the sticky bit,
// which Linux ignores on a regular file and every node sharing the folder
// sees. A sealed pack with nothing left in it is removed.
func SealPack(f *os.File) error {
	if err := f.Chmod(0o640 | os.ModeSticky); err != nil {
		return fmt.Errorf("seal pack: %w", err)
	}
	return nil
}

// packObject reads a pack blob through a descriptor of its own, with the
// blob's bounds: its offsets are the blob's. Like fileObject it is a
// syscall.Conn for net's sendfile, which sends from the descriptor's
// position: once SyscallConn handed the descriptor out, Read and Seek go
// by that position (before, by pread at a position kept here: one system
// call a read). A sendfile caller must bound the copy (an
// io.LimitedReader of at most Size bytes, as the DICOMweb handlers do),
// since the pack goes on past the blob; WriteTo bounds io.Copy's.
type packObject struct {
	fd         int
	base, size int64
	at         int64 // the read position within the blob, until conn
	conn       bool  // the descriptor's position is the read position
	cleanup    runtime.Cleanup
}

func (o *packObject) Size() int64 { return o.size }

// pos is the read position within the blob.
func (o *packObject) pos() (int64, error) {
	if !o.conn {
		return o.at, nil
	}
	var p int64
	err := retry(func() (err error) { p, err = syscall.Seek(o.fd, 0, io.SeekCurrent); return err })
	if err != nil {
		return 0, &fs.PathError{Op: "seek", Path: "blob", Err: err}
	}
	return p - o.base, nil
}

func (o *packObject) Read(p []byte) (int, error) {
	if o.fd < 0 {
		return 0, errClosed
	}
	at, err := o.pos()
	if err != nil {
		return 0, err
	}
	if at >= o.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), o.size-at)]
	var n int
	if o.conn {
		err = retry(func() (err error) { n, err = syscall.Read(o.fd, p); return err })
	} else {
		err = retry(func() (err error) { n, err = syscall.Pread(o.fd, p, o.base+at); return err })
	}
	switch {
	case err != nil:
		return 0, &fs.PathError{Op: "read", Path: "blob", Err: err}
	case n == 0 && len(p) > 0:
		return 0, io.ErrUnexpectedEOF // the pack is shorter than the key says
	}
	o.at = at + int64(n)
	return n, nil
}

func (o *packObject) ReadAt(p []byte, off int64) (int, error) {
	if o.fd < 0 {
		return 0, errClosed
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: "blob", Err: syscall.EINVAL}
	}
	if off >= o.size {
		return 0, io.EOF
	}
	short := int64(len(p)) > o.size-off
	if short {
		p = p[:o.size-off]
	}
	n, err := preadFull(o.fd, p, o.base+off)
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}

func (o *packObject) Seek(offset int64, whence int) (int64, error) {
	if o.fd < 0 {
		return 0, errClosed
	}
	switch whence {
	case io.SeekCurrent:
		at, err := o.pos()
		if err != nil {
			return 0, err
		}
		offset += at
	case io.SeekEnd:
		offset += o.size
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: "blob", Err: syscall.EINVAL}
	}
	o.at = offset
	if o.conn {
		return offset, o.seekFd()
	}
	return offset, nil
}

// seekFd moves the descriptor to the read position.
func (o *packObject) seekFd() error {
	if err := retry(func() error { _, err := syscall.Seek(o.fd, o.base+o.at, io.SeekStart); return err }); err != nil {
		return &fs.PathError{Op: "seek", Path: "blob", Err: err}
	}
	return nil
}

// WriteTo copies the rest of the blob, bounded: through w's ReadFrom
// (sendfile for a socket), else by reads.
func (o *packObject) WriteTo(w io.Writer) (int64, error) {
	at, err := o.pos()
	if err != nil {
		return 0, err
	}
	lr := &io.LimitedReader{R: o, N: max(o.size-at, 0)}
	if rf, ok := w.(io.ReaderFrom); ok {
		return rf.ReadFrom(lr)
	}
	return io.Copy(w, struct{ io.Reader }{lr})
}

func (o *packObject) Close() error { return closeFd(&o.fd, o.cleanup) }

// SyscallConn makes the object a syscall.Conn for net's sendfile, from
// the read position.
func (o *packObject) SyscallConn() (syscall.RawConn, error) {
	if o.fd < 0 {
		return nil, errClosed
	}
	if !o.conn {
		if err := o.seekFd(); err != nil {
			return nil, err
		}
		o.conn = true
	}
	return rawFile(o.fd), nil
}
