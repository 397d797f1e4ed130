package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Scanner is a row to scan (*sql.Row or *sql.Rows).
type Scanner interface{ Scan(...any) error }

// Result is a query's two results, to hand to Collect:
// db.Collect(db.Rows(d.Query(ctx, q, args...)), scan).
type Result struct {
	rows *sql.Rows
	err  error
}

// Rows wraps a query's results.
func Rows(rows *sql.Rows, err error) Result { return Result{rows, err} }

// Collect scans every row of a query's result with scan and closes the
// rows. The result is never nil.
func Collect[T any](q Result, scan func(Scanner) (T, error)) ([]T, error) {
	if q.err != nil {
		return nil, q.err
	}
	rows := q.rows
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// List is Collect with a failure wrapped as "what: err": an owner's list
// read in one line.
func List[T any](what string, q Result, scan func(Scanner) (T, error)) ([]T, error) {
	out, err := Collect(q, scan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Strings collects a one-column text result.
func Strings(rows *sql.Rows, err error) ([]string, error) {
	return Collect(Rows(rows, err), func(r Scanner) (s string, err error) { return s, r.Scan(&s) })
}

// Counts collects a (key, integer) result, such as counts by key, into a map.
func Counts(rows *sql.Rows, err error) (map[string]int, error) {
	type kc struct {
		k string
		n int
	}
	kcs, err := Collect(Rows(rows, err), func(r Scanner) (v kc, err error) { return v, r.Scan(&v.k, &v.n) })
	m := make(map[string]int, len(kcs))
	for _, v := range kcs {
		m[v.k] = v.n
	}
	return m, err
}

// NowOr returns now() when set, else the wall clock (stores take an
// optional clock for tests).
func NowOr(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// GetDoc reads the JSON document of row id of a settings table (columns
// id, doc, updated_at) into v; ok is false when there is no such row. The
// caller is the table's owner (TableOwners), naming its own table.
func (db *DB) GetDoc(ctx context.Context, table, id string, v any) (ok bool, err error) {
	var doc string
	err = db.QueryRow(ctx, "SELECT doc FROM "+table+" WHERE id = ?", id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal([]byte(doc), v)
}

// PutDoc replaces row id of a settings table with v as JSON (see GetDoc).
func (db *DB) PutDoc(ctx context.Context, table, id string, v any, now time.Time) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM "+table+" WHERE id = ?", id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO "+table+" (id, doc, updated_at) VALUES (?, ?, ?)", id, string(doc), Now(now))
		return err
	})
}
