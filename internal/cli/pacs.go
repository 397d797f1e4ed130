package cli

import (
	"context"
	"fmt"
	"io"

	"lightbox/internal/priors"
)

const pacsUsage = `Usage: lightbox facility pacs add --facility ID --aet AE --host HOST --port N [--tls] [--priors N] [--wait SECONDS] [--retrieve move|get]
       lightbox facility pacs list
       lightbox facility pacs remove --facility ID`

// runFacilityPACS registers a facility's PACS as the source of its
// patients' priors (internal/priors).
func runFacilityPACS(ctx context.Context, env *Env, args []string) error {
	c := newSetupCmd(env, "facility pacs", args, pacsUsage)
	fac := c.fs.String("facility", "", "facility ID")
	aet := c.fs.String("aet", "", "the PACS's AE title")
	host := c.fs.String("host", "", "the PACS's host")
	port := c.fs.Int("port", 104, "the PACS's DICOM port")
	tls := c.fs.Bool("tls", false, "DICOM TLS to the PACS")
	n := c.fs.Int("priors", priors.DefaultMaxPriors, "how many priors to retrieve per study")
	wait := c.fs.Int("wait", int(priors.DefaultWait.Seconds()), "seconds assignment waits for the priors")
	retrieve := c.fs.String("retrieve", priors.Move, "move (C-MOVE to Lightbox's AE title, which the PACS must know) or get (C-GET)")
	return c.run(ctx, env, args, map[string]action{
		"add": func(ctx context.Context, o *opened) error {
			src := priors.Source{FacilityID: *fac, AETitle: *aet, Host: *host, Port: *port, TLS: *tls, MaxPriors: *n, WaitSeconds: *wait, Retrieve: *retrieve}
			return done(env, o.setup.PutPACS(ctx, cliActor(), src), "saved PACS %s of facility %s", src.AETitle, src.FacilityID)
		},
		"list": lister(c, env, "FACILITY\tAE TITLE\tADDRESS\tTLS\tPRIORS\tWAIT\tRETRIEVE",
			func(ctx context.Context, o *opened) ([]priors.Source, error) { return o.setup.PACSList(ctx) },
			func(w io.Writer, p priors.Source) {
				fmt.Fprintf(w, "%s\t%s\t%s:%d\t%v\t%d\t%ds\t%s\n", p.FacilityID, p.AETitle, p.Host, p.Port, p.TLS, p.MaxPriors, p.WaitSeconds, p.Retrieve)
			}),
		"remove": func(ctx context.Context, o *opened) error {
			return done(env, o.setup.DeletePACS(ctx, cliActor(), *fac), "removed the PACS of facility %s", *fac)
		},
	})
}
