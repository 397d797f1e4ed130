package dispatch

import (
	"context"
	"fmt"
	"time"

	"lightbox/internal/db"
)

// Gauges counts worklist studies by status and the age of the oldest one
// not yet leased, cluster-wide, from what the leader persisted (metrics).
// Priors set aside (status prior) are not reading work.
func Gauges(ctx context.Context, d *db.DB) (map[string]int, time.Duration, error) {
	rows, err := d.Query(ctx, "SELECT status, COUNT(*), MIN(created_at) FROM read_item WHERE status NOT IN ('done', 'prior') GROUP BY status")
	if err != nil {
		return nil, 0, fmt.Errorf("worklist gauges: %w", err)
	}
	defer rows.Close()
	by := map[string]int{}
	var oldest time.Duration
	for rows.Next() {
		var st, first string
		var n int
		if err := rows.Scan(&st, &n, &first); err != nil {
			return nil, 0, err
		}
		by[st] = n
		if st != "leased" {
			if t, err := db.ParseTime(first); err == nil {
				oldest = max(oldest, time.Since(t))
			}
		}
	}
	return by, oldest, rows.Err()
}
