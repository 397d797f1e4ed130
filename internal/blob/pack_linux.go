package blob

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// PunchHole frees n bytes of f at off (they read as zeros after), the
// file's size unchanged; errors.ErrUnsupported where the file system
// cannot.
func PunchHole(f *os.File, off, n int64) error {
	if n <= 0 {
		return nil
	}
	err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return errors.ErrUnsupported
	}
	if err != nil {
		return fmt.Errorf("punch hole: %w", err)
	}
	return nil
}

// NextData is the offset of the first byte at or after off that is not in
// a hole, or -1 when none is (SEEK_DATA).
func NextData(f *os.File, off int64) int64 { return nextData(int(f.Fd()), off) }

func nextData(fd int, off int64) int64 {
	for {
		n, err := unix.Seek(fd, off, unix.SEEK_DATA)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EINVAL:
			return off // no SEEK_DATA here: everything counts as data
		case err != nil:
			return -1 // ENXIO: only holes from off to the end
		}
		return n
	}
}

// Empty reports whether f holds nothing but holes.
func Empty(f *os.File) bool { return nextData(int(f.Fd()), 0) < 0 }

// dataAt reports whether the block holding off was not punched.
func dataAt(fd int, off int64) bool {
	n := nextData(fd, off&^(PackAlign-1))
	return n >= 0 && n <= off
}
