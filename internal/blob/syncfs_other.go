//go:build !linux

package blob

import (
	"errors"
	"os"
	"syscall"
)

// syncFS flushes f's file system; without syncfs(2), sync(2) flushes all.
func syncFS(f *os.File) error {
	syscall.Sync()
	return f.Sync()
}

func openUnnamed(string) (*os.File, error) { return nil, errors.ErrUnsupported }

func linkUnnamed(*os.File, string) error { return errors.ErrUnsupported }
