package db

import (
	"database/sql"
	"errors"
)

// NotFound is err with sql.ErrNoRows replaced by notFound, the owning
// package's own error for a row that does not exist.
func NotFound(err, notFound error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound
	}
	return err
}
