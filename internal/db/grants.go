package db

import (
	"context"
	"fmt"
	"time"
)

// GrantTable is a table of temporary single-study grants, with columns
// study_uid and expires_at (Now format) and a column naming the grantee
// (break-glass, consult and tumor-board grants all widen the scope rule
// this way, internal/grants). The owning package declares it with its own
// table, as with GroupDoc.
type GrantTable struct {
	Table, User string
	// Name says what the grants are, in errors.
	Name string
}

// Active returns the studies user holds a grant for that is unexpired at
// now, in study order.
func (g GrantTable) Active(ctx context.Context, d *DB, user string, now time.Time) ([]string, error) {
	out, err := Strings(d.Query(ctx, "SELECT DISTINCT study_uid FROM "+g.Table+" WHERE "+g.User+" = ? AND expires_at > ? ORDER BY study_uid", user, Now(now)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g.Name, err)
	}
	return out, nil
}
