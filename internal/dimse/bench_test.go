package dimse

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
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

// BenchmarkGet retrieves a 50-instance C-GET of 512 KiB data sets from our
// SCP into our SCU, whose maximum PDU is DCMTK's default (16 KiB) or ours;
// cpu-µs/instance is the process's user+system time for both sides.
func BenchmarkGet(b *testing.B) {
	const n, size = 50, 512 << 10
	arc := &archive{insts: map[string][]byte{}, fail: map[string]bool{}}
	for i := range n {
		uid := uidN(7000 + i)
		arc.insts[uid] = testInstance(uid, true, size)
		arc.order = append(arc.order, uid)
	}
	for _, pdu := range []uint32{16 << 10, 256 << 10} {
		b.Run(fmt.Sprintf("pdu=%dKiB", pdu>>10), func(b *testing.B) {
			mux := NewMux()
			mux.Handle(StudyRootQRGet, arc)
			addr := startServer(b, &Server{Handler: mux})
			a := dialTest(b, addr, "X", []ContextProposal{
				{AbstractSyntax: StudyRootQRGet},
				{AbstractSyntax: scImageStorage, TransferSyntaxes: []string{dcm.ExplicitVRLittleEndian}, SCPRole: true},
			}, &DialOptions{MaxPDULength: pdu})
			discard := StoreFunc(func(ctx context.Context, req *StoreRequest) (uint16, string) {
				_, _ = io.Copy(io.Discard, req.Data)
				return StatusSuccess, ""
			})
			b.SetBytes(int64(n * size))
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				res, err := a.Get(context.Background(), StudyRootQRGet, []byte{}, discard, nil)
				if err != nil || res.Status != StatusSuccess || res.Completed != n {
					b.Fatalf("%+v %v", res, err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/1e3/float64(b.N*n), "cpu-µs/instance")
			_ = a.Release(context.Background())
		})
	}
}

// cpuTime is the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
