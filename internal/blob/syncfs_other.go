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

// PunchHole is unsupported here: deleted pack blobs keep their space.
func PunchHole(*os.File, int64, int64) error { return errors.ErrUnsupported }

// NextData counts every byte as data here.
func NextData(_ *os.File, off int64) int64 { return off }

// Empty is false here: without holes no pack empties.
func Empty(*os.File) bool { return false }

func dataAt(int, int64) bool { return true }
