package db

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

func openTestSQLite(t *testing.T) *DB {
	t.Helper()
	d, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Exec(context.Background(), "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return d
}

// cachedCount is how many statements the writer's one connection holds.
func cachedCount(t *testing.T, d *DB) int {
	t.Helper()
	conn, err := d.W.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := -1
	if err := conn.Raw(func(dc any) error {
		n = len(dc.(*cachingConn).stmts)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStmtCacheReusesAndStaysCorrect(t *testing.T) {
	d := openTestSQLite(t)
	ctx := context.Background()
	before := cachedCount(t, d)
	for i := range 50 {
		if _, err := d.Exec(ctx, "INSERT INTO t (k, v) VALUES (?, ?)", i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := cachedCount(t, d); got != before+1 {
		t.Fatalf("one statement text run 50 times: cache grew by %d, want 1", got-before)
	}
	// A constraint failure leaves the statement reusable.
	if _, err := d.Exec(ctx, "INSERT INTO t (k, v) VALUES (?, ?)", 1, "again"); !IsUniqueViolation(err) {
		t.Fatalf("want unique violation, got %v", err)
	}
	if _, err := d.Exec(ctx, "INSERT INTO t (k, v) VALUES (?, ?)", 50, "v50"); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := d.W.QueryRowContext(ctx, "SELECT v FROM t WHERE k = ?", 7).Scan(&v); err != nil || v != "v7" {
		t.Fatalf("got %q, %v", v, err)
	}
}

// In a transaction the same text may run while its earlier rows are still
// being read: the second run must not reset the first's statement.
func TestStmtCacheNestedSameQuery(t *testing.T) {
	d := openTestSQLite(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := d.Exec(ctx, "INSERT INTO t (k, v) VALUES (?, ?)", i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	const q = "SELECT k, v FROM t WHERE k >= ? ORDER BY k"
	err := d.InTx(ctx, func(tx *Tx) error {
		outer, err := tx.Query(ctx, q, 0)
		if err != nil {
			return err
		}
		defer outer.Close()
		var seen []int
		for outer.Next() {
			var k int
			var v string
			if err := outer.Scan(&k, &v); err != nil {
				return err
			}
			seen = append(seen, k)
			inner, err := tx.Query(ctx, q, 3)
			if err != nil {
				return err
			}
			n := 0
			for inner.Next() {
				n++
			}
			if err := inner.Close(); err != nil {
				return err
			}
			if n != 2 {
				return fmt.Errorf("inner query saw %d rows, want 2", n)
			}
		}
		if fmt.Sprint(seen) != "[0 1 2 3 4]" {
			return fmt.Errorf("outer rows %v", seen)
		}
		return outer.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A statement prepared before a schema change runs against the new schema
// (SQLite re-prepares it), and the cache stays bounded.
func TestStmtCacheSchemaChangeAndBound(t *testing.T) {
	d := openTestSQLite(t)
	ctx := context.Background()
	const q = "SELECT * FROM t WHERE k = ?"
	if _, err := d.Exec(ctx, "INSERT INTO t (k, v) VALUES (1, 'a')"); err != nil {
		t.Fatal(err)
	}
	cols := func() []string {
		rows, err := d.W.QueryContext(ctx, q, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, _ := rows.Columns()
		return c
	}
	if got := fmt.Sprint(cols()); got != "[k v]" {
		t.Fatalf("columns %s", got)
	}
	if _, err := d.Exec(ctx, "ALTER TABLE t ADD COLUMN w TEXT"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cols()); got != "[k v w]" {
		t.Fatalf("columns after ALTER %s", got)
	}
	for i := range maxCachedStmts + 20 {
		var n int
		if err := d.W.QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*) + %d FROM t", i)).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("query %d: %d, %v", i, n, err)
		}
	}
	if got := cachedCount(t, d); got > maxCachedStmts {
		t.Fatalf("cache holds %d statements, bound %d", got, maxCachedStmts)
	}
	// Text that does not prepare reports its error as before.
	if _, err := d.Exec(ctx, "SELEC 1"); err == nil {
		t.Fatal("want a syntax error")
	}
}

// Optimize keeps the value samples of ordinary indexes (a name-prefix
// search needs them) and drops those of unique ones, with which SQLite
// would plan every lookup by a UID again.
func TestOptimizeDropsUniqueIndexSamples(t *testing.T) {
	d := openTestSQLite(t)
	ctx := context.Background()
	for _, q := range []string{"CREATE INDEX t_v ON t (v)", "CREATE TABLE u (k INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE)"} {
		if _, err := d.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	err := d.InTx(ctx, func(tx *Tx) error {
		for i := range 2000 {
			if _, err := tx.Exec(ctx, "INSERT INTO t (k, v) VALUES (?, ?)", i, fmt.Sprint("v", i%7)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO u (uid) VALUES (?)", fmt.Sprint("1.2.", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	samples := func(idx string) int {
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_stat4 WHERE idx LIKE ?", idx).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for range 2 {
		if err := d.Optimize(ctx); err != nil {
			t.Fatal(err)
		}
		if n := samples("t_v"); n == 0 {
			t.Fatal("no samples of the ordinary index t_v")
		}
		if n := samples("sqlite_autoindex_u%"); n != 0 {
			t.Fatalf("%d samples of u's unique index", n)
		}
	}
}

// A query given up half read (its context cancelled) leaves its statement
// reusable: the next run starts from the first row.
func TestStmtCacheAfterCancelledQuery(t *testing.T) {
	d := openTestSQLite(t)
	ctx := context.Background()
	for i := range 10 {
		if _, err := d.Exec(ctx, "INSERT INTO t (k, v) VALUES (?, ?)", i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	const q = "SELECT k FROM t WHERE k >= ? ORDER BY k"
	cctx, cancel := context.WithCancel(ctx)
	rows, err := d.W.QueryContext(cctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no first row")
	}
	cancel()
	for rows.Next() {
	}
	rows.Close()
	var got []int
	rows, err = d.W.QueryContext(ctx, q, 5)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k int
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[5 6 7 8 9]" {
		t.Fatalf("rows %v", got)
	}
}
