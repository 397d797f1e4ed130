package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"lightbox/internal/ae"
	"lightbox/internal/netserve"
)

func runAE(ctx context.Context, env *Env, args []string) error {
	c, err := newSetupCmd(env, "ae", args, []string{"add", "list", "remove"},
		"Usage: lightbox ae add --aet TITLE --host H --port P [--facility F] [--tls]\n       lightbox ae list\n       lightbox ae remove --aet TITLE")
	if err != nil {
		return err
	}
	fs := c.fs
	title := fs.String("aet", "", "the remote AE title")
	host := fs.String("host", "", "host name or address")
	port := fs.Int("port", 104, "port")
	facility := fs.String("facility", "", "facility the AE belongs to (instances it sends are attributed to it)")
	tls := fs.Bool("tls", false, "connect to it with DICOM TLS")
	desc := fs.String("description", "", "free text")
	allow := fs.String("allow-cidr", "", "comma-separated networks the AE may associate from (default: anywhere)")
	s, st, err := c.open(ctx, env, args)
	if err != nil {
		return err
	}
	defer st.Close()
	store := ae.Store{DB: st.DB}
	switch c.sub {
	case "add":
		e := ae.Entity{Title: *title, Host: *host, Port: *port, FacilityID: *facility, TLS: *tls, Description: *desc, AllowCIDRs: netserve.SplitNetworks(*allow)}
		if err := s.PutAE(ctx, cliActor(), e); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "saved %s at %s\n", e.Title, e.Addr())
	case "remove":
		return s.DeleteAE(ctx, cliActor(), *title)
	case "list":
		l, err := store.List(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "AE TITLE\tADDRESS\tFACILITY\tTLS\tDESCRIPTION")
		for _, e := range l {
			fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\n", e.Title, e.Addr(), e.FacilityID, e.TLS, e.Description)
		}
		return w.Flush()
	}
	return nil
}
