// Command rawcopy is the benchmark baseline: it copies every file under a
// folder to another with the same parallelism as the importer, fsyncing
// each file, and prints the bandwidth. It is what "raw fsync'd disk" means
// in the benchmark ratios.
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	src := flag.String("src", "", "source folder")
	dst := flag.String("dst", "", "destination folder")
	workers := flag.Int("workers", 4, "parallel copies")
	flag.Parse()
	var files []string
	_ = filepath.WalkDir(*src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	_ = os.MkdirAll(*dst, 0o750)
	var next, total atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				in, err := os.Open(files[i])
				if err != nil {
					panic(err)
				}
				out, err := os.Create(filepath.Join(*dst, fmt.Sprintf("%06d", i)))
				if err != nil {
					panic(err)
				}
				n, _ := io.Copy(out, in)
				if err := out.Sync(); err != nil {
					panic(err)
				}
				out.Close()
				in.Close()
				total.Add(n)
			}
		})
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	fmt.Printf("raw: %d files %.1f MB in %.2fs: %.1f MB/s %.0f files/s\n", len(files), float64(total.Load())/(1<<20), el,
		float64(total.Load())/(1<<20)/el, float64(len(files))/el)
}
