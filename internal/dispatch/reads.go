package dispatch

import (
	"context"
	"encoding/json"
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
	return db.List("reads", db.Rows(d.Query(ctx, `SELECT e.at, e.reader_id, e.code, r.doc FROM assignment_event e JOIN read_item r ON r.study_uid = e.study_uid
		WHERE e.kind = 'signed' AND e.at >= ? AND e.at < ? ORDER BY e.at`, db.Now(from), db.Now(to))), func(r db.Scanner) (Read, error) {
		var at, doc string
		var rd Read
		err := r.Scan(&at, &rd.ReaderID, &rd.Kind, &doc)
		if err == nil {
			rd.SignedAt, err = db.ParseTime(at)
		}
		if err == nil {
			err = json.Unmarshal([]byte(doc), &rd.Study)
		}
		return rd, err
	})
}

// RecordReads writes reads made elsewhere (a simulated day) as if the
// engine had seen them: each study once on the worklist, already done,
// arriving at its ArrivalTime, and each read as a signed event. Study IDs
// are taken as given (callers prefix them so they never meet real UIDs);
// a study already recorded is skipped with its reads.
func RecordReads(ctx context.Context, d *db.DB, reads []Read) (studies int, err error) {
	err = d.InTx(ctx, func(tx *db.Tx) error {
		seen := map[string]bool{}
		skip := map[string]bool{}
		for _, rd := range reads {
			st := rd.Study
			if !seen[st.ID] {
				seen[st.ID] = true
				var n int
				if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM read_item WHERE study_uid = ?", st.ID).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					skip[st.ID] = true
					continue
				}
				st.Facility = nil
				doc, err := json.Marshal(st)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "INSERT INTO read_item (study_uid, facility_id, doc, status, created_at, updated_at) VALUES (?, ?, ?, 'done', ?, ?)",
					st.ID, st.FacilityID, string(doc), db.Now(st.ArrivalTime), db.Now(rd.SignedAt)); err != nil {
					return err
				}
				studies++
			}
			if skip[st.ID] {
				continue
			}
			if _, err := tx.Exec(ctx, "INSERT INTO assignment_event (at, study_uid, kind, reader_id, code, by_user) VALUES (?, ?, 'signed', ?, ?, ?)",
				db.Now(rd.SignedAt), st.ID, rd.ReaderID, rd.Kind, rd.ReaderID); err != nil {
				return err
			}
		}
		return nil
	})
	return studies, err
}
