package dimse

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"testing"
	"time"

	"lightbox/internal/dcm"
)

// PDVs larger than the reader's buffer are read straight into the
// consumer's buffer (dataPipe.transfer): data sets over several such PDUs
// arrive intact, read in odd sizes, and a consumer that stops in the
// middle of one leaves the association usable, the rest skipped.
func TestStoreLargePDVs(t *testing.T) {
	rec := newRecorder()
	mux := NewMux()
	mux.Handle(scImageStorage, StoreFunc(func(ctx context.Context, req *StoreRequest) (uint16, string) {
		if req.SOPInstanceUID == uidN(300) {
			// Stop in the middle of the first PDV.
			if _, err := io.ReadFull(req.Data, make([]byte, 100_000)); err != nil {
				return StatusOutOfResources, err.Error()
			}
			return StatusOutOfResources, "stopped"
		}
		var got bytes.Buffer
		// Neither a PDV's size nor the reader buffer's: under and over it.
		buf := make([]byte, 70_001)
		for i := 0; ; i++ {
			n, err := req.Data.Read(buf[:[]int{12_345, 70_001}[i%2]])
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				return StatusOutOfResources, err.Error()
			}
		}
		rec.mu.Lock()
		rec.got[req.SOPInstanceUID] = got.Bytes()
		rec.mu.Unlock()
		return StatusSuccess, ""
	}))
	addr := startServer(t, &Server{Handler: mux, MaxPDULength: 256 << 10})
	a := dialTest(t, addr, "X", storageProposals(dcm.ExplicitVRLittleEndian), &DialOptions{MaxPDULength: 256 << 10})
	ctx := context.Background()
	if st, err := a.Store(ctx, scImageStorage, uidN(300), dcm.ExplicitVRLittleEndian, bytes.NewReader(testInstance(uidN(300), true, 1_000_000))); err != nil || st != StatusOutOfResources {
		t.Fatalf("partial read: status 0x%04X err %v", st, err)
	}
	storeSizes(t, a, rec, 301, 0, 20_000, 300_000, 2_000_000)
	if err := a.Echo(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// storeSizes stores a data set of each size (UIDs from uidN(first)) and
// checks that rec received it intact.
func storeSizes(t *testing.T, a *Association, rec *recorder, first int, sizes ...int) {
	t.Helper()
	for i, size := range sizes {
		uid := uidN(first + i)
		ds := testInstance(uid, true, size)
		st, err := a.Store(context.Background(), scImageStorage, uid, dcm.ExplicitVRLittleEndian, bytes.NewReader(ds))
		if err != nil || st != StatusSuccess {
			t.Fatalf("store %d: status 0x%04X err %v", size, st, err)
		}
		if got := rec.get(uid); !bytes.Equal(got, ds) {
			t.Fatalf("store %d: got %d bytes, want %d", size, len(got), len(ds))
		}
	}
}

// BenchmarkCStoreReceive sends 526 KB data sets (a 512×512 CT slice) over
// one association with our SCU, 256 KiB PDUs, to a consumer that reads
// each into a reused buffer as the archive does (bytes.Buffer.ReadFrom);
// cpu-µs/instance is both sides' user+system time:
//
//	go test -run XXX -bench CStoreReceive -benchtime 2000x ./internal/dimse
func BenchmarkCStoreReceive(b *testing.B) {
	var buf bytes.Buffer
	mux := NewMux()
	mux.HandleStorage(StoreFunc(func(ctx context.Context, req *StoreRequest) (uint16, string) {
		buf.Reset()
		if _, err := buf.ReadFrom(req.Data); err != nil {
			return StatusOutOfResources, err.Error()
		}
		return StatusSuccess, ""
	}))
	addr := startServer(b, &Server{Handler: mux})
	a := dialTest(b, addr, "BENCH", storageProposals(dcm.ExplicitVRLittleEndian), nil)
	ds := testInstance("1.2.3", true, 512*512*2)
	b.SetBytes(int64(len(ds)))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		st, err := a.Store(context.Background(), scImageStorage, uidN(i), dcm.ExplicitVRLittleEndian, bytes.NewReader(ds))
		if err != nil || st != StatusSuccess {
			b.Fatalf("0x%04X %v", st, err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/1e3/float64(b.N), "cpu-µs/instance")
	b.StopTimer()
	_ = a.Release(context.Background())
}

// An association that ends (here: the server shuts down) while its reader
// goroutine waits for a handler that has not read yet must not leave that
// goroutine waiting: the handler's reads fail and everything exits.
func TestEndWhileDataSetWaits(t *testing.T) {
	base := runtime.NumGoroutine()
	started, release, readErr := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	mux := NewMux()
	mux.Handle(scImageStorage, StoreFunc(func(ctx context.Context, req *StoreRequest) (uint16, string) {
		close(started)
		<-release
		_, err := io.Copy(io.Discard, req.Data)
		readErr <- err
		return StatusOutOfResources, "too late"
	}))
	s := &Server{Handler: mux, MaxPDULength: 256 << 10}
	addr := startServer(t, s)
	a := dialTest(t, addr, "X", storageProposals(dcm.ExplicitVRLittleEndian), &DialOptions{MaxPDULength: 256 << 10})
	stored := make(chan error, 1)
	go func() {
		_, err := a.Store(context.Background(), scImageStorage, uidN(400), dcm.ExplicitVRLittleEndian, bytes.NewReader(testInstance(uidN(400), true, 1_000_000)))
		stored <- err
	}()
	<-started
	time.Sleep(50 * time.Millisecond) // the reader goroutine waits in transfer
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	shut := make(chan struct{})
	go func() { _ = s.Shutdown(ctx); close(shut) }() // it waits for the handler
	select {
	case <-a.Done(): // the server aborted the association
	case <-time.After(5 * time.Second):
		t.Fatal("no abort")
	}
	close(release)
	select {
	case err := <-readErr:
		if err == nil {
			t.Error("the handler read a data set cut by the association's end without error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's read hangs")
	}
	select {
	case <-stored:
	case <-time.After(5 * time.Second):
		t.Fatal("the client's store hangs")
	}
	<-shut
	_ = a.Close()
	if n := settleGoroutines(base); n > base {
		t.Errorf("%d goroutines left, %d before", n, base)
	}
}
