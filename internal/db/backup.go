package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrUsePgDump is returned when asked to back up PostgreSQL: its own tools
// do it better (consistent snapshots, parallel dumps, point-in-time
// recovery with WAL archiving).
var ErrUsePgDump = errors.New("PostgreSQL is backed up with its own tools: pg_dump --format=custom --file=lightbox.dump DBNAME " +
	"(restore: pg_restore --clean --if-exists --dbname=DBNAME lightbox.dump), or continuous WAL archiving for point-in-time recovery; see docs/scale-out.md")

// Backup writes a consistent copy of a SQLite index to out while the
// database stays in use (VACUUM INTO: one read transaction, so writers go
// on). out must not exist.
func (db *DB) Backup(ctx context.Context, out string) error {
	if db.Dialect != SQLite {
		return ErrUsePgDump
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("backup: %s exists", out)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := db.W.ExecContext(ctx, "VACUUM INTO ?", out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return syncFile(out)
}

// RestoreSQLite checks a backup (integrity and a migrated schema) and puts
// it in place of the index at dst, which must not be in use: stop every
// process on the data folder first. An existing index is replaced only
// with replace; it is kept beside as dst+".before-restore".
func RestoreSQLite(ctx context.Context, backup, dst string, replace bool) error {
	if err := CheckSQLite(ctx, backup); err != nil {
		return err
	}
	if _, err := os.Stat(dst); err == nil {
		if !replace {
			return fmt.Errorf("restore: %s exists (stop the node, then pass --replace)", dst)
		}
		if err := os.Rename(dst, dst+".before-restore"); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	// The old index's WAL must not be replayed into the restored file.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(dst + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	tmp := dst + ".restoring"
	if err := copyFile(backup, tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return syncFile(filepath.Dir(dst))
}

// CheckSQLite verifies a SQLite file: PRAGMA integrity_check and a
// Lightbox schema.
func CheckSQLite(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	// Read-only: checking must not change the file (nor switch it to WAL).
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	defer d.Close()
	var res string
	if err := d.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	if res != "ok" {
		return fmt.Errorf("check %s: integrity check failed: %s", path, strings.TrimSpace(res))
	}
	var n int
	if err := d.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n == 0 {
		return fmt.Errorf("check %s: not a Lightbox index (no migrations)", path)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
