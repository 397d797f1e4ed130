package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lightbox/internal/blob"
	"lightbox/internal/db"
)

// Expired is one study's instances past a retention cutoff: what a purge
// of that study would remove. Issuer and PatientID are for the audit
// record only, never for logs.
type Expired struct {
	StudyUID   string `json:"study_uid"`
	FacilityID string `json:"facility_id"`
	Issuer     string `json:"-"`
	PatientID  string `json:"-"`
	Instances  int    `json:"instances"`
	Bytes      int64  `json:"bytes"`
	// Whole: every instance of the study goes, and so do its rows.
	Whole bool `json:"whole"`
}

// expiredWhere selects instances (i) of a study (s) older than a cutoff:
// by the study date when the study has one (DA, YYYYMMDD, compared as
// text), by the instance's receipt otherwise.
const expiredWhere = `((s.study_date <> '' AND s.study_date < ?) OR (s.study_date = '' AND i.received_at < ?))`

func cutoffArgs(cutoff time.Time) []any {
	return []any{cutoff.UTC().Format("20060102"), db.Now(cutoff)}
}

// Expired lists, per study of facility, the instances older than cutoff,
// at most limit studies after the study UID after (paging).
func (a *Archive) Expired(ctx context.Context, facilityID string, cutoff time.Time, after string, limit int) ([]Expired, error) {
	args := append([]any{facilityID, after}, cutoffArgs(cutoff)...)
	out, err := db.Collect(db.Rows(a.db.Query(ctx, `SELECT s.study_uid, s.facility_id, p.issuer, p.patient_id, COUNT(i.pk), COALESCE(SUM(i.size_bytes), 0), s.num_instances
		FROM study s JOIN patient p ON p.pk = s.patient_pk JOIN series se ON se.study_pk = s.pk JOIN instance i ON i.series_pk = se.pk
		WHERE s.facility_id = ? AND s.study_uid > ? AND `+expiredWhere+`
		GROUP BY s.study_uid, s.facility_id, p.issuer, p.patient_id, s.num_instances
		ORDER BY s.study_uid LIMIT ?`, append(args, limit)...)), func(sc db.Scanner) (Expired, error) {
		var e Expired
		var total int
		if err := sc.Scan(&e.StudyUID, &e.FacilityID, &e.Issuer, &e.PatientID, &e.Instances, &e.Bytes, &total); err != nil {
			return Expired{}, err
		}
		e.Whole = e.Instances >= total
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("expired instances: %w", err)
	}
	return out, nil
}

// PurgeTx deletes, inside the caller's transaction, the instances of study
// older than cutoff, then the series and the study left without instances,
// and queues their blobs for deletion (DeleteQueued) in the same
// transaction: the rows and the queue entries commit together, so no index
// row ever names a deleted blob and no blob of a deleted row is forgotten.
// Duplicates and quarantined copies of the deleted SOP instances go too.
func PurgeTx(ctx context.Context, tx *db.Tx, studyUID string, cutoff time.Time, now time.Time) (Expired, error) {
	e := Expired{StudyUID: studyUID}
	var studyPK int64
	err := tx.QueryRow(ctx, `SELECT s.pk, s.facility_id, p.issuer, p.patient_id FROM study s JOIN patient p ON p.pk = s.patient_pk WHERE s.study_uid = ?`, studyUID).
		Scan(&studyPK, &e.FacilityID, &e.Issuer, &e.PatientID)
	if err != nil {
		return e, fmt.Errorf("purge: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT i.pk, i.sop_uid, i.blob_key, i.size_bytes, i.series_pk FROM instance i JOIN series se ON se.pk = i.series_pk JOIN study s ON s.pk = se.study_pk
		WHERE s.pk = ? AND `+expiredWhere, append([]any{studyPK}, cutoffArgs(cutoff)...)...)
	if err != nil {
		return e, fmt.Errorf("purge: %w", err)
	}
	type victim struct {
		pk, series int64
		sop, key   string
	}
	var vs []victim
	for rows.Next() {
		var v victim
		var size int64
		if err := rows.Scan(&v.pk, &v.sop, &v.key, &size, &v.series); err != nil {
			rows.Close()
			return e, fmt.Errorf("purge: %w", err)
		}
		e.Instances++
		e.Bytes += size
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return e, fmt.Errorf("purge: %w", err)
	}
	queue := func(key string) error {
		_, err := tx.Exec(ctx, `INSERT INTO blob_delete (blob_key, queued_at) VALUES (?, ?) ON CONFLICT (blob_key) DO NOTHING`, key, db.Now(now))
		return err
	}
	series := map[int64]bool{}
	for _, v := range vs {
		series[v.series] = true
		if _, err := tx.Exec(ctx, `DELETE FROM instance WHERE pk = ?`, v.pk); err != nil {
			return e, fmt.Errorf("purge: %w", err)
		}
		if err := queue(v.key); err != nil {
			return e, fmt.Errorf("purge: %w", err)
		}
		for _, q := range []string{"instance_duplicate", "instance_quarantine"} {
			keys, err := stringsOf(ctx, tx, `SELECT blob_key FROM `+q+` WHERE sop_uid = ?`, v.sop)
			if err != nil {
				return e, fmt.Errorf("purge: %w", err)
			}
			for _, k := range keys {
				if err := queue(k); err != nil {
					return e, fmt.Errorf("purge: %w", err)
				}
			}
			if _, err := tx.Exec(ctx, `DELETE FROM `+q+` WHERE sop_uid = ?`, v.sop); err != nil {
				return e, fmt.Errorf("purge: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM instance_warning WHERE sop_uid = ?`, v.sop); err != nil {
			return e, fmt.Errorf("purge: %w", err)
		}
	}
	for pk := range series {
		if _, err := tx.Exec(ctx, `UPDATE series SET num_instances = (SELECT COUNT(*) FROM instance WHERE series_pk = ?) WHERE pk = ?`, pk, pk); err != nil {
			return e, fmt.Errorf("purge: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM series WHERE pk = ? AND num_instances = 0`, pk); err != nil {
			return e, fmt.Errorf("purge: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE study SET
		num_series = (SELECT COUNT(*) FROM series WHERE study_pk = ?),
		num_instances = (SELECT COUNT(*) FROM instance i JOIN series se ON se.pk = i.series_pk WHERE se.study_pk = ?),
		size_bytes = (SELECT COALESCE(SUM(i.size_bytes), 0) FROM instance i JOIN series se ON se.pk = i.series_pk WHERE se.study_pk = ?)
		WHERE pk = ?`, studyPK, studyPK, studyPK, studyPK); err != nil {
		return e, fmt.Errorf("purge: %w", err)
	}
	res, err := tx.Exec(ctx, `DELETE FROM study WHERE pk = ? AND num_series = 0`, studyPK)
	if err != nil {
		return e, fmt.Errorf("purge: %w", err)
	}
	n, _ := res.RowsAffected()
	e.Whole = n == 1
	return e, nil
}

func stringsOf(ctx context.Context, x db.Execer, q string, args ...any) ([]string, error) {
	return db.Strings(x.Query(ctx, q, args...))
}

// RetireGrace is how long a deleted blob is kept retired (blob.Retirer)
// before it is purged: longer than any store takes from publishing a blob
// (Commit, which keeps a key it finds) to committing the index row that
// names it, so a row naming the same bytes again is seen before the bytes
// go, and longer than a read that began before the deletion.
const RetireGrace = 15 * time.Minute

// QueuedBlobs counts blobs waiting for deletion (retired blobs waiting out
// their grace period are deleted as far as the index is concerned).
func (a *Archive) QueuedBlobs(ctx context.Context) (int, error) {
	var n int
	err := a.db.QueryRow(ctx, `SELECT COUNT(*) FROM blob_delete WHERE retired_at = ''`).Scan(&n)
	return n, err
}

// DrainQueued runs DeleteQueued until it finds nothing left to do and
// returns how many blobs left their keys. Entries it leaves are claimed by
// another node (or by a dead one until its claim expires) or retired and
// waiting out their grace period; a later drain takes them.
func (a *Archive) DrainQueued(ctx context.Context) (int, error) {
	total := 0
	for {
		n, handled, err := a.DeleteQueued(ctx, 200)
		total += n
		if err != nil || handled == 0 {
			return total, err
		}
	}
}

// DeleteQueued deletes up to limit queued blobs and returns how many it
// deleted and how many queue entries it handled. Each entry is claimed
// first (claimed_until), so nodes draining together never work on the same
// key and a node that dies mid-way leaves its claims to expire.
//
// Keys are content hashes, so the same bytes may be stored again at any
// time: a store that finds the key published keeps it and indexes a row
// naming it. A blob an index row references again leaves the queue
// untouched. Otherwise, where the store can (blob.Retirer), the blob is
// retired — moved aside — and the index checked again: a row that appeared
// restores it at once; one whose store found the key just before it was
// retired and commits later restores it on its first read (openBlob) or at
// the latest when the retired copy's grace period (RetireGrace) ends and
// this function checks once more before purging it. A crash at any point
// leaves the entry, which the next drain finishes.
func (a *Archive) DeleteQueued(ctx context.Context, limit int) (n, handled int, err error) {
	now := a.opt.Now()
	type entry struct {
		key     string
		retired bool
	}
	rows, err := a.db.Query(ctx, `SELECT blob_key, retired_at FROM blob_delete WHERE claimed_until < ? ORDER BY queued_at LIMIT ?`, db.Now(now), limit)
	if err != nil {
		return 0, 0, fmt.Errorf("blob queue: %w", err)
	}
	var entries []entry
	for rows.Next() {
		var e entry
		var retiredAt string
		if err := rows.Scan(&e.key, &retiredAt); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("blob queue: %w", err)
		}
		e.retired = retiredAt != ""
		entries = append(entries, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("blob queue: %w", err)
	}
	for _, e := range entries {
		res, err := a.db.Exec(ctx, `UPDATE blob_delete SET claimed_until = ?, attempts = attempts + 1 WHERE blob_key = ? AND claimed_until < ?`,
			db.Now(now.Add(5*time.Minute)), e.key, db.Now(now))
		if err != nil {
			return n, handled, fmt.Errorf("blob queue: %w", err)
		}
		if c, _ := res.RowsAffected(); c == 0 {
			continue // another node claimed it
		}
		deleted, err := a.deleteQueued(ctx, e.key, e.retired, now)
		if err != nil {
			return n, handled, fmt.Errorf("blob queue: %w", err)
		}
		if deleted {
			n++
		}
		handled++
	}
	return n, handled, nil
}

// deleteQueued takes one claimed queue entry a step further and reports
// whether the blob left its key.
func (a *Archive) deleteQueued(ctx context.Context, key string, retired bool, now time.Time) (deleted bool, err error) {
	done := func() error {
		_, err := a.db.Exec(ctx, `DELETE FROM blob_delete WHERE blob_key = ?`, key)
		return err
	}
	refs, err := a.references(ctx, key)
	if err != nil {
		return false, err
	}
	r, _ := a.blobs.(blob.Retirer)
	if retired {
		// The grace period is over.
		if r == nil {
			return false, done() // the store changed since; nothing retired here
		}
		if refs > 0 {
			if err := r.Restore(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
				return false, fmt.Errorf("restore: %w", err)
			}
			a.log.Warn("blob queue: restored a retired blob stored again meanwhile", "blob", key)
			return false, done()
		}
		if err := r.Purge(ctx, key); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			return false, fmt.Errorf("purge: %w", err)
		}
		if again, err := a.blobs.Exists(ctx, key); err == nil && again {
			// Published again and not (yet) referenced: a deletion of its
			// own, from the start.
			_, err := a.db.Exec(ctx, `UPDATE blob_delete SET retired_at = '', claimed_until = '' WHERE blob_key = ?`, key)
			return false, err
		}
		return false, done()
	}
	if refs > 0 {
		return false, done()
	}
	if r != nil {
		// Marked first: a crash after the move leaves an entry whose grace
		// period's end finds the retired copy (or, if the move never
		// happened, the published key, which starts over).
		mark := func(at, until string) error {
			_, err := a.db.Exec(ctx, `UPDATE blob_delete SET retired_at = ?, claimed_until = ? WHERE blob_key = ?`, at, until, key)
			return err
		}
		if err := mark(db.Now(now), db.Now(now.Add(RetireGrace))); err != nil {
			return false, err
		}
		err := r.Retire(ctx, key)
		switch {
		case errors.Is(err, blob.ErrNotFound):
			return false, done() // nothing (left) to delete
		case err == nil:
			again, err := a.references(ctx, key)
			if err != nil {
				return true, err // retired; the grace period's end decides
			}
			if again > 0 {
				if err := r.Restore(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
					return true, fmt.Errorf("restore: %w", err)
				}
				return false, done()
			}
			return true, nil
		case !errors.Is(err, errors.ErrUnsupported):
			return false, fmt.Errorf("retire: %w", err)
		}
		if err := mark("", db.Now(now.Add(5*time.Minute))); err != nil {
			return false, err
		}
	}
	// A store that cannot retire: delete at once. The same bytes stored
	// again between the check and the delete would leave a row without its
	// blob: say so, so the sender can be asked to send it again (lightbox
	// check lists it too).
	if err := a.blobs.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return false, fmt.Errorf("delete: %w", err)
	}
	if again, err := a.references(ctx, key); err == nil && again > 0 {
		a.log.Error("blob queue: a blob was deleted while the same content was stored again; re-send it (lightbox check lists it)", "blob", key)
	}
	return true, done()
}
