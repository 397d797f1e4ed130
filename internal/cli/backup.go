package cli

import (
	"context"
	"strings"

	"lightbox/internal/db"
)

// runBackup copies the index while the node runs (SQLite); PostgreSQL is
// backed up with pg_dump. Blobs are immutable and content-addressed: copy
// the folder (rsync) or version the bucket (docs/scale-out.md).
func runBackup(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "backup", "backup [--data DIR] [--db URL] --out FILE")
	sf := addStorageFlags(fs)
	out := fs.String("out", "", "file to write the index backup to (must not exist)")
	if err := parseWant(fs, args, env, func() bool { return *out != "" }); err != nil {
		return err
	}
	u := sf.config(nil).DBURL()
	if strings.HasPrefix(u, "postgres") {
		return db.ErrUsePgDump
	}
	d, err := db.Open(ctx, u)
	if err != nil {
		return err
	}
	defer d.Close()
	return done(env, d.Backup(ctx, *out), "index backed up to %s (blobs are not in it: copy or version them separately)", *out)
}

// runRestore puts a SQLite backup in place of the index (node stopped).
func runRestore(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "restore", "restore [--data DIR] [--db sqlite:PATH] --from FILE [--replace]")
	sf := addStorageFlags(fs)
	from := fs.String("from", "", "backup file written by lightbox backup")
	replace := fs.Bool("replace", false, "replace an existing index (kept as INDEX.before-restore); stop every node on it first")
	if err := parseWant(fs, args, env, func() bool { return *from != "" }); err != nil {
		return err
	}
	u := sf.config(nil).DBURL()
	if !strings.HasPrefix(u, "sqlite:") {
		return db.ErrUsePgDump
	}
	return done(env, db.RestoreSQLite(ctx, *from, strings.TrimPrefix(u, "sqlite:"), *replace), "index restored from %s; run lightbox check to find instances whose blobs are missing", *from)
}
