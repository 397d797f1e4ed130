package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lightbox/internal/db"
	"lightbox/internal/dcm"
	"lightbox/internal/scope"
)

// Level is a query/retrieve level.
type Level int

// Query levels, outermost first.
const (
	Patient Level = iota
	Study
	Series
	Image
)

func (l Level) String() string {
	switch l {
	case Patient:
		return "PATIENT"
	case Study:
		return "STUDY"
	case Series:
		return "SERIES"
	case Image:
		return "IMAGE"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// ParseLevel reads a Query/Retrieve Level (0008,0052) value.
func ParseLevel(s string) (Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "PATIENT":
		return Patient, nil
	case "STUDY":
		return Study, nil
	case "SERIES":
		return Series, nil
	case "IMAGE", "INSTANCE":
		return Image, nil
	}
	return 0, fmt.Errorf("unknown query/retrieve level %q", s)
}

// Scope limits what a caller may see; see package scope.
type Scope = scope.Scope

// Query is one search.
type Query struct {
	Level Level
	// Match holds matching keys: tag → value in DICOM query syntax. An empty
	// value is a universal match (the attribute is returned, nothing is
	// filtered).
	Match map[dcm.Tag]string
	// Return lists further attributes to return.
	Return []dcm.Tag
	// IncludeAll returns every attribute the level has (QIDO includefield=all).
	IncludeAll bool
	// ReturnOnly returns only the attributes named in Match and Return plus
	// the level's unique key (C-FIND semantics). Otherwise the level's
	// default attributes (QIDO-RS PS3.18 Table 10.6.3-5..7) are added.
	ReturnOnly bool
	// Fuzzy enables fuzzy person name matching.
	Fuzzy bool
	// Limit bounds the number of results (0: no limit); Offset skips matches.
	Limit, Offset int
	Scope         Scope
}

// Result is the answer to a Query.
type Result struct {
	Datasets []*dcm.Dataset
	// More is true when further matches exist after Offset+Limit.
	More bool
	// Unsupported lists match keys that were ignored because the index
	// cannot match on them (C-FIND status 0xFF01).
	Unsupported []dcm.Tag
}

// KeyError is a malformed match value; retrying will not help.
type KeyError struct {
	Tag    dcm.Tag
	Value  string
	Reason string
}

func (e *KeyError) Error() string {
	name := dcm.Keyword(e.Tag)
	if name == "" {
		name = e.Tag.Hex()
	}
	return fmt.Sprintf("%s: %s", name, e.Reason)
}

// Engine runs queries against the index.
type Engine struct {
	db *db.DB
}

// New returns an engine on d.
func New(d *db.DB) *Engine { return &Engine{db: d} }

// DB returns the engine's database.
func (e *Engine) DB() *db.DB { return e.db }

// FromIdentifier turns a C-FIND identifier into a Query: QueryRetrieveLevel
// selects the level, every attribute present is returned, and those with a
// value are matched. Sequence attributes are returned; a sequence with
// non-empty items is reported unsupported by Find (sequence matching is not
// implemented). SpecificCharacterSet and QueryRetrieveLevel are not keys.
func FromIdentifier(ds *dcm.Dataset) (Query, error) {
	q := Query{Match: map[dcm.Tag]string{}, ReturnOnly: true}
	lv, err := ParseLevel(ds.Str(dcm.TagQueryRetrieveLevel))
	if err != nil {
		return q, err
	}
	q.Level = lv
	for _, e := range ds.Elements {
		switch {
		case e.Tag == dcm.TagQueryRetrieveLevel, e.Tag == dcm.TagSpecificCharacterSet, e.Tag.Group() == 0x0002, e.Tag.Element() == 0:
			continue
		case e.VR == "SQ":
			q.Return = append(q.Return, e.Tag)
			for _, it := range e.Items {
				if len(it.Elements) > 0 {
					for _, sub := range it.Elements {
						if len(sub.Value) > 0 {
							q.Match[e.Tag] = "(sequence)"
						}
					}
				}
			}
		default:
			q.Match[e.Tag] = strings.Join(e.Strings(), `\`)
			if len(e.Value) == 0 {
				q.Match[e.Tag] = ""
			}
		}
	}
	return q, nil
}

// Find runs q.
func (e *Engine) Find(ctx context.Context, q Query) (*Result, error) {
	out := []*dcm.Dataset{}
	res, err := e.find(ctx, q, false, func(ds *dcm.Dataset) error {
		out = append(out, ds)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Datasets = out
	return res, nil
}

// FindEach runs q and calls fn with each result in order, keeping none:
// Result.Datasets stays empty. A result that needs nothing from the
// stored metadata (the default attributes of QIDO-RS, most C-FIND keys) is
// read from its index row into one data set reused for every row, so ds
// and its elements are valid only during fn: a QIDO response of 1,000
// instances no longer builds 1,000 data sets. The database rows stay open
// while fn runs (it should not block). An error from fn ends the query
// and is returned as is.
func (e *Engine) FindEach(ctx context.Context, q Query, fn func(ds *dcm.Dataset) error) (*Result, error) {
	return e.find(ctx, q, true, fn)
}

func (e *Engine) find(ctx context.Context, q Query, reuse bool, fn func(ds *dcm.Dataset) error) (*Result, error) {
	if q.Level < Patient || q.Level > Image {
		return nil, fmt.Errorf("query: invalid level %d", q.Level)
	}
	if q.Limit < 0 || q.Offset < 0 {
		return nil, &KeyError{Reason: "limit and offset must not be negative"}
	}
	p, err := plan(e.db.Dialect, q)
	if err != nil {
		return nil, err
	}
	res := &Result{Unsupported: p.unsupported}
	if q.Scope.Empty() {
		return res, nil
	}
	sqlText, args := p.sql()
	rows, err := e.db.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.Level, err)
	}
	defer rows.Close()
	// A row's cells in SELECT order, scanned into reused buffers.
	cells := make([]sql.RawBytes, len(p.cols))
	dest := make([]any, len(p.cols)+1)
	for i := range p.cols {
		dest[i] = &cells[i]
	}
	var pk int64
	dest[len(p.cols)] = &pk
	// Rows whose results need their stored metadata, read once these rows
	// are closed (SQLite's writer has one connection; a query per row
	// inside the loop would need a second one).
	type row struct {
		vals []sql.RawBytes
		pk   int64
	}
	var found []row
	var re reused
	n := 0
	for rows.Next() {
		if q.Limit > 0 && n == q.Limit {
			res.More = true
			break
		}
		n++
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("query %s: %w", q.Level, err)
		}
		if p.needMeta {
			found = append(found, row{vals: cloneCells(cells), pk: pk})
			continue
		}
		r := &re
		if !reuse {
			r = &reused{}
		}
		if err := fn(p.fill(r, cells)); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query %s: %w", q.Level, err)
	}
	rows.Close()
	metaSQL, metaArgs := p.metaSQL()
	for _, r := range found {
		var meta []byte
		err := e.db.QueryRow(ctx, metaSQL, append([]any{r.pk}, metaArgs...)...).Scan(&meta)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("query %s metadata: %w", q.Level, err)
		}
		ds, err := p.dataset(r.vals, meta)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q.Level, err)
		}
		if err := fn(ds); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// cloneCells copies a row's cells (valid only until the next Scan) into
// one allocation.
func cloneCells(cells []sql.RawBytes) []sql.RawBytes {
	size := 0
	for _, c := range cells {
		size += len(c)
	}
	buf := make([]byte, 0, size)
	out := make([]sql.RawBytes, len(cells))
	for i, c := range cells {
		if c != nil {
			buf = append(buf, c...)
			out[i] = buf[len(buf)-len(c) : len(buf) : len(buf)]
		}
	}
	return out
}
