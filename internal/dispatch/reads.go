package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/model"
)

// Read is one signed interpretation (prelim or final) of a study that
// was on the worklist, with the study as the engine saw it.
type Read struct {
	Study    model.Study
	ReaderID string
	Kind     string // prelim or final
	SignedAt time.Time
}

// Reads returns the interpretations signed in [from, to), oldest first:
// the numbers behind the dashboards (TAT, RVU per reader, breaches).
func Reads(ctx context.Context, d *db.DB, from, to time.Time) ([]Read, error) {
	rows, err := d.Query(ctx, `SELECT e.at, e.reader_id, e.code, r.doc FROM assignment_event e JOIN read_item r ON r.study_uid = e.study_uid
		WHERE e.kind = 'signed' AND e.at >= ? AND e.at < ? ORDER BY e.at`, db.Now(from), db.Now(to))
	if err != nil {
		return nil, fmt.Errorf("reads: %w", err)
	}
	defer rows.Close()
	var out []Read
	for rows.Next() {
		var at, doc string
		var rd Read
		if err := rows.Scan(&at, &rd.ReaderID, &rd.Kind, &doc); err != nil {
			return nil, err
		}
		if rd.SignedAt, err = db.ParseTime(at); err != nil {
			return nil, fmt.Errorf("reads: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &rd.Study); err != nil {
			return nil, fmt.Errorf("reads: %w", err)
		}
		out = append(out, rd)
	}
	return out, rows.Err()
}
