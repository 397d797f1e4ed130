package archive_test

import (
	"bytes"
	"context"
	"fmt"
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
					ctx := context.Background()
					dir := b.TempDir()
					d, err := db.Open(ctx, "sqlite:"+filepath.Join(dir, "index.db"))
					if err != nil {
						b.Fatal(err)
					}
					defer d.Close()
					if err := d.Migrate(ctx); err != nil {
						b.Fatal(err)
					}
					bs, err := blob.OpenDir(filepath.Join(dir, "blobs"))
					if err != nil {
						b.Fatal(err)
					}
					a := archive.New(d, bs, archive.Options{NoJournal: path == "perfile"})
					var files [][]byte
					err = gen.Each(ctx, gen.Options{Modality: "CT", Slices: b.N, Patients: 1, Rows: size.rows, Columns: size.cols, Facility: "SGH", Seed: 18}, func(in *gen.Instance) error {
						data, err := gen.Encode(in)
						files = append(files, data)
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
					next := make(chan []byte, len(files))
					for _, f := range files {
						next <- f
					}
					close(next)
					b.SetBytes(int64(len(files[0])))
					before := cpuTime()
					b.ResetTimer()
					var wg sync.WaitGroup
					for range writers {
						wg.Go(func() {
							for f := range next {
								if _, err := a.Store(ctx, bytes.NewReader(f), archive.Source{Facility: "SGH"}); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					b.StopTimer()
					b.ReportMetric(float64(cpuTime()-before)/float64(time.Millisecond)/float64(b.N), "cpu-ms/instance")
					a.Close()
				})
			}
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
