package critical

import (
	"context"
	"fmt"

	"lightbox/internal/db"
)

// OpenLoops counts loops not closed, in every facility (metrics).
func OpenLoops(ctx context.Context, d *db.DB) (int, error) {
	var n int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM crit_result WHERE state <> ?", string(StateClosed)).Scan(&n); err != nil {
		return 0, fmt.Errorf("open critical loops: %w", err)
	}
	return n, nil
}
