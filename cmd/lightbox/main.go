// Command lightbox is the Lightbox teleradiology platform: one binary that
// serves, imports, generates test data and administers a group.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"lightbox/internal/cli"
)

func main() {
	// LIGHTBOX_CPUPROFILE=FILE writes a CPU profile of the whole run (for
	// bench/: where ingest time goes), stopped at a clean exit.
	if path := os.Getenv("LIGHTBOX_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
			os.Exit(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.DefaultEnv())
	stop()
	pprof.StopCPUProfile()
	os.Exit(code)
}
