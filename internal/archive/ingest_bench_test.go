package archive_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/blob"
	"lightbox/internal/db"
	"lightbox/internal/gen"
)

// BenchmarkIngest stores generated CT instances through the archive on a
// folder store (SQLite index), as C-STORE and STOW-RS do, with the journal
// and with the per-file path, from 1 and 4 writers. Besides ns/op (wall
// time: on a shared machine a function of the load) it reports the CPU
// time per instance (user + system, the whole process, from getrusage),
// which the load does not inflate. Fix the count, generation is not timed:
//
//	go test -run XXX -bench Ingest -benchtime 300x ./internal/archive/
func BenchmarkIngest(b *testing.B) {
	for _, size := range []struct {
		name       string
		rows, cols int
	}{{"38KB", 128, 144}, {"526KB", 512, 512}} {
		for _, path := range []string{"journal", "perfile"} {
			for _, writers := range []int{1, 4} {
				b.Run(fmt.Sprintf("%s/%s/writers=%d", size.name, path, writers), func(b *testing.B) {
					a, files := ingestSetup(b, archive.Options{NoJournal: path == "perfile"}, size.rows, size.cols)
					b.SetBytes(int64(len(files[0])))
					before := cpuTime()
					b.ResetTimer()
					storeAll(b, a, files, writers)
					b.StopTimer()
					b.ReportMetric(float64(cpuTime()-before)/float64(time.Millisecond)/float64(b.N), "cpu-ms/instance")
					a.Close()
				})
			}
		}
	}
}

// BenchmarkReadAfterIngest reads each of b.N 526 KB instances once right
// after 4 writers stored them (not timed), with the journal's segments
// written directly (the reads then come from the disk) and through the
// page cache (from the pages the writes left):
//
//	go test -run XXX -bench ReadAfterIngest -benchtime 400x ./internal/archive/
func BenchmarkReadAfterIngest(b *testing.B) {
	for _, mode := range []struct {
		name string
		opt  archive.Options
	}{{"direct", archive.Options{}}, {"buffered", archive.Options{NoDirectIO: true}}} {
		b.Run(mode.name, func(b *testing.B) {
			ctx := context.Background()
			a, files := ingestSetup(b, mode.opt, 512, 512)
			defer a.Close()
			sops := storeAll(b, a, files, 4)
			b.SetBytes(int64(len(files[0])))
			before := cpuTime()
			b.ResetTimer()
			for _, sop := range sops {
				ref, err := a.Instance(ctx, sop)
				if err != nil {
					b.Fatal(err)
				}
				o, err := a.Open(ctx, ref)
				if err != nil {
					b.Fatal(err)
				}
				_, err = io.Copy(io.Discard, o)
				o.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-before)/float64(time.Millisecond)/float64(b.N), "cpu-ms/instance")
		})
	}
}

// ingestSetup opens an archive on a folder store with a SQLite index in a
// temporary folder and generates b.N CT instances of rows×cols.
func ingestSetup(b *testing.B, opt archive.Options, rows, cols int) (*archive.Archive, [][]byte) {
	ctx := context.Background()
	dir := b.TempDir()
	d, err := db.Open(ctx, "sqlite:"+filepath.Join(dir, "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	bs, err := blob.OpenDir(filepath.Join(dir, "blobs"))
	if err != nil {
		b.Fatal(err)
	}
	a := archive.New(d, bs, opt)
	var files [][]byte
	err = gen.Each(ctx, gen.Options{Modality: "CT", Slices: b.N, Patients: 1, Rows: rows, Columns: cols, Facility: "SGH", Seed: 18}, func(in *gen.Instance) error {
		data, err := gen.Encode(in)
		files = append(files, data)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return a, files
}

// storeAll stores files from writers goroutines and returns their SOP
// Instance UIDs.
func storeAll(b *testing.B, a *archive.Archive, files [][]byte, writers int) []string {
	ctx := context.Background()
	next := make(chan []byte, len(files))
	for _, f := range files {
		next <- f
	}
	close(next)
	var mu sync.Mutex
	var sops []string
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for f := range next {
				res, err := a.Store(ctx, bytes.NewReader(f), archive.Source{Facility: "SGH"})
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				sops = append(sops, res.SOPInstanceUID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return sops
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
