package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"lightbox/internal/roster"
)

// runReader imports and exports reader credentials: readers as JSON, and
// licences/privileges as CSV, the form medical-staff offices exchange.
func runReader(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || (args[0] != "import" && args[0] != "export") {
		fmt.Fprintln(env.Stderr, "Usage: lightbox reader import [--data DIR] FILE.json|FILE.csv\n       lightbox reader export [--data DIR] [--format json|csv]")
		return errUsage
	}
	sub := args[0]
	fs := newFlags(env, "reader "+sub, "reader "+sub+" [flags] [FILE]")
	sf := addStorageFlags(fs)
	format := fs.String("format", "json", "export format: json (whole reader documents) or csv (licences and privileges)")
	if err := parse(fs, args[1:], env); err != nil {
		return err
	}
	st, _, err := sf.open(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	rs := roster.Store{DB: st.DB}
	if sub == "export" {
		readers, err := rs.Readers(ctx)
		if err != nil {
			return err
		}
		if *format == "csv" {
			return roster.ExportCSV(env.Stdout, readers)
		}
		return roster.ExportJSON(env.Stdout, readers)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	var n int
	if strings.HasSuffix(strings.ToLower(fs.Arg(0)), ".csv") {
		n, err = rs.ImportCSV(ctx, f)
	} else {
		n, err = rs.ImportJSON(ctx, f)
	}
	if err != nil {
		return err
	}
	// A running server picks the change up at its next start or through the
	// API (PUT /api/readers/{id}, POST /api/readers/import), which also
	// re-routes studies at once.
	fmt.Fprintf(env.Stdout, "imported %d\n", n)
	return nil
}
