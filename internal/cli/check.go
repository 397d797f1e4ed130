package cli

import (
	"context"
	"fmt"
	"time"
)

func runCheck(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "check", "check [--data DIR] [--rehash] [--clean-orphans [--orphan-grace D]]")
	sf := addStorageFlags(fs)
	rehash := fs.Bool("rehash", false, "re-read every blob and compare its content digest (BLAKE3-256, or SHA-256 if stored before 2026-12-07)")
	clean := fs.Bool("clean-orphans", false, "remove blobs no index row references (left by a crash) older than --orphan-grace")
	grace := fs.Duration("orphan-grace", 24*time.Hour, "orphan blobs younger than this are left alone (an ingest may still be committing)")
	st, _, err := sf.parseOpen(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := st.Archive.Check(ctx, *rehash)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "instances: %d  missing blobs: %d  corrupt: %d\n", rep.Instances, len(rep.Missing), len(rep.Corrupt))
	for _, u := range rep.Missing {
		fmt.Fprintf(env.Stdout, "missing %s\n", u)
	}
	for _, u := range rep.Corrupt {
		fmt.Fprintf(env.Stdout, "corrupt %s\n", u)
	}
	orphans, err := st.Archive.Orphans(ctx, *grace)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "orphan blobs: %d (and %d newer than %s)\n", len(orphans.Old), orphans.Recent, *grace)
	for _, k := range orphans.Old {
		fmt.Fprintf(env.Stdout, "orphan %s\n", k)
	}
	links, err := st.Archive.CrossLinks(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "patients linked to several facilities: %d\n", len(links))
	for _, l := range links {
		fmt.Fprintf(env.Stdout, "cross-linked patient pk %d (issuer %s, %d facilities)\n", l.PatientPK, l.Issuer, l.Facilities)
	}
	if *clean {
		n, err := st.Archive.RemoveOrphans(ctx, orphans)
		fmt.Fprintf(env.Stdout, "removed %d orphan blobs\n", n)
		if err != nil {
			return err
		}
	}
	if len(rep.Missing)+len(rep.Corrupt) > 0 {
		return fmt.Errorf("archive is inconsistent")
	}
	return nil
}
