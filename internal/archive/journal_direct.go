package archive

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"lightbox/internal/blob"
)

// Direct I/O for the journal's segments (doc.go, "Direct I/O"): a
// buffered write copies every byte into the page cache, and on the bench
// VM, whose free pages go back to the host (free page reporting), those
// pages are often fresh host memory: the copy was the largest single CPU
// item of a 526 KB instance's ingest, 0.15-0.96 ms of system time per
// 2 MB and varying run to run. Written with O_DIRECT the bytes go from
// one reused staging buffer to the device; the segment's fdatasync still
// makes them durable (the device's cache flush, the extents and the size),
// so durability is as before.

// directAlign is what a direct write's file offset, length and buffer
// address are multiples of: a pack record's alignment, which covers the
// logical block of every disk we meet (512 B or 4 KiB; statx's
// STATX_DIOALIGN is checked against it).
const directAlign = blob.PackAlign

// errNoDirect: the segment's file system does not take direct writes at
// directAlign; the journal writes through the page cache instead.
var errNoDirect = errors.New("no direct I/O at 4 KiB alignment")

// setDirect switches f, a new segment, to direct I/O, or says why it
// cannot. fcntl rather than open(O_DIRECT): on a file system without
// direct I/O open fails with EINVAL after creating the file, which
// O_EXCL would then trip over.
func setDirect(f *os.File) error {
	fd := int(f.Fd())
	var st unix.Statx_t
	// Kernels before 6.1 and some file systems do not report the
	// alignment; then the first write's EINVAL tells (journal.write).
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_DIOALIGN, &st); err == nil && st.Mask&unix.STATX_DIOALIGN != 0 {
		if st.Dio_offset_align == 0 || st.Dio_offset_align > directAlign || st.Dio_mem_align > directAlign {
			return fmt.Errorf("%w (statx: offset %d, memory %d)", errNoDirect, st.Dio_offset_align, st.Dio_mem_align)
		}
	}
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(f.Fd(), unix.F_SETFL, fl|unix.O_DIRECT)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errNoDirect, err)
	}
	return nil
}

// clearDirect switches f back to writes through the page cache.
func clearDirect(f *os.File) error {
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(f.Fd(), unix.F_SETFL, fl&^unix.O_DIRECT)
	}
	if err != nil {
		return fmt.Errorf("journal: leave direct I/O: %w", err)
	}
	return nil
}

// alignedBuf is n bytes whose address is a multiple of directAlign.
func alignedBuf(n int) []byte {
	b := make([]byte, n+directAlign)
	skip := (directAlign - int(uintptr(unsafe.Pointer(&b[0]))&(directAlign-1))) & (directAlign - 1)
	return b[skip : skip+n : skip+n]
}

// writeDirect writes bufs at off on the open segment, which is in direct
// I/O: off and the bytes of bufs in all are multiples of directAlign
// (Append pads a group to it). The bytes are gathered into the staging
// buffer, writevMax at a time: the buffer stays warm, so the copy costs
// ≈ 0.07 ms per 526 KB instance (pprof, 4 associations) against the page
// cache's 0.15-0.96 ms per 2 MB, and 2 MiB direct writes ran at the
// disk's full rate in dd (1 MiB: two thirds of it, 4-8 MiB: no faster).
// Writing a packed record's bytes straight from its receive buffer would
// save that copy, but needs the buffer's address congruent to the file
// offset (mod 512 here): left until it can be shown to pay. bufs is
// consumed.
func (j *journal) writeDirect(bufs [][]byte, off int64) error {
	if j.stage == nil {
		j.stage = alignedBuf(writevMax)
	}
	fd := int(j.f.Fd())
	for len(bufs) > 0 {
		n := 0
		for n < len(j.stage) && len(bufs) > 0 {
			c := copy(j.stage[n:], bufs[0])
			n += c
			if bufs[0] = bufs[0][c:]; len(bufs[0]) == 0 {
				bufs = bufs[1:]
			}
		}
		if err := pwritev(fd, [][]byte{j.stage[:n]}, off); err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}

// write writes a group's bytes at off on the open segment: directly when
// it is in direct I/O, else through the page cache. A direct write the
// file system refuses (EINVAL: it has no direct I/O though it said so, or
// wants another alignment) is written again through the page cache, and
// this journal stays there: nothing was written by the refused call, and
// offsets are explicit, so the retry leaves the same bytes.
func (j *journal) write(bufs [][]byte, off int64) error {
	if j.direct {
		err := j.writeDirect(append([][]byte(nil), bufs...), off)
		if !errors.Is(err, unix.EINVAL) {
			return err
		}
		if cerr := clearDirect(j.f); cerr != nil {
			return cerr
		}
		j.mu.Lock() // newSegment reads them under mu (Append's layout only between writes)
		j.direct, j.noDirect = false, true
		j.mu.Unlock()
		j.log.Info("ingest journal: direct I/O refused; writing through the page cache", "error", err)
	}
	return pwritev(int(j.f.Fd()), bufs, off)
}
