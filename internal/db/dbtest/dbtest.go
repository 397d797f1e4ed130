// Package dbtest opens throwaway, migrated databases for tests: SQLite always,
// PostgreSQL too when LIGHTBOX_TEST_POSTGRES holds a URL.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"lightbox/internal/db"
)

// PostgresEnv names the environment variable holding the PostgreSQL URL
// tests use; when it is unset, PostgreSQL variants of tests are skipped.
const PostgresEnv = "LIGHTBOX_TEST_POSTGRES"

// TestDatabases returns freshly migrated databases for a test, keyed by
// dialect: always SQLite, and PostgreSQL (a private schema dropped at the
// end) when LIGHTBOX_TEST_POSTGRES is set.
func Databases(t testing.TB) map[string]*db.DB {
	t.Helper()
	out := map[string]*db.DB{"sqlite": SQLite(t)}
	if u := os.Getenv(PostgresEnv); u != "" {
		out["postgres"] = Postgres(t, u)
	}
	return out
}

// Each runs fn as one subtest per dialect ("sqlite", and "postgres" when
// LIGHTBOX_TEST_POSTGRES is set), each on a freshly migrated database of
// its own: the one switch that puts a database test on both dialects.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	if u := os.Getenv(PostgresEnv); u != "" {
		t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t, u)) })
	}
}

// EachURL is Each for tests that open the database themselves (a whole
// server): fn gets a database URL, an empty SQLite file in a temp folder or
// a PostgreSQL database of its own (CREATE DATABASE, dropped at the end), so
// the server's sessions, advisory locks and notifications meet no other
// test's.
func EachURL(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "index.db")) })
	if os.Getenv(PostgresEnv) != "" {
		t.Run("postgres", func(t *testing.T) { fn(t, Database(t)) })
	}
}

// OpenTestSQLite opens a migrated SQLite database in a temp dir.
func SQLite(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// OpenTestPostgres creates a private schema and opens a migrated database in it.
func Postgres(t testing.TB, base string) *db.DB {
	t.Helper()
	d, _ := PostgresURL(t, base)
	return d
}

// PostgresURL is Postgres that also returns the URL reaching the private
// schema, for tests that open more connections (several nodes).
func PostgresURL(t testing.TB, base string) (*db.DB, string) {
	t.Helper()
	ctx := context.Background()
	admin, schema := create(t, base, "SCHEMA", "t_")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	d, err := db.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		_, _ = admin.W.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	return d, u.String()
}

// create opens the server at base and creates a kind ("SCHEMA",
// "DATABASE") of a fresh random name; the caller drops it and closes admin.
func create(t testing.TB, base, kind, prefix string) (admin *db.DB, name string) {
	t.Helper()
	admin, err := db.Open(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	name = randomName(prefix)
	if _, err := admin.W.ExecContext(context.Background(), "CREATE "+kind+" "+name); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	return admin, name
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Database creates a PostgreSQL database with a random name on the server
// of LIGHTBOX_TEST_POSTGRES (skipping the test when it is unset), drops it
// at the end, and returns its URL: for tests that run whole nodes, which
// must not meet other tests' sessions, locks or notifications.
func Database(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skip(PostgresEnv + " not set")
	}
	admin, name := create(t, base, "DATABASE", "lbx_")
	t.Cleanup(func() {
		_, _ = admin.W.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Count runs a query answering one number (a COUNT) on d's read pool and
// fails the test when it cannot.
func Count(t testing.TB, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
