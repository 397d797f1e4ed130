package db_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

func TestMigrateBothDialects(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := d.Migrate(ctx); err != nil {
			t.Fatalf("second migrate must be a no-op: %v", err)
		}
		if _, err := d.Exec(ctx, "INSERT INTO facility (id, name, created_at) VALUES (?, ?, ?)", "F1", "Test Facility", "2026-01-01T00:00:00.000Z"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM facility WHERE id = ?", "F1").Scan(&n); err != nil || n != 1 {
			t.Fatalf("count %d err %v", n, err)
		}
		_, err := d.Exec(ctx, "INSERT INTO facility (id, name, created_at) VALUES (?, ?, ?)", "F1", "Again", "2026-01-01T00:00:00.000Z")
		if !db.IsUniqueViolation(err) {
			t.Fatalf("want unique violation, got %v", err)
		}
	})
}

func TestRebind(t *testing.T) {
	got := (&db.DB{Dialect: db.Postgres}).Rebind("SELECT a FROM t WHERE x = ? AND y = '?' AND z IN (?, ?)")
	want := "SELECT a FROM t WHERE x = $1 AND y = '?' AND z IN ($2, $3)"
	if got != want {
		t.Errorf("got %s", got)
	}
}

func TestOpenSQLiteCreatesDir(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a", "b", "index.db")
	d, err := db.Open(context.Background(), "sqlite:"+p)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
}
