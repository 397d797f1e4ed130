package archive

import (
	"context"
	"database/sql"
	"sync"

	"lightbox/internal/db"
)

// stmtCache keeps the index commit's statements prepared on the writer:
// database/sql prepares (on SQLite: parses and plans) a statement given
// as text on every call, which was ≈ 10% of the CPU of storing an
// instance (a dozen statements each). A transaction reuses the prepared
// statement on its connection (sql.Tx.StmtContext). A statement is
// prepared between transactions (fill), never inside one: SQLite's writer
// pool has one connection, which the open transaction holds.
type stmtCache struct {
	db      *db.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	missing map[string]bool
}

// get returns q prepared, or nil (noting q for fill) when it is not yet.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[q]
	if !ok {
		if c.missing == nil {
			c.missing = map[string]bool{}
		}
		c.missing[q] = true
	}
	return st
}

// fill prepares the statements noted since the last call; the committer
// calls it with no transaction open.
func (c *stmtCache) fill(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.missing {
		st, err := c.db.W.PrepareContext(ctx, c.db.Rebind(q))
		if err != nil {
			continue // it keeps running unprepared
		}
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		c.m[q] = st
	}
	c.missing = nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		_ = st.Close()
	}
	c.m = nil
}

// in returns tx as a db.Execer whose statements come from the cache.
func (c *stmtCache) in(tx *db.Tx) *cachedTx { return &cachedTx{tx: tx, c: c} }

// cachedTx runs a transaction's statements prepared.
type cachedTx struct {
	tx *db.Tx
	c  *stmtCache
}

// stmt is q prepared for the transaction, or nil: run it as text.
func (t *cachedTx) stmt(ctx context.Context, q string) *sql.Stmt {
	if st := t.c.get(q); st != nil {
		return t.tx.Tx.StmtContext(ctx, st)
	}
	return nil
}

func (t *cachedTx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.Exec(ctx, q, args...)
}

func (t *cachedTx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.Query(ctx, q, args...)
}

func (t *cachedTx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRow(ctx, q, args...)
}
