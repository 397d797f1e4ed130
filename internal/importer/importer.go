package importer

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lightbox/internal/archive"
)

// Storer is what the importer needs of the archive: StoreAsync reads and
// parses a file, then makes it durable and indexes it in the background;
// wait says how that went.
type Storer interface {
	StoreAsync(ctx context.Context, r io.Reader, src archive.Source) (wait func() (*archive.Result, error), res *archive.Result, err error)
}

// Progress receives counters as the import runs.
type Progress interface {
	Start(totalFiles int, totalBytes int64)
	Add(files int, bytes int64)
	Finish()
}

// Options configure an import.
type Options struct {
	Workers  int
	Source   archive.Source
	Progress Progress
	// OnFile, when set, is called after each file with its outcome
	// ("stored", "duplicate", "rejected", "skipped", "failed"); for stored
	// files res is the archive's result. Calls may come from several goroutines.
	OnFile func(path, outcome, reason string, res *archive.Result)
}

// Problem is one file that was not stored.
type Problem struct {
	Path   string
	Reason string
}

// Summary accounts for every file seen.
type Summary struct {
	Files      int
	Stored     int
	Duplicates int
	Rejected   []Problem // DICOM, but unacceptable
	Skipped    []Problem // not DICOM
	Failed     []Problem // our side failed (disk, database)
	Bytes      int64
	Elapsed    time.Duration
}

type job struct {
	path string
	size int64
	open func() (io.ReadCloser, error)
}

// inFlightMax bounds the files past their parse that may be committing
// at once (each holds at most 16 MiB in memory, to be packed, and all of
// them together at most the archive's budget: past it the archive streams
// larger ones into a temporary blob as they are read). Nothing is acknowledged
// to anyone before the summary, so a file need not be durable before the
// next is read: with many in flight their fsyncs overlap and the
// archive's group commit covers many at a time, where each worker used to
// wait for its file's flushes in turn (bench/README.md, ingest).
const inFlightMax = 32

// Run imports every file under paths (files, folders, .zip files):
// Workers files are read and parsed at a time, and up
// to inFlightMax of them commit meanwhile.
func Run(ctx context.Context, st Storer, paths []string, opt Options) (*Summary, error) {
	start := time.Now()
	jobs, closers, err := collect(paths)
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	if opt.Workers <= 0 {
		opt.Workers = 2 * runtime.GOMAXPROCS(0)
	}
	var total int64
	for _, j := range jobs {
		total += j.size
	}
	if opt.Progress != nil {
		opt.Progress.Start(len(jobs), total)
		defer opt.Progress.Finish()
	}
	sum := &Summary{Files: len(jobs)}
	var (
		mu      sync.Mutex
		next    atomic.Int64
		workers sync.WaitGroup
		settled sync.WaitGroup
		bytesIn atomic.Int64
		room    = make(chan struct{}, inFlightMax)
	)
	record := func(j job, outcome, reason string, res *archive.Result) {
		if opt.OnFile != nil {
			opt.OnFile(j.path, outcome, reason, res)
		}
		mu.Lock()
		switch outcome {
		case "stored":
			sum.Stored++
		case "duplicate":
			sum.Duplicates++
		case "rejected":
			sum.Rejected = append(sum.Rejected, Problem{j.path, reason})
		case "skipped":
			sum.Skipped = append(sum.Skipped, Problem{j.path, reason})
		default:
			sum.Failed = append(sum.Failed, Problem{j.path, reason})
		}
		mu.Unlock()
		bytesIn.Add(j.size)
		if opt.Progress != nil {
			opt.Progress.Add(1, j.size)
		}
	}
	for range opt.Workers {
		workers.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				j := jobs[i]
				room <- struct{}{}
				wait, err := startOne(ctx, st, j, opt.Source)
				if err != nil {
					<-room
					outcome, reason, res := classify(nil, err)
					record(j, outcome, reason, res)
					continue
				}
				settled.Go(func() {
					res, err := wait()
					<-room
					outcome, reason, res := classify(res, err)
					record(j, outcome, reason, res)
				})
			}
		})
	}
	workers.Wait()
	settled.Wait()
	sum.Bytes = bytesIn.Load()
	sum.Elapsed = time.Since(start)
	for _, l := range [][]Problem{sum.Rejected, sum.Skipped, sum.Failed} {
		sort.Slice(l, func(a, b int) bool { return l[a].Path < l[b].Path })
	}
	return sum, ctx.Err()
}

// startOne reads and parses one file; the archive commits it in the
// background until wait returns.
func startOne(ctx context.Context, st Storer, j job, src archive.Source) (wait func() (*archive.Result, error), err error) {
	rc, err := j.open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// Streamed as read (64 KiB at a time, hashed and written while in
	// the cache): reading each 526 KB file whole with one read and writing
	// its blob with one write cost more system time, not less
	// (bench/README.md, ingest).
	wait, _, err = st.StoreAsync(ctx, rc, src)
	return wait, err
}

// classify names a file's outcome as Summary counts it.
func classify(res *archive.Result, err error) (outcome, reason string, _ *archive.Result) {
	var ie *archive.InputError
	switch {
	case err == nil && res.Outcome == archive.Stored, err == nil && res.Outcome == archive.Replaced:
		return "stored", "", res
	case err == nil:
		return "duplicate", "", res
	case errors.As(err, &ie) && ie.Code == archive.InputNotDICOM:
		return "skipped", ie.Reason, nil
	case errors.As(err, &ie):
		return "rejected", ie.Reason, nil
	case errors.Is(err, archive.ErrDuplicateRejected):
		return "rejected", err.Error(), nil
	}
	return "failed", err.Error(), nil
}

// collect lists the files to import; zip archives are opened and their
// entries listed (closers must be closed after the import).
func collect(paths []string) ([]job, []io.Closer, error) {
	var jobs []job
	var closers []io.Closer
	add := func(p string, size int64) error {
		if strings.EqualFold(filepath.Ext(p), ".zip") {
			zr, err := zip.OpenReader(p)
			if err != nil {
				jobs = append(jobs, job{path: p, size: size, open: func() (io.ReadCloser, error) {
					return nil, fmt.Errorf("open zip: %w", err)
				}})
				return nil
			}
			closers = append(closers, zr)
			for _, zf := range zr.File {
				if zf.FileInfo().IsDir() {
					continue
				}
				jobs = append(jobs, job{path: p + "!" + zf.Name, size: int64(zf.UncompressedSize64), open: zf.Open})
			}
			return nil
		}
		jobs = append(jobs, job{path: p, size: size, open: func() (io.ReadCloser, error) { return os.Open(p) }})
		return nil
	}
	for _, root := range paths {
		st, err := os.Stat(root)
		if err != nil {
			return nil, closers, fmt.Errorf("import %s: %w", root, err)
		}
		if !st.IsDir() {
			if err := add(root, st.Size()); err != nil {
				return nil, closers, err
			}
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("walk %s: %w", p, err)
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			return add(p, info.Size())
		})
		if err != nil {
			return nil, closers, err
		}
	}
	return jobs, closers, nil
}
