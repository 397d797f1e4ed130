package cli

import (
	"context"
	"fmt"
	"io"

	"lightbox/internal/ae"
	"lightbox/internal/netserve"
)

func runAE(ctx context.Context, env *Env, args []string) error {
	c := newSetupCmd(env, "ae", args,
		"Usage: lightbox ae add --aet TITLE --host H --port P [--facility F] [--tls]\n       lightbox ae list\n       lightbox ae remove --aet TITLE")
	fs := c.fs
	title := fs.String("aet", "", "the remote AE title")
	host := fs.String("host", "", "host name or address")
	port := fs.Int("port", 104, "port")
	facility := fs.String("facility", "", "facility the AE belongs to (instances it sends are attributed to it)")
	tls := fs.Bool("tls", false, "connect to it with DICOM TLS")
	desc := fs.String("description", "", "free text")
	allow := fs.String("allow-cidr", "", "comma-separated networks the AE may associate from (default: anywhere)")
	return c.run(ctx, env, args, map[string]action{
		"add": func(ctx context.Context, o *opened) error {
			e := ae.Entity{Title: *title, Host: *host, Port: *port, FacilityID: *facility, TLS: *tls, Description: *desc, AllowCIDRs: netserve.SplitNetworks(*allow)}
			return done(env, o.setup.PutAE(ctx, cliActor(), e), "saved %s at %s", e.Title, e.Addr())
		},
		"remove": func(ctx context.Context, o *opened) error {
			return o.setup.DeleteAE(ctx, cliActor(), *title)
		},
		"list": lister(c, env, "AE TITLE\tADDRESS\tFACILITY\tTLS\tDESCRIPTION",
			func(ctx context.Context, o *opened) ([]ae.Entity, error) { return (ae.Store{DB: o.st.DB}).List(ctx) },
			func(w io.Writer, e ae.Entity) {
				fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\n", e.Title, e.Addr(), e.FacilityID, e.TLS, e.Description)
			}),
	})
}
