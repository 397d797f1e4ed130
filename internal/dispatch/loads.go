package dispatch

import (
	"context"
	"encoding/json"
	"fmt"

	"lightbox/internal/assign"
	"lightbox/internal/db"
	"lightbox/internal/model"
)

// Loads is every reader's presence and queue (assign.Engine.Loads), from
// the engine leader when this node is not it.
func (s *Service) Loads() []assign.Load {
	var out []assign.Load
	if s.remote() {
		_ = s.forward(context.Background(), "Loads", call{}, &out)
		return out
	}
	s.eng.Do(func(e *assign.Engine) { out = e.Loads() })
	return out
}

// Uncovered returns the studies the engine found no eligible reader for,
// as it saw them (the console names who could cover each).
func Uncovered(ctx context.Context, d *db.DB) ([]model.Study, error) {
	return studiesWhere(ctx, d, "status = 'uncovered'")
}

// Open returns the studies still to be read (waiting, leased, queued or
// uncovered), as the engine saw them, for deadline watches.
func Open(ctx context.Context, d *db.DB) ([]model.Study, error) {
	return studiesWhere(ctx, d, "status IN ('waiting', 'leased', 'queued', 'uncovered')")
}

// studiesWhere decodes the study documents of the read items matching
// where, in arrival order.
func studiesWhere(ctx context.Context, d *db.DB, where string, args ...any) ([]model.Study, error) {
	rows, err := d.Query(ctx, "SELECT doc FROM read_item WHERE "+where+" ORDER BY created_at", args...)
	if err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	defer rows.Close()
	var out []model.Study
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var st model.Study
		if err := json.Unmarshal([]byte(doc), &st); err != nil {
			return nil, fmt.Errorf("read items: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}
