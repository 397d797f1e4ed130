package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"modernc.org/sqlite"
)

// The SQLite driver parses and plans a statement given as text on every
// call (database/sql prepares, runs and closes it): a dozen statements per
// stored instance, and every other package's queries. Every SQLite
// connection therefore keeps the statements it has run prepared, keyed by
// their text, in and out of transactions alike. PostgreSQL needs no such
// layer: pgx caches prepared statements per connection itself.
//
// SQLite still plans a statement again when its plan depends on the values
// bound: a LIKE pattern, or an indexed column compared with a parameter
// once ANALYZE has sampled the index into sqlite_stat4 (PRAGMA optimize,
// DB.Optimize). Those samples are what lets a name-prefix search choose the
// name index over a facility's (a QIDO by name prefix over 100,000 studies
// took 297 ms instead of 3 ms after a limited ANALYZE, which takes no
// samples), so they stay, and such queries (C-FIND's, QIDO's) gain little
// here.

// maxCachedStmts bounds one connection's cache: the hot statements are a
// few dozen, and text built per request (IN lists of varying length) must
// not grow it without end.
const maxCachedStmts = 256

// openCachedSQLite opens dsn with every connection keeping its statements.
func openCachedSQLite(dsn string) (driver.Connector, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return stmtConnector{c}, nil
}

type stmtConnector struct{ driver.Connector }

func (c stmtConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return newCachingConn(conn)
}

// sqliteConn is what the SQLite driver's connection implements and
// cachingConn passes through.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type stmtWithContext interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachingConn is one SQLite connection and its prepared statements.
// database/sql never uses a connection from two goroutines at once, so it
// needs no lock.
type cachingConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

// cachedStmt is a prepared statement; busy while rows read from it are
// open (in a transaction the same text may run again meanwhile: that run
// takes the one-shot path).
type cachedStmt struct {
	stmtWithContext
	busy bool
}

func newCachingConn(conn driver.Conn) (driver.Conn, error) {
	sc, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("sqlite connection %T lacks a context method", conn)
	}
	return &cachingConn{sqliteConn: sc, stmts: map[string]*cachedStmt{}}, nil
}

// stmt returns query prepared on this connection, preparing it when it is
// new; nil when it is busy or cannot be prepared alone (the caller then
// runs it as text, which reports any error).
func (c *cachingConn) stmt(ctx context.Context, query string) *cachedStmt {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil
		}
		return s
	}
	if len(c.stmts) >= maxCachedStmts && !c.evictOne() {
		return nil
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	st, ok := ds.(stmtWithContext)
	if !ok {
		ds.Close()
		return nil
	}
	s := &cachedStmt{stmtWithContext: st}
	c.stmts[query] = s
	return s
}

// evictOne closes one idle statement (any: map order) to make room.
func (c *cachingConn) evictOne() bool {
	for q, s := range c.stmts {
		if !s.busy {
			_ = s.Close()
			delete(c.stmts, q)
			return true
		}
	}
	return false
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s := c.stmt(ctx, query)
	if s == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return s.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s := c.stmt(ctx, query)
	if s == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, s: s}, nil
}

// Close finalizes the connection's statements, then closes it: SQLite
// will not close a connection with statements left (sqlite3_close_v2
// would keep it open as a zombie).
func (c *cachingConn) Close() error {
	var err error
	for q, s := range c.stmts {
		err = errors.Join(err, s.Close())
		delete(c.stmts, q)
	}
	return errors.Join(err, c.sqliteConn.Close())
}

// cachedRows frees its statement for the next run when closed (the driver
// resets the statement then rather than finalizing it).
type cachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	r.s.busy = false
	return r.Rows.Close()
}
