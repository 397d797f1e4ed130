package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Dialect names a SQL dialect.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the index database: a writer handle and a reader handle (the same
// pool on PostgreSQL).
type DB struct {
	Dialect Dialect
	W       *sql.DB
	R       *sql.DB
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Open connects to a database given as "sqlite:PATH" (or a bare path) or a
// postgres:// URL.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	default:
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	}
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(30000)", "foreign_keys(1)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	wc, err := openCachedSQLite("file:" + path + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w := sql.OpenDB(wc)
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	rq := url.Values{}
	for _, p := range []string{"busy_timeout(30000)", "query_only(1)"} {
		rq.Add("_pragma", p)
	}
	rc, err := openCachedSQLite("file:" + path + "?" + rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite reader %s: %w", path, err)
	}
	r := sql.OpenDB(rc)
	// Idle readers stay open (database/sql keeps two by default): a new
	// connection reads the whole schema and starts with no prepared
	// statements (stmtcache.go).
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	r.SetConnMaxIdleTime(10 * time.Minute)
	return &DB{Dialect: SQLite, W: w, R: r}, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	p.SetMaxOpenConns(32)
	p.SetMaxIdleConns(8)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &DB{Dialect: Postgres, W: p, R: p}, nil
}

// Close closes both handles.
func (db *DB) Close() error {
	err := db.W.Close()
	if db.R != db.W {
		err = errors.Join(err, db.R.Close())
	}
	return err
}

// Rebind rewrites ? placeholders as $1, $2 ... for PostgreSQL. A ? inside a
// quoted string literal is left alone.
func (db *DB) Rebind(q string) string {
	if db.Dialect != Postgres {
		return q
	}
	return rebindDollar(q)
}

func rebindDollar(q string) string {
	var b strings.Builder
	n, inQuote := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Exec runs a statement on the writer.
func (db *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.W.ExecContext(ctx, db.Rebind(q), args...)
}

// Query runs a query on the read pool.
func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.R.QueryContext(ctx, db.Rebind(q), args...)
}

// QueryRow runs a single-row query on the read pool.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.R.QueryRowContext(ctx, db.Rebind(q), args...)
}

// Execer is satisfied by *DB and *Tx: owners' write helpers take it so a
// caller can put several owners' writes (and their audit record) in one
// transaction.
type Execer interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// Tx is a write transaction with dialect-aware helpers.
type Tx struct {
	*sql.Tx
	db *DB
}

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return tx.Tx.ExecContext(ctx, tx.db.Rebind(q), args...)
}

// QueryRow runs a single-row query in the transaction.
func (tx *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return tx.Tx.QueryRowContext(ctx, tx.db.Rebind(q), args...)
}

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return tx.Tx.QueryContext(ctx, tx.db.Rebind(q), args...)
}

// InTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return db.run(sqlTx, fn)
}

// InUnflushedTx is InTx with a commit that is not flushed to disk (SQLite
// synchronous=NORMAL, PostgreSQL synchronous_commit off), for a caller
// that flushed its own record of the writes first. Any later flushed
// commit makes it durable too: both logs keep commits in order.
func (db *DB) InUnflushedTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.Dialect != SQLite {
		return db.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.Tx.ExecContext(ctx, "SET LOCAL synchronous_commit TO OFF"); err != nil {
				return fmt.Errorf("begin: %w", err)
			}
			return fn(tx)
		})
	}
	// synchronous is the connection's: set it on the writer's one
	// connection, held for the transaction, and set it back.
	conn, err := db.W.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.Background(), "PRAGMA synchronous=FULL"); err != nil {
			// Never hand a connection that does not flush to others.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return db.run(sqlTx, fn)
}

// run runs fn in sqlTx, committing when it returns nil.
func (db *DB) run(sqlTx *sql.Tx, fn func(tx *Tx) error) error {
	if err := fn(&Tx{Tx: sqlTx, db: db}); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Now formats a time the way every timestamp column stores it: UTC, fixed
// width, so text order is time order on both dialects.
func Now(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// ParseTime reads a timestamp column.
func ParseTime(s string) (time.Time, error) {
	return time.Parse("2006-01-02T15:04:05.000Z", s)
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		v, _, ok := strings.Cut(e.Name(), "_")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: n, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

func (db *DB) ddl(s string) string {
	r := strings.NewReplacer(
		"{{pk}}", map[Dialect]string{SQLite: "INTEGER PRIMARY KEY", Postgres: "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"}[db.Dialect],
		"{{blob}}", map[Dialect]string{SQLite: "BLOB", Postgres: "BYTEA"}[db.Dialect],
		"{{collate_c}}", map[Dialect]string{SQLite: "", Postgres: ` COLLATE "C"`}[db.Dialect],
	)
	return r.Replace(s)
}

// Migrate applies every embedded migration not yet applied, each in its own
// transaction. On PostgreSQL an advisory lock keeps nodes that start
// together from racing.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := db.W.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if db.Dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7311)"); err != nil {
			return fmt.Errorf("migrate lock: %w", err)
		}
		defer func() { _, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(7311)") }()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		var n int
		if err := conn.QueryRowContext(ctx, db.Rebind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&n); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		for _, stmt := range splitStatements(db.ddl(m.sql)) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				_ = tx.Rollback()
				return fmt.Errorf("migration %s: %w\n%s", m.name, err, stmt)
			}
		}
		if _, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"), m.version, m.name, Now(time.Now())); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// splitStatements splits a migration on semicolons at line ends; migrations
// contain no procedural code, so that is enough.
func splitStatements(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";\n") {
		var lines []string
		for _, l := range strings.Split(part, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				lines = append(lines, l)
			}
		}
		if st := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.Join(lines, "\n")), ";")); st != "" {
			out = append(out, st)
		}
	}
	return out
}

// IsUniqueViolation reports whether err is a unique-constraint failure on either dialect.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// Optimize refreshes the query planner's statistics where the database
// does not do it itself (SQLite: PRAGMA optimize, which analyzes tables
// whose contents changed enough). Without statistics SQLite may pick a
// facility index over a selective name range. PostgreSQL's autovacuum
// analyzes on its own.
//
// It then drops the value samples (sqlite_stat4) of unique indexes: an
// equality on one finds a row at most, so they change no plan, yet with
// them SQLite plans every lookup by a UID again whenever its parameter
// changes, defeating the prepared statements of ingest's lookups
// (stmtcache.go). In one transaction, so the other connections, which
// reload the statistics when ANALYZE has changed them, never see the
// samples; ANALYZE sqlite_schema reloads them on this one.
func (db *DB) Optimize(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	conn, err := db.W.Conn(ctx)
	if err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	var samples int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'").Scan(&samples); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	if samples == 0 {
		return tx.Commit()
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM sqlite_stat4 WHERE idx IN (SELECT il.name FROM sqlite_schema m, pragma_index_list(m.name) il
		WHERE m.type = 'table' AND il."unique" = 1)`)
	if err != nil {
		return fmt.Errorf("optimize: drop samples of unique indexes: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		if _, err := conn.ExecContext(ctx, "ANALYZE sqlite_schema"); err != nil {
			return fmt.Errorf("optimize: reload statistics: %w", err)
		}
	}
	return nil
}

// FormatOptional stores an optional time: "" for the zero time.
func FormatOptional(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return Now(t)
}

// ParseOptional reads a column written by FormatOptional (or Now): the zero
// time for "" or an unreadable value.
func ParseOptional(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}
	}
	return t
}
