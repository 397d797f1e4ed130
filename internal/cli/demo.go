package cli

import (
	"context"

	"lightbox/internal/demo"
	"lightbox/internal/server"
)

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "demo", "demo [serve flags] [--seed N]")
	f := addServeFlags(fs)
	seed := fs.Int64("seed", 1, "demo data seed")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	c, err := f.serverConfig(env)
	if err != nil {
		return err
	}
	s, err := server.New(ctx, c)
	if err != nil {
		return err
	}
	if err := demo.Seed(ctx, s.Storage.DB, s.Storage.Archive, *seed, c.Logger); err != nil {
		s.Storage.Close()
		return err
	}
	return s.Run(ctx)
}
