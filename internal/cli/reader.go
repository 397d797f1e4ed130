package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"lightbox/internal/model"
	"lightbox/internal/roster"
	"lightbox/internal/setup"
)

const readerUsage = `Usage: lightbox reader add --id USER --name NAME --country US [--state ST] --timezone ZONE [--modalities "CT MR"]
                         [--licence ST:NUMBER:YYYY-MM-DD,...] [--privilege FACILITY:YYYY-MM-DD,...] [--mqsa] [--workstation 5MP]
                         [--malpractice-states "OR WA" --malpractice-expires YYYY-MM-DD] ...
       lightbox reader list
       lightbox reader import FILE.json|FILE.csv [--kind credentials|readers]
       lightbox reader export [--format json|csv|readers-csv]`

// runReader manages readers and their credentials: whole documents as
// JSON, one reader a row (readers-csv), licences and privileges one a row
// (csv, as medical-staff offices exchange them).
func runReader(ctx context.Context, env *Env, args []string) error {
	c := newSetupCmd(env, "reader", args, readerUsage)
	id := c.fs.String("id", "", "reader ID (their user name)")
	name := c.fs.String("name", "", "display name")
	country := c.fs.String("country", "US", "where the reader physically reads (ISO 3166 two letters)")
	state := c.fs.String("state", "", "US state where the reader reads")
	zone := c.fs.String("timezone", "", "the reader's IANA time zone (their shifts are on this clock)")
	mods := c.fs.String("modalities", "CT MR CR DX US", "modalities read")
	subs := c.fs.String("subspecialties", "", "subspecialties, e.g. neuro msk")
	ws := c.fs.String("workstation", "3MP", "diagnostic display class: 3MP or 5MP")
	mqsa := c.fs.Bool("mqsa", false, "MQSA-qualified interpreting physician")
	target := c.fs.Float64("rvu-target", 0, "RVU target per hour")
	lic := c.fs.String("licence", "", "licences: STATE:NUMBER:EXPIRES, comma-separated")
	priv := c.fs.String("privilege", "", "privileges: FACILITY:EXPIRES, comma-separated")
	malStates := c.fs.String("malpractice-states", "", "states a telemedicine malpractice policy covers, e.g. \"OR WA\"")
	malExp := c.fs.String("malpractice-expires", "", "that policy's expiry, YYYY-MM-DD")
	kind := c.fs.String("kind", "credentials", "CSV import: credentials (licences and privileges) or readers (one reader a row)")
	format := c.fs.String("format", "json", "export format: json (reader documents), csv (licences and privileges) or readers-csv")
	return c.run(ctx, env, args, map[string]action{
		"add": func(ctx context.Context, o *opened) error {
			r := &model.Reader{ID: *id, Name: *name, Location: model.Location{Country: strings.ToUpper(*country), State: strings.ToUpper(*state)},
				TimeZone: *zone, Modalities: splitList(*mods), Subspecialties: splitList(*subs), Workstation: model.Workstation(strings.ToUpper(*ws)),
				MQSA: model.MQSA{Qualified: *mqsa}, RVUTargetPerHour: *target}
			if old, err := (roster.Store{DB: o.st.DB}).Reader(ctx, *id); err == nil {
				r.Shifts, r.Blocks, r.Enrolments, r.Malpractice = old.Shifts, old.Blocks, old.Enrolments, old.Malpractice
			}
			if err := eachDated("licence", *lic, "STATE:NUMBER:YYYY-MM-DD", func(p []string, exp model.Date) {
				r.Licenses = append(r.Licenses, model.License{State: p[0], Number: p[1], Status: model.LicenceActive, Expires: exp})
			}); err != nil {
				return err
			}
			if err := eachDated("privilege", *priv, "FACILITY:YYYY-MM-DD", func(p []string, exp model.Date) {
				r.Privileges = append(r.Privileges, model.Privilege{Facility: p[0], Basis: model.Direct, Expires: exp, Scope: model.Scope{Mammography: *mqsa}})
			}); err != nil {
				return err
			}
			if *malStates != "" {
				exp, err := model.ParseDate(*malExp)
				if err != nil {
					return fmt.Errorf("--malpractice-expires: want YYYY-MM-DD")
				}
				r.Malpractice = []model.Malpractice{{States: splitList(strings.ToUpper(*malStates)), Telemedicine: true, Expires: exp}}
			}
			return done(env, o.setup.PutReader(ctx, cliActor(), r), "saved reader %s", r.ID)
		},
		"list": lister(c, env, "ID\tNAME\tLOCATION\tTIME ZONE\tLICENCES\tPRIVILEGES\tSHIFTS",
			func(ctx context.Context, o *opened) ([]*model.Reader, error) {
				return (roster.Store{DB: o.st.DB}).Readers(ctx)
			},
			func(w io.Writer, r *model.Reader) {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", r.ID, r.Name, r.Location, r.TimeZone, len(r.Licenses), len(r.Privileges), len(r.Shifts))
			}),
		"import": c.importer(env, func(s *setup.Service, ctx context.Context, by setup.Actor, f io.Reader, ft string) (*setup.Report, error) {
			switch {
			case ft == "json":
				return s.ImportReaders(ctx, by, f, setup.FormatJSON)
			case *kind == "readers":
				return s.ImportReaders(ctx, by, f, setup.FormatReadersCSV)
			}
			return s.ImportCredentials(ctx, by, f)
		}),
		"export": func(ctx context.Context, o *opened) error {
			switch *format {
			case "csv":
				*format = setup.FormatCredentialsCSV
			case setup.FormatJSON, setup.FormatReadersCSV, setup.FormatCredentialsCSV:
			default:
				return fmt.Errorf("--format is json, csv or readers-csv")
			}
			return o.setup.ExportReaders(ctx, env.Stdout, *format)
		},
	})
}

// eachDated calls add for each item of a comma-separated flag value whose
// items are colon-separated fields ending in a date, shaped as want says
// (as many fields as want has).
func eachDated(flagName, val, want string, add func(fields []string, date model.Date)) error {
	for _, item := range splitList(val) {
		p := strings.Split(item, ":")
		date, err := model.ParseDate(p[len(p)-1])
		if len(p) != strings.Count(want, ":")+1 || err != nil {
			return fmt.Errorf("--%s %q: want %s", flagName, item, want)
		}
		add(p, date)
	}
	return nil
}
