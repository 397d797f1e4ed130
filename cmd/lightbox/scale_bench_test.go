package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"lightbox/internal/blob/blobtest"
	"lightbox/internal/db/dbtest"
)

// TestScaleIngestBench measures C-STORE ingest through 1, 2 and 3 nodes on
// one PostgreSQL database and one versitygw bucket (then one shared
// folder), all on this machine
// (bench/README.md). It runs only with LIGHTBOX_BENCH_SCALE=1.
func TestScaleIngestBench(t *testing.T) {
	if os.Getenv("LIGHTBOX_BENCH_SCALE") == "" {
		t.Skip("a benchmark: set LIGHTBOX_BENCH_SCALE=1")
	}
	needTools(t, "storescu")
	s3 := blobtest.Start(t)
	tmp := t.TempDir()
	studies := filepath.Join(tmp, "studies")
	mustRun(t, "gen", "--out", studies, "--modality", "CT", "--slices", "300", "--patients", "1", "--rows", "256", "--columns", "256")
	files := dicomFiles(t, studies)
	// One association per node; and one node with three associations, to
	// tell what more nodes add from what more connections add.
	// Each on the S3 bucket, and on one folder the nodes share (where the
	// ingest journal applies: instances here are ≈ 130 KB, under its
	// 256 KiB bound; S3 keeps the per-instance confirmed upload).
	type config struct {
		store         string
		nodes, assocs int
	}
	var configs []config
	for _, store := range []string{"s3", "folder"} {
		for _, c := range []config{{"", 1, 1}, {"", 1, 3}, {"", 2, 2}, {"", 3, 3}} {
			c.store = store
			configs = append(configs, c)
		}
	}
	for _, c := range configs {
		n := c.nodes
		pg := dbtest.Database(t)
		name := fmt.Sprintf("%s-n%d-%d", c.store, n, c.assocs)
		blobs := s3.URL(s3.Bucket(t), filepath.Join(tmp, "spool"))
		if c.store == "folder" {
			blobs = filepath.Join(tmp, "blobs-"+name)
		}
		var nodes []*server
		for i := range n {
			nodes = append(nodes, startServerEnv(t, s3.Env(), "serve", "--data", filepath.Join(tmp, fmt.Sprintf("%s-%d", name, i)), "--db", pg, "--blobs", blobs, "--dicom-open"))
		}
		start := time.Now()
		var wg sync.WaitGroup
		for i := range c.assocs {
			s := nodes[i%n]
			var group []string
			for j := i; j < len(files); j += c.assocs {
				group = append(group, files[j])
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				h, p := hostPort(s.addrs["dicom"].(string))
				if out, err := exec.Command("storescu", append([]string{"-aet", "BENCH", "-aec", "LIGHTBOX", h, p}, group...)...).CombinedOutput(); err != nil {
					t.Errorf("storescu: %v\n%s", err, out)
				}
			}()
		}
		wg.Wait()
		d := time.Since(start)
		t.Logf("%s: %d node(s), %d association(s): %d instances in %v = %.0f instances/s", c.store, n, c.assocs, len(files), d.Round(time.Millisecond), float64(len(files))/d.Seconds())
		for _, s := range nodes {
			s.stop(t)
		}
	}
}
