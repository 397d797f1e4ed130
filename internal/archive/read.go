package archive

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"lightbox/internal/blob"
	"lightbox/internal/db"
)

// ErrNotFound is returned for an unknown UID.
var ErrNotFound = errors.New("not found")

// InstanceRef locates a stored instance.
type InstanceRef struct {
	SOPInstanceUID string
	SOPClassUID    string
	StudyUID       string
	SeriesUID      string
	FacilityID     string
	TransferSyntax string
	BlobKey        string
	Size           int64
	SHA256         string // the content digest (digest.go): "blake3:" + hex, or SHA-256 hex if stored before
	NumFrames      int
	Frames         []Frame
}

// Instance looks up one instance by SOP Instance UID.
func (a *Archive) Instance(ctx context.Context, sopUID string) (*InstanceRef, error) {
	var r InstanceRef
	var frames []byte
	err := a.db.QueryRow(ctx, `SELECT i.sop_uid, i.sop_class, st.study_uid, se.series_uid, st.facility_id, i.transfer_syntax, i.blob_key,
		i.size_bytes, i.sha256, i.num_frames, i.frames
		FROM instance i JOIN series se ON se.pk = i.series_pk JOIN study st ON st.pk = se.study_pk WHERE i.sop_uid = ?`, sopUID).
		Scan(&r.SOPInstanceUID, &r.SOPClassUID, &r.StudyUID, &r.SeriesUID, &r.FacilityID, &r.TransferSyntax, &r.BlobKey, &r.Size, &r.SHA256, &r.NumFrames, &frames)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("instance %s: %w", sopUID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("instance %s: %w", sopUID, err)
	}
	if len(frames) > 0 {
		if err := json.Unmarshal(frames, &r.Frames); err != nil {
			return nil, fmt.Errorf("instance %s frames: %w", sopUID, err)
		}
	}
	return &r, nil
}

// Open returns the stored Part 10 bytes of an instance.
func (a *Archive) Open(ctx context.Context, ref *InstanceRef) (blob.Object, error) {
	return a.openBlob(ctx, ref.BlobKey)
}

// Counts are totals over the index.
type Counts struct {
	Patients, Studies, Series, Instances, Duplicates int
	Bytes                                            int64
}

// Count returns index totals.
func (a *Archive) Count(ctx context.Context) (Counts, error) {
	var c Counts
	err := a.db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM patient), (SELECT COUNT(*) FROM study), (SELECT COUNT(*) FROM series),
		(SELECT COUNT(*) FROM instance), (SELECT COUNT(*) FROM instance_duplicate), (SELECT COALESCE(SUM(size_bytes), 0) FROM instance)`).
		Scan(&c.Patients, &c.Studies, &c.Series, &c.Instances, &c.Duplicates, &c.Bytes)
	if err != nil {
		return c, fmt.Errorf("count: %w", err)
	}
	return c, nil
}

// CheckReport is the result of an integrity check.
type CheckReport struct {
	Instances int
	Missing   []string // SOP Instance UIDs whose blob is gone
	Corrupt   []string // SOP Instance UIDs whose bytes no longer hash to the index
}

// Check verifies that every indexed instance has its blob, and with
// rehash, that its bytes still match the recorded digest.
func (a *Archive) Check(ctx context.Context, rehash bool) (*CheckReport, error) {
	rows, err := a.db.Query(ctx, "SELECT sop_uid, blob_key, sha256 FROM instance ORDER BY pk")
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	type item struct{ uid, key, sha string }
	var items []item
	for rows.Next() {
		var it item
		if err := rows.Scan(&it.uid, &it.key, &it.sha); err != nil {
			rows.Close()
			return nil, err
		}
		items = append(items, it)
	}
	rows.Close()
	rep := &CheckReport{Instances: len(items)}
	for _, it := range items {
		o, err := a.openBlob(ctx, it.key)
		if err != nil {
			rep.Missing = append(rep.Missing, it.uid)
			continue
		}
		if rehash && !hasDigest(o, it.sha) {
			rep.Corrupt = append(rep.Corrupt, it.uid)
		}
		o.Close()
	}
	return rep, nil
}

// StudyByAccession finds the study a facility sent with this accession
// number (an accession is unique only within its issuing facility).
func (a *Archive) StudyByAccession(ctx context.Context, facilityID, accession string) (string, error) {
	var uid string
	err := a.db.QueryRow(ctx, "SELECT study_uid FROM study WHERE facility_id = ? AND accession = ?", facilityID, accession).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("study with accession at %s: %w", facilityID, ErrNotFound)
	}
	return uid, err
}

// StudyFacility returns the facility a stored study belongs to ("" when
// the study is not stored).
func StudyFacility(ctx context.Context, x db.Execer, studyUID string) (string, error) {
	var fac string
	err := x.QueryRow(ctx, "SELECT facility_id FROM study WHERE study_uid = ?", studyUID).Scan(&fac)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return fac, err
}
