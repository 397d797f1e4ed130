package cli

import (
	"context"
	"fmt"
	"io"

	"lightbox/internal/setup"
)

const endpointUsage = `Usage: lightbox endpoint add --facility F --kind hl7|fhir --address HOST:PORT|URL [--tls] [--auth "Bearer ..."]
       lightbox endpoint list [--facility F]
       lightbox endpoint remove --facility F --kind hl7|fhir
       lightbox endpoint test --facility F --kind hl7|fhir`

// runEndpoint manages where a facility's reports are delivered.
func runEndpoint(ctx context.Context, env *Env, args []string) error {
	c := newSetupCmd(env, "endpoint", args, endpointUsage)
	fac := c.fs.String("facility", "", "facility ID")
	kind := c.fs.String("kind", "hl7", "hl7 (MLLP) or fhir")
	addr := c.fs.String("address", "", "hl7: host:port; fhir: base URL")
	tls := c.fs.Bool("tls", false, "hl7: MLLP over TLS")
	authz := c.fs.String("auth", "", "fhir: Authorization header value")
	return c.run(ctx, env, args, map[string]action{
		"add": func(ctx context.Context, o *opened) error {
			return done(env, o.setup.PutEndpoint(ctx, cliActor(), setup.Endpoint{FacilityID: *fac, Kind: *kind, Address: *addr, TLS: *tls, Auth: *authz}), "saved %s endpoint of %s", *kind, *fac)
		},
		"remove": func(ctx context.Context, o *opened) error {
			return o.setup.DeleteEndpoint(ctx, cliActor(), *fac, *kind)
		},
		"list": lister(c, env, "FACILITY\tKIND\tADDRESS\tTLS\tAUTH",
			func(ctx context.Context, o *opened) ([]setup.Endpoint, error) { return o.setup.Endpoints(ctx, *fac) },
			func(w io.Writer, e setup.Endpoint) {
				fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\n", e.FacilityID, e.Kind, e.Address, e.TLS, e.Auth)
			}),
		"test": func(ctx context.Context, o *opened) error {
			res, err := o.setup.TestEndpoint(ctx, *fac, *kind)
			if err != nil {
				return err
			}
			if *c.json {
				_ = writeJSONTo(env.Stdout, res)
			} else {
				fmt.Fprintf(env.Stdout, "%s %s: ok=%v ack=%s %s (%d ms)\n", res.Kind, res.Address, res.OK, res.Ack, res.Detail, res.Millis)
			}
			if !res.OK {
				return fmt.Errorf("the peer did not accept the test message")
			}
			return nil
		},
	})
}
