package archive

import (
	"context"
	"io"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"lightbox/internal/blob"
	"lightbox/internal/db"
	"lightbox/internal/gen"
)

// pdvReader hands data over at most a 256 KiB P-DATA-TF's worth per Read,
// as the association's pipe does.
type pdvReader struct{ b []byte }

func (r *pdvReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b[:min(len(r.b), 256<<10)])
	r.b = r.b[n:]
	return n, nil
}

// BenchmarkReceive measures receive alone (read, hash, parse into the
// spool; no commit), the part of the CPU per instance that the journal's
// writes do not blur:
//
//	go test -run XXX -bench Receive -benchtime 2000x -count 5 ./internal/archive/
func BenchmarkReceive(b *testing.B) {
	for _, size := range []struct {
		name       string
		rows, cols int
	}{{"38KB", 128, 144}, {"526KB", 512, 512}} {
		b.Run(size.name, func(b *testing.B) {
			ctx := context.Background()
			d, err := db.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "index.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			bs, err := blob.OpenDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			a := New(d, bs, Options{})
			defer a.Close()
			var data []byte
			err = gen.Each(ctx, gen.Options{Modality: "CT", Slices: 1, Patients: 1, Rows: size.rows, Columns: size.cols, Facility: "SGH", Seed: 18}, func(in *gen.Instance) error {
				data, err = gen.Encode(in)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			before := rusageCPU()
			for range b.N {
				rc, _, err := a.receive(ctx, &pdvReader{data}, Source{}, nil)
				if err != nil {
					b.Fatal(err)
				}
				rc.sp.close()
			}
			b.ReportMetric(float64(rusageCPU()-before)/float64(time.Microsecond)/float64(b.N), "cpu-µs/instance")
		})
	}
}

// rusageCPU is the process's user + system CPU time (ns/op is wall time,
// which a shared machine's load inflates).
func rusageCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
