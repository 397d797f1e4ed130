package dicomweb

import (
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"lightbox/internal/db/dbtest"
	"lightbox/internal/gen"
)

// The reads a viewer waits on (issue #18 point 1), measured in the
// handler without the network: series metadata and QIDO of a 1,000-instance
// series, one 512 KB frame, the whole series by WADO-RS. Run with
//
//	go test -run XXX -bench Read -benchmem ./internal/dicomweb/
//
// and compare ns/op within one run (bench/README.md, DICOMweb).

var (
	readCT  = map[string][]*stored{} // the 1,000-slice series, by benchmark
	readBig = map[string]*stored{}   // a 512×512 slice: a 512 KB frame
)

// readSetup stores the series and the large slice in a fresh archive
// (each benchmark's own: its clean-up closes it).
func readSetup(b *testing.B) *env {
	e := newEnv(b, dbtest.SQLite(b))
	ct := generate(b, gen.Options{Modality: "CT", Slices: 1000, Patients: 1, Rows: 64, Columns: 64, Facility: "SGH", Seed: 18})
	e.add("SGH", ct)
	big := generate(b, gen.Options{Modality: "CT", Slices: 1, Patients: 1, Rows: 512, Columns: 512, Facility: "SGH", Seed: 19})
	e.add("SGH", big)
	readCT[b.Name()], readBig[b.Name()] = ct, big[0]
	return e
}

// discard is a ResponseWriter that keeps nothing.
type discard struct {
	h    http.Header
	code int
	n    int64
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

func benchGet(b *testing.B, e *env, path string, hdr map[string]string) {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer tokA")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	var n int64
	for b.Loop() {
		w := &discard{h: http.Header{}, code: 200}
		e.h.ServeHTTP(w, req)
		if w.code != 200 {
			b.Fatalf("%s: %d", path, w.code)
		}
		n = w.n
	}
	// The process's CPU (user + sys, garbage collection included) per
	// request: on a shared machine the wall time says mostly how loaded
	// it was.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.SetBytes(n)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkReadSeriesMetadata(b *testing.B) {
	e := readSetup(b)
	s := readCT[b.Name()][0]
	benchGet(b, e, "/dicomweb/studies/"+s.study+"/series/"+s.series+"/metadata", nil)
}

func BenchmarkReadQIDOInstances(b *testing.B) {
	e := readSetup(b)
	s := readCT[b.Name()][0]
	benchGet(b, e, "/dicomweb/studies/"+s.study+"/series/"+s.series+"/instances", nil)
}

// The same answer by the uncached path: naming a default attribute in
// includefield keeps the search out of the series cache.
func BenchmarkReadQIDOInstancesUncached(b *testing.B) {
	e := readSetup(b)
	s := readCT[b.Name()][0]
	benchGet(b, e, "/dicomweb/studies/"+s.study+"/series/"+s.series+"/instances?includefield=SOPClassUID", nil)
}

func BenchmarkReadFrame512KB(b *testing.B) {
	e := readSetup(b)
	s := readBig[b.Name()]
	benchGet(b, e, "/dicomweb/studies/"+s.study+"/series/"+s.series+"/instances/"+s.sop+"/frames/1", nil)
}

func BenchmarkReadWholeSeries(b *testing.B) {
	e := readSetup(b)
	s := readCT[b.Name()][0]
	benchGet(b, e, "/dicomweb/studies/"+s.study+"/series/"+s.series, map[string]string{"Accept": `multipart/related; type="application/dicom"; transfer-syntax=*`})
}
