// Package bench measures DICOMweb latency and throughput. It is a test
// that only runs when LIGHTBOX_BENCH=1:
//
//	LIGHTBOX_BENCH=1 go test -run TestReport -v -timeout 30m ./internal/dicomweb/bench/
//
// LIGHTBOX_BENCH_SLICES (default 2000) and LIGHTBOX_BENCH_SIZE (rows =
// columns, default 128) shape the CT series; LIGHTBOX_BENCH_STUDIES
// (default 100000) the QIDO index; LIGHTBOX_BENCH_ROUNDS (default 5) the
// alternations of whole-series WADO-RS and http.FileServer.
package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"lightbox/bench/benchseed"
	"lightbox/internal/archive"
	"lightbox/internal/blob"
	"lightbox/internal/db"
	"lightbox/internal/dicomweb"
	"lightbox/internal/gen"
	"lightbox/internal/query"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func auth(*http.Request) (query.Scope, error) { return query.Scope{All: true}, nil }

func p50(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func fetch(t *testing.T, url string, hdr map[string]string) (int64, time.Duration) {
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	st := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("%s: %d %v", url, res.StatusCode, err)
	}
	return n, time.Since(st)
}

func TestReport(t *testing.T) {
	if os.Getenv("LIGHTBOX_BENCH") != "1" {
		t.Skip("set LIGHTBOX_BENCH=1")
	}
	ctx := context.Background()
	dir := t.TempDir()
	slicesN, size := envInt("LIGHTBOX_BENCH_SLICES", 2000), envInt("LIGHTBOX_BENCH_SIZE", 128)
	dbPath := "sqlite:" + filepath.Join(dir, "index.db")
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := blob.OpenDir(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	a := archive.New(d, b, archive.Options{})
	concat, err := os.Create(filepath.Join(dir, "series.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var study, series, sop string
	st := time.Now()
	err = gen.Each(ctx, gen.Options{Modality: "CT", Slices: slicesN, Patients: 1, Rows: size, Columns: size, Facility: "SGH"}, func(in *gen.Instance) error {
		data, err := gen.Encode(in)
		if err != nil {
			return err
		}
		study, series = in.StudyInstanceUID, in.SeriesInstanceUID
		if sop == "" {
			sop = in.SOPInstanceUID
		}
		_, _ = concat.Write(data)
		_, err = a.Store(ctx, bytes.NewReader(data), archive.Source{Facility: "SGH"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	concat.Close()
	t.Logf("stored %d slices of %dx%d in %v", slicesN, size, size, time.Since(st).Round(time.Millisecond))
	a.Close()
	d.Close()

	// Cold: a freshly opened index (its page cache empty, the OS cache warm).
	var cold []time.Duration
	for range 5 {
		d, err := db.Open(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		a := archive.New(d, b, archive.Options{})
		h, _ := dicomweb.New(dicomweb.Options{Archive: a, Query: query.New(d), Authorize: auth})
		srv := httptest.NewServer(h)
		_, dur := fetch(t, srv.URL+"/dicomweb/studies/"+study+"/series/"+series+"/metadata", nil)
		cold = append(cold, dur)
		srv.Close()
		a.Close()
		d.Close()
	}
	d, err = db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a = archive.New(d, b, archive.Options{})
	defer a.Close()
	h, _ := dicomweb.New(dicomweb.Options{Archive: a, Query: query.New(d), Authorize: auth})
	srv := httptest.NewServer(h)
	defer srv.Close()
	base := srv.URL + "/dicomweb/studies/" + study + "/series/" + series
	var warm, warmGz []time.Duration
	var mdBytes int64
	for range 20 {
		n, dur := fetch(t, base+"/metadata", nil)
		mdBytes = n
		warm = append(warm, dur)
		_, dur = fetch(t, base+"/metadata", map[string]string{"Accept-Encoding": "gzip"})
		warmGz = append(warmGz, dur)
	}
	t.Logf("series metadata (%d instances, %.1f MB JSON): p50 cold %v, warm %v, warm gzip %v", slicesN, float64(mdBytes)/1e6,
		p50(cold).Round(time.Microsecond), p50(warm).Round(time.Microsecond), p50(warmGz).Round(time.Microsecond))

	fs := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer fs.Close()
	// Alternated, and each WADO-RS compared with the file served next to
	// it: on a shared machine the load moves both within a run.
	var wado, file, ratio []float64
	for range envInt("LIGHTBOX_BENCH_ROUNDS", 5) {
		n, dur := fetch(t, base, map[string]string{"Accept": `multipart/related; type="application/dicom"; transfer-syntax=*`})
		wado = append(wado, float64(n)/dur.Seconds()/1e6)
		n, dur = fetch(t, fs.URL+"/series.bin", nil)
		file = append(file, float64(n)/dur.Seconds()/1e6)
		ratio = append(ratio, wado[len(wado)-1]/file[len(file)-1])
	}
	med := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	mw, mf := med(wado), med(file)
	t.Logf("whole-series WADO-RS: %.0f MB/s; http.FileServer, same bytes as one file: %.0f MB/s; ratio %.2f (median of %d paired ratios %.2f)",
		mw, mf, mw/mf, len(ratio), med(ratio))

	// QIDO of the series' instances: as a viewer asks (answered from the
	// series cache once warm) and with includefield naming a default
	// attribute (the uncached path).
	for _, q := range []string{"", "?includefield=SOPClassUID"} {
		var ds []time.Duration
		for range 30 {
			_, dur := fetch(t, base+"/instances"+q, nil)
			ds = append(ds, dur)
		}
		t.Logf("QIDO /series/{r}/instances%s (%d results): p50 %v", q, slicesN, p50(ds).Round(time.Microsecond))
	}

	var frame []time.Duration
	for range 200 {
		_, dur := fetch(t, base+"/instances/"+sop+"/frames/1", nil)
		frame = append(frame, dur)
	}
	t.Logf("single frame (%d bytes): p50 %v", size*size*2, p50(frame).Round(time.Microsecond))

	// QIDO over a large index, rows inserted directly.
	nStudies := envInt("LIGHTBOX_BENCH_STUDIES", 100000)
	st = time.Now()
	err = benchseed.Studies(ctx, d, nStudies)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("indexed %d more studies in %v", nStudies, time.Since(st).Round(time.Millisecond))
	// A running node refreshes planner statistics at start and hourly.
	if err := d.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	scopeSrv := func(scope query.Scope) *httptest.Server {
		h, _ := dicomweb.New(dicomweb.Options{Archive: a, Query: query.New(d), Authorize: func(*http.Request) (query.Scope, error) { return scope, nil }})
		return httptest.NewServer(h)
	}
	one := scopeSrv(query.Scope{Facilities: []string{"SGH"}})
	defer one.Close()
	for _, q := range []string{"PatientName=SMITH12*", "PatientName=nguyen*&limit=100", "PatientName=pat4242&fuzzymatching=true",
		"AccessionNumber=ACC0004242", "StudyDate=20250301-20250305&limit=50", "limit=100"} {
		var ds []time.Duration
		for range 30 {
			_, dur := fetch(t, one.URL+"/dicomweb/studies?"+q, nil)
			ds = append(ds, dur)
		}
		t.Logf("QIDO /studies?%s (%d studies indexed, scope one facility): p50 %v", q, nStudies+1, p50(ds).Round(time.Microsecond))
	}
}
