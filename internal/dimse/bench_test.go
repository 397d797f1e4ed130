package dimse

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"lightbox/internal/dcm"
)

// fsyncStore writes each instance to a temp file and fsyncs before
// answering, like the archive will.
type fsyncStore struct{ dir string }

func (f *fsyncStore) Store(ctx context.Context, req *StoreRequest) (uint16, string) {
	tmp, err := os.CreateTemp(f.dir, "in-*")
	if err != nil {
		return StatusOutOfResources, "create"
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, req.Data); err != nil {
		return StatusOutOfResources, "write"
	}
	if err := tmp.Sync(); err != nil {
		return StatusOutOfResources, "sync"
	}
	return StatusSuccess, ""
}

func BenchmarkCStore(b *testing.B) {
	for _, size := range []int{64 << 10, 1 << 20, 8 << 20} {
		for _, sync := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%dKiB/fsync=%v", size>>10, sync), func(b *testing.B) {
				mux := NewMux()
				if sync {
					mux.HandleStorage(&fsyncStore{dir: b.TempDir()})
				} else {
					mux.HandleStorage(StoreFunc(func(ctx context.Context, req *StoreRequest) (uint16, string) {
						_, _ = io.Copy(io.Discard, req.Data)
						return StatusSuccess, ""
					}))
				}
				s := &Server{Handler: mux}
				s.Logger = nil
				addr := startServer(b, s)
				a := dialTest(b, addr, "BENCH", storageProposals(dcm.ExplicitVRLittleEndian), nil)
				ds := testInstance("1.2.3", true, size)
				b.SetBytes(int64(len(ds)))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					st, err := a.Store(context.Background(), scImageStorage, uidN(i), dcm.ExplicitVRLittleEndian, bytes.NewReader(ds))
					if err != nil || st != StatusSuccess {
						b.Fatalf("0x%04X %v", st, err)
					}
				}
				b.StopTimer()
				_ = a.Release(context.Background())
			})
		}
	}
}
