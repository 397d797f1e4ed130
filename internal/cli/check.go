package cli

import (
	"context"
	"fmt"
)

func runCheck(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "check", "check [--data DIR] [--rehash]")
	sf := addStorageFlags(fs)
	rehash := fs.Bool("rehash", false, "re-read every blob and compare its SHA-256")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	st, _, err := sf.open(ctx, env)
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
	if len(rep.Missing)+len(rep.Corrupt) > 0 {
		return fmt.Errorf("archive is inconsistent")
	}
	return nil
}
