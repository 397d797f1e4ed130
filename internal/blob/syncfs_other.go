//go:build !linux

package blob

import (
	"os"
	"syscall"
)

// syncFS flushes f's file system; without syncfs(2), sync(2) flushes all.
func syncFS(f *os.File) error {
	syscall.Sync()
	return f.Sync()
}
