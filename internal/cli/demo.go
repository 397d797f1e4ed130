package cli

import (
	"context"

	"fmt"
	"path/filepath"
	"strings"

	"lightbox/internal/demo"
	"lightbox/internal/server"
	"lightbox/internal/tlsutil"
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
	// The demo speaks DICOM TLS on a second port with a self-signed pair.
	if c.TLSCert == "" && c.DICOMTLS == "" {
		cert, key, err := tlsutil.SelfSigned(filepath.Join(c.Data, "tls"), nil)
		if err != nil {
			return err
		}
		c.TLSCert, c.TLSKey, c.DICOMTLS = cert, key, "127.0.0.1:2762"
		if *f.dicom == "127.0.0.1:0" {
			c.DICOMTLS = "127.0.0.1:0"
		}
	}
	s, err := server.New(ctx, c)
	if err != nil {
		return err
	}
	if err := demo.Seed(ctx, s.Storage.DB, s.Storage.Archive, s.Auth, *seed, c.Logger); err != nil {
		s.Storage.Close()
		return err
	}
	if err := s.Dispatch.ReloadAll(ctx); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "demo accounts: %s\npassword: %s\n"+
		"admins and radiologists need a second factor first: lightbox user totp --data %s --username NAME (then --confirm CODE)\n"+
		"API or DICOMweb clients: lightbox token create --data %s --username NAME --name CLIENT\n",
		strings.Join(demo.Usernames(), ", "), demo.Password, c.Data, c.Data)
	return s.Run(ctx)
}
