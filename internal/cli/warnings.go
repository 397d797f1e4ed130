package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"lightbox/internal/archive"
)

func runWarnings(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "warnings", "warnings [--data DIR] [--study UID] [--limit N] [--json]")
	sf := addStorageFlags(fs)
	study := fs.String("study", "", "only this Study Instance UID")
	limit := fs.Int("limit", 1000, "at most this many, newest first")
	asJSON := fs.Bool("json", false, "print JSON")
	st, _, err := sf.parseOpen(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	ws, err := st.Archive.Warnings(ctx, archive.WarningFilter{All: true, StudyUID: *study, Limit: *limit})
	if err != nil {
		return err
	}
	if *asJSON {
		if ws == nil {
			ws = []archive.Warning{}
		}
		return json.NewEncoder(env.Stdout).Encode(ws)
	}
	for _, w := range ws {
		fmt.Fprintf(env.Stdout, "%s  %s  %s  %s  from %q: %s\n", w.ReceivedAt, w.FacilityID, w.SOPInstanceUID, w.Code, w.SourceAE, w.Detail)
	}
	fmt.Fprintf(env.Stdout, "%d warning(s)\n", len(ws))
	return nil
}
