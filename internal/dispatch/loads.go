package dispatch

import (
	"context"
	"encoding/json"

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
	return db.List("read items", db.Rows(d.Query(ctx, "SELECT doc FROM read_item WHERE "+where+" ORDER BY created_at", args...)), func(r db.Scanner) (model.Study, error) {
		var doc string
		var st model.Study
		if err := r.Scan(&doc); err != nil {
			return st, err
		}
		return st, json.Unmarshal([]byte(doc), &st)
	})
}
