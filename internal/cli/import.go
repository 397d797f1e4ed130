package cli

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/importer"
)

func runImport(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "import", "import [--data DIR] [--workers N] [--facility ID] PATH...")
	sf := addStorageFlags(fs)
	workers := fs.Int("workers", 0, "parallel stores (default 2 × CPUs)")
	facility := fs.String("facility", "", "attribute every instance to this facility ID")
	verbose := fs.Bool("verbose", false, "print one line per file as it is stored: outcome, path, content digest")
	if err := parseWant(fs, args, env, func() bool { return fs.NArg() > 0 }); err != nil {
		return err
	}
	st, log, err := sf.open(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	var prog importer.Progress
	if env.IsTerminal {
		prog = importer.NewBar(env.Stderr)
	} else {
		prog = importer.NewLog(log, 5*time.Second)
	}
	opt := importer.Options{Workers: *workers, Progress: prog, Source: archive.Source{Facility: *facility}}
	if *verbose {
		var mu sync.Mutex
		opt.OnFile = func(path, outcome, reason string, res *archive.Result) {
			mu.Lock()
			defer mu.Unlock()
			if res != nil {
				fmt.Fprintf(env.Stdout, "%s %s digest=%s\n", outcome, path, res.Digest)
			} else {
				fmt.Fprintf(env.Stdout, "%s %s: %s\n", outcome, path, reason)
			}
		}
	}
	sum, err := importer.Run(ctx, st.Archive, fs.Args(), opt)
	if sum != nil {
		printSummary(env, sum)
	}
	if err != nil {
		return err
	}
	if len(sum.Failed) > 0 {
		return fmt.Errorf("%d file(s) could not be stored", len(sum.Failed))
	}
	return nil
}

func printSummary(env *Env, s *importer.Summary) {
	mb := float64(s.Bytes) / (1 << 20)
	sec := max(s.Elapsed.Seconds(), 1e-9)
	fmt.Fprintf(env.Stdout, "files: %d  stored: %d  duplicates: %d  rejected: %d  skipped (not DICOM): %d  failed: %d\n",
		s.Files, s.Stored, s.Duplicates, len(s.Rejected), len(s.Skipped), len(s.Failed))
	fmt.Fprintf(env.Stdout, "%.1f MB in %.1fs (%.1f MB/s, %.0f files/s)\n", mb, s.Elapsed.Seconds(), mb/sec, float64(s.Files)/sec)
	fmt.Fprintf(env.Stdout, "peak RSS: %d MB\n", peakRSSMB())
	for _, p := range s.Rejected {
		fmt.Fprintf(env.Stdout, "rejected %s: %s\n", p.Path, p.Reason)
	}
	for _, p := range s.Skipped {
		fmt.Fprintf(env.Stdout, "skipped %s: %s\n", p.Path, p.Reason)
	}
	for _, p := range s.Failed {
		fmt.Fprintf(env.Stdout, "failed %s: %s\n", p.Path, p.Reason)
	}
}

// peakRSSMB is this process's peak resident memory, to show import memory
// stays flat with study size.
func peakRSSMB() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss / 1024 // Linux reports KiB
}
