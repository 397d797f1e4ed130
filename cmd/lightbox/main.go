// Command lightbox is the Lightbox teleradiology platform: one binary that
// serves, imports, generates test data and administers a group.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"lightbox/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.DefaultEnv())
	stop()
	os.Exit(code)
}
