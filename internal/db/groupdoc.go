package db

import (
	"context"
	"fmt"
	"time"
)

// GroupDoc is a settings table (see GetDoc) holding one group-wide,
// validated document such as a policy, under row "group". The owning
// package declares it with its own table.
type GroupDoc[T interface{ Validate() error }] struct {
	Table string
	// Name says what the document is, in errors.
	Name string
}

// Get returns the stored document, or def until one is set.
func (g GroupDoc[T]) Get(ctx context.Context, d *DB, def T) (T, error) {
	if _, err := d.GetDoc(ctx, g.Table, "group", &def); err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", g.Name, err)
	}
	return def, nil
}

// Put validates v and stores it.
func (g GroupDoc[T]) Put(ctx context.Context, d *DB, v T, now time.Time) error {
	if err := v.Validate(); err != nil {
		return err
	}
	return d.PutDoc(ctx, g.Table, "group", v, now)
}
