package setup

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"lightbox/internal/db"
)

// row is one parsed import row with where it came from.
type row[T any] struct {
	n int // CSV line or 1-based JSON index
	v T
}

// importer says how to import rows of T: check validates a row and
// returns its key (a key seen twice is refused); save applies one valid
// row in the transaction; finish, when set, runs after every save (to
// write what the saves gathered).
type importer[T any] struct {
	check  func(*T) (string, error)
	save   func(context.Context, *db.Tx, *T) error
	finish func(context.Context, *db.Tx) error
	change change
}

// run validates every row and saves the valid ones in one audited
// transaction.
func (im importer[T]) run(ctx context.Context, s *Service, by Actor, rep *Report, rows []row[T]) error {
	rep.Rows += len(rows)
	seen := map[string]int{}
	var ok []*T
	for i := range rows {
		r := &rows[i]
		key, err := im.check(&r.v)
		if err == nil {
			if first, dup := seen[key]; dup {
				err = &Error{Code: CodeDuplicate, Msg: fmt.Sprintf("%q already given on row %d", key, first)}
			}
		}
		if err != nil {
			rep.reject(r.n, key, err)
			continue
		}
		seen[key] = r.n
		ok = append(ok, &r.v)
	}
	if len(ok) == 0 {
		return nil
	}
	c := im.change
	c.detail = fmt.Sprintf("import %s: %d accepted, %d rejected", rep.Kind, len(ok), len(rep.Rejected))
	if err := s.write(ctx, by, c, func(tx *db.Tx) error {
		for _, v := range ok {
			if err := im.save(ctx, tx, v); err != nil {
				return err
			}
		}
		if im.finish != nil {
			return im.finish(ctx, tx)
		}
		return nil
	}); err != nil {
		return err
	}
	rep.Accepted += len(ok)
	return nil
}

// readCSV reads a CSV file whose first line must be header; rows with the
// wrong number of fields are reported, the others returned with their line.
func readCSV(r io.Reader, header []string, rep *Report) ([]row[[]string], error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	first, err := cr.Read()
	if err != nil {
		return nil, &Error{Code: CodeFormat, Msg: "empty or unreadable CSV: " + err.Error()}
	}
	for i := range first {
		first[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(first[i], "\ufeff")))
	}
	if strings.Join(first, ",") != strings.Join(header, ",") {
		return nil, &Error{Code: CodeFormat, Msg: "the first line must be " + strings.Join(header, ",")}
	}
	var out []row[[]string]
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
				return out, &Error{Code: CodeFormat, Msg: err.Error()}
			}
		}
		if len(rec) != len(header) {
			rep.Rows++
			rep.reject(line, "", invalid("", "%d fields, want %d (%s)", len(rec), len(header), strings.Join(header, ",")))
			continue
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		out = append(out, row[[]string]{n: line, v: rec})
	}
}

// readJSON reads a JSON array of T; each element becomes a row, and an
// element that does not decode is reported.
func readJSON[T any](r io.Reader, rep *Report) ([]row[T], error) {
	var raw []json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, &Error{Code: CodeFormat, Msg: "expected a JSON array: " + err.Error()}
	}
	out := make([]row[T], 0, len(raw))
	for i, m := range raw {
		var v T
		dec := json.NewDecoder(bytes.NewReader(m))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			rep.Rows++
			rep.reject(i+1, "", invalid("", "%v", err))
			continue
		}
		out = append(out, row[T]{n: i + 1, v: v})
	}
	return out, nil
}
