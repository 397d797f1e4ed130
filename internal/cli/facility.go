package cli

import (
	"context"
	"fmt"
	"io"

	"lightbox/internal/facility"
	"lightbox/internal/model"
	"lightbox/internal/roster"
	"lightbox/internal/setup"
)

const facilityUsage = `Usage: lightbox facility add --id ID --name NAME --state ST --timezone ZONE [--issuer I] [--read-type final|prelim-only|final-requires-us-reader] [--medicare]
       lightbox facility list
       lightbox facility import FILE.csv|FILE.json
       lightbox facility export [--format csv|json]
       lightbox facility pacs add|list|remove (the facility's PACS, source of priors)`

func runFacility(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "pacs" {
		return runFacilityPACS(ctx, env, args[1:])
	}
	c := newSetupCmd(env, "facility", args, facilityUsage)
	id := c.fs.String("id", "", "facility ID (letters, digits, . _ -)")
	name := c.fs.String("name", "", "facility name")
	state := c.fs.String("state", "", "US state where its patients are imaged (two letters)")
	zone := c.fs.String("timezone", "", "IANA time zone, e.g. America/Chicago")
	issuer := c.fs.String("issuer", "", "issuer of patient ID (keeps its patient IDs apart from other facilities')")
	readType := c.fs.String("read-type", "", "contract read type: final, prelim-only, final-requires-us-reader")
	medicare := c.fs.Bool("medicare", false, "contract: Medicare patients (finals need a US-located reader)")
	format := c.fs.String("format", "csv", "export format: csv or json")
	return c.run(ctx, env, args, map[string]action{
		"add": func(ctx context.Context, o *opened) error {
			f := setup.Facility{Facility: facility.Facility{ID: *id, Name: *name, State: *state, TimeZone: *zone, IssuerOfPatientID: *issuer}}
			if *readType != "" || *medicare {
				f.Contract = &roster.Contract{ReadType: model.ReadType(*readType), Medicare: *medicare}
			}
			return done(env, o.setup.PutFacility(ctx, cliActor(), f), "saved facility %s", f.ID)
		},
		"list": lister(c, env, "ID\tNAME\tSTATE\tTIME ZONE\tREAD TYPE",
			func(ctx context.Context, o *opened) ([]setup.Facility, error) { return o.setup.Facilities(ctx) },
			func(w io.Writer, f setup.Facility) {
				rt := ""
				if f.Contract != nil {
					rt = string(f.Contract.ReadType)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", f.ID, f.Name, f.State, f.TimeZone, rt)
			}),
		"import": c.importer(env, (*setup.Service).ImportFacilities),
		"export": func(ctx context.Context, o *opened) error {
			return o.setup.ExportFacilities(ctx, env.Stdout, *format)
		},
	})
}
