package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"lightbox/internal/audit"
	"lightbox/internal/fhir"
	"lightbox/internal/hl7"
	"lightbox/internal/server"
	"lightbox/internal/setup"
)

// The set-up commands (facility, endpoint, reader, shift) share this:
// each opens the data folder, changes it through internal/setup (validated,
// audited as the operator) and so a running server on the same database
// picks the change up at its next tick.

// setupCmd is one invocation of a set-up subcommand.
type setupCmd struct {
	sub  string
	fs   *flag.FlagSet
	sf   *storageFlags
	json *bool
}

// newSetupCmd checks the subcommand against subs and prepares its flags.
func newSetupCmd(env *Env, name string, args []string, subs []string, usage string) (*setupCmd, error) {
	if len(args) == 0 || !slices.Contains(subs, args[0]) {
		fmt.Fprintln(env.Stderr, usage)
		return nil, errUsage
	}
	c := &setupCmd{sub: args[0]}
	c.fs = newFlags(env, name+" "+c.sub, name+" "+c.sub+" [flags]")
	c.sf = addStorageFlags(c.fs)
	c.json = c.fs.Bool("json", false, "print results as JSON")
	return c, nil
}

// open parses the flags and opens the set-up service.
func (c *setupCmd) open(ctx context.Context, env *Env, args []string) (*setup.Service, *server.Storage, error) {
	if err := parse(c.fs, args[1:], env); err != nil {
		return nil, nil, err
	}
	st, _, err := c.sf.open(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	s, err := setupService(c.sf, st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return s, st, nil
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

// printList writes v as JSON with --json, else as a table: header (tab
// separated), then rows writes one line per item.
func (c *setupCmd) printList(env *Env, v any, header string, rows func(w io.Writer)) error {
	if *c.json {
		return writeJSONTo(env.Stdout, v)
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	rows(w)
	return w.Flush()
}
