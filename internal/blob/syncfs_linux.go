package blob

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// syncFS flushes the whole file system holding f: syncfs(2).
func syncFS(f *os.File) error { return unix.Syncfs(int(f.Fd())) }

// openUnnamed opens a file without a name in dir (O_TMPFILE), for reading
// and writing (S3 uploads it from there): it vanishes if the process dies
// before linkUnnamed names it.
func openUnnamed(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), dir), nil
}

// linkUnnamed gives f, from openUnnamed, the name final; an existing final
// fails with an error matching fs.ErrExist.
func linkUnnamed(f *os.File, final string) error {
	return unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, final, unix.AT_SYMLINK_FOLLOW)
}
