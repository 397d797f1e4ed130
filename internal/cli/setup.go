package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/fhir"
	"lightbox/internal/hl7"
	"lightbox/internal/server"
	"lightbox/internal/setup"
)

// The set-up commands (facility, endpoint, reader, shift) share this:
// each opens the data folder, changes it through internal/setup (validated,
// audited as the operator) and so a running server on the same database
// picks the change up at its next tick.

// setupCmd is one invocation of a subcommand that opens the data folder.
type setupCmd struct {
	name  string
	usage string
	sub   string
	fs    *flag.FlagSet
	sf    *storageFlags
	json  *bool
	// required flags: run prints the usage, before opening anything, when
	// one is empty.
	required []*string
}

// opened is what a subcommand's action works on: the data folder, its
// logger and the set-up service over it.
type opened struct {
	st    *server.Storage
	log   *slog.Logger
	setup *setup.Service
}

// action is one subcommand of a set-up command, run once its flags are
// parsed and the data folder is open.
type action func(ctx context.Context, o *opened) error

// newSubCmd prepares the flags of a command with subcommands (the first
// argument); the caller adds its own flags, then calls run.
func newSubCmd(env *Env, name string, args []string, usage string) *setupCmd {
	c := &setupCmd{name: name, usage: usage}
	if len(args) > 0 {
		c.sub = args[0]
	}
	c.fs = newFlags(env, name+" "+c.sub, name+" "+c.sub+" [flags]")
	c.sf = addStorageFlags(c.fs)
	return c
}

// newSetupCmd is newSubCmd for the set-up commands, which all print JSON
// on request.
func newSetupCmd(env *Env, name string, args []string, usage string) *setupCmd {
	c := newSubCmd(env, name, args, usage)
	c.json = c.fs.Bool("json", false, "print results as JSON")
	return c
}

// run checks the subcommand against actions, parses the flags, opens the
// data folder and the set-up service, and runs the subcommand.
func (c *setupCmd) run(ctx context.Context, env *Env, args []string, actions map[string]action) error {
	act, ok := actions[c.sub]
	if !ok {
		fmt.Fprintln(env.Stderr, c.usage)
		return errUsage
	}
	if err := parse(c.fs, args[1:], env); err != nil {
		return err
	}
	for _, f := range c.required {
		if *f == "" {
			c.fs.Usage()
			return errUsage
		}
	}
	st, log, err := c.sf.open(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := setupService(c.sf, st)
	if err != nil {
		return err
	}
	return act(ctx, &opened{st: st, log: log, setup: s})
}

// done prints what a subcommand did (format and args, one line) once err
// says it succeeded.
func done(env *Env, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, format+"\n", args...)
	return nil
}

// authAction is an action on user accounts, through the auth service of the
// opened data folder.
func (c *setupCmd) authAction(do func(ctx context.Context, svc *auth.Service) error) action {
	return func(ctx context.Context, o *opened) error {
		svc, err := server.NewAuth(c.sf.config(o.log), o.st.DB, nil)
		if err != nil {
			return err
		}
		return do(ctx, svc)
	}
}

// importer is the import action of a set-up command: it opens the one file
// argument and reports what load (a set-up service's import method) made of
// its rows.
func (c *setupCmd) importer(env *Env, load func(s *setup.Service, ctx context.Context, by setup.Actor, f io.Reader, format string) (*setup.Report, error)) action {
	return func(ctx context.Context, o *opened) error {
		f, format, err := c.importFile()
		if err != nil {
			return err
		}
		defer f.Close()
		rep, err := load(o.setup, ctx, cliActor(), f, format)
		return c.report(env, rep, err)
	}
}

// setupService is the set-up service of an opened data folder, auditing
// into its keyed chain (an unkeyed row would break the chain).
func setupService(sf *storageFlags, st *server.Storage) (*setup.Service, error) {
	l, err := server.AuditLogger(*sf.data, st.DB)
	if err != nil {
		return nil, err
	}
	return &setup.Service{DB: st.DB, Audit: l, FHIRProbe: fhir.Probe, HL7Probe: hl7.Probe}, nil
}

func cliActor() setup.Actor {
	return setup.Actor{UserID: operator(), Role: "admin", Interface: audit.CLI}
}

// importFile opens the one file argument and names its format by extension.
func (c *setupCmd) importFile() (*os.File, string, error) {
	if c.fs.NArg() != 1 {
		c.fs.Usage()
		return nil, "", errUsage
	}
	f, err := os.Open(c.fs.Arg(0))
	if err != nil {
		return nil, "", err
	}
	if strings.HasSuffix(strings.ToLower(c.fs.Arg(0)), ".csv") {
		return f, "csv", nil
	}
	return f, "json", nil
}

// report prints an import report; rejected rows make the command fail
// (after the valid rows were saved), so scripts notice.
func (c *setupCmd) report(env *Env, rep *setup.Report, err error) error {
	if err != nil && rep == nil {
		return err
	}
	if *c.json {
		_ = writeJSONTo(env.Stdout, rep)
	} else {
		fmt.Fprintf(env.Stdout, "%s: %d of %d rows imported, %d rejected\n", rep.Kind, rep.Accepted, rep.Rows, len(rep.Rejected))
		for _, r := range rep.Rejected {
			field := ""
			if r.Field != "" {
				field = r.Field + ": "
			}
			fmt.Fprintf(env.Stdout, "  row %d %s [%s] %s%s\n", r.Row, r.ID, r.Code, field, r.Reason)
		}
	}
	if err != nil {
		return err
	}
	if len(rep.Rejected) > 0 {
		return fmt.Errorf("%d rows rejected", len(rep.Rejected))
	}
	return nil
}

func writeJSONTo(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// splitList splits "a, b c" into fields.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// lister is the list action of a set-up command: it loads the items, then
// prints them as JSON (--json) or a table, header first, row writing each
// item's line.
func lister[T any](c *setupCmd, env *Env, header string, load func(ctx context.Context, o *opened) ([]T, error), row func(w io.Writer, item T)) action {
	return func(ctx context.Context, o *opened) error {
		l, err := load(ctx, o)
		if err != nil {
			return err
		}
		return c.printList(env, l, header, func(w io.Writer) {
			for _, item := range l {
				row(w, item)
			}
		})
	}
}

// printList writes v as JSON with --json, else as a table: header (tab
// separated), then rows writes one line per item.
func (c *setupCmd) printList(env *Env, v any, header string, rows func(w io.Writer)) error {
	if c.json != nil && *c.json {
		return writeJSONTo(env.Stdout, v)
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	rows(w)
	return w.Flush()
}
