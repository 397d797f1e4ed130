package db

import (
	"database/sql"
	"errors"
	"fmt"
)

// NotFound is err with sql.ErrNoRows replaced by notFound, the owning
// package's own error for a row that does not exist.
func NotFound(err, notFound error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound
	}
	return err
}

// RowErr is a single-row read's error as its owner reports it: notFound
// when there is no row, any other failure wrapped as "what: err", nil for
// nil.
func RowErr(err, notFound error, what string) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return NotFound(err, notFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Found is a single-row read's outcome where no row is an answer, not a
// failure: false and nil when there is no row, any other failure wrapped
// as "what: err".
func Found(err error, what string) (bool, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, RowErr(err, nil, what)
}
