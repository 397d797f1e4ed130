package cli

import (
	"context"
	"flag"
	"time"

	"lightbox/internal/server"
)

type serveFlags struct {
	*storageFlags
	http, dicom, aet *string
	quiet            *time.Duration
}

func addServeFlags(fs *flag.FlagSet) *serveFlags {
	return &serveFlags{
		storageFlags: addStorageFlags(fs),
		http:         fs.String("http", "127.0.0.1:8080", "HTTP listen address (UI, DICOMweb, FHIR, API)"),
		dicom:        fs.String("dicom", "127.0.0.1:11112", "DICOM listen address"),
		aet:          fs.String("aet", "LIGHTBOX", "this node's DICOM AE title"),
		quiet:        fs.Duration("quiet", time.Minute, "a study that receives nothing for this long is complete and goes on the worklist"),
	}
}

func (f *serveFlags) serverConfig(env *Env) (server.Config, error) {
	log, err := f.logger(env)
	if err != nil {
		return server.Config{}, err
	}
	c := f.config(log)
	c.HTTP, c.DICOM, c.AETitle, c.Quiet = *f.http, *f.dicom, *f.aet, *f.quiet
	return c, nil
}

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "serve", "serve [--data DIR] [--http ADDR] [--dicom ADDR] [--aet TITLE] [--db URL] [--blobs URL]")
	f := addServeFlags(fs)
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
	return s.Run(ctx)
}
