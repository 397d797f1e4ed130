package query

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"lightbox/internal/archive"
)

// Instance is one stored instance as retrieve services need it.
type Instance struct {
	StudyUID       string
	SeriesUID      string
	SOPClassUID    string
	SOPInstanceUID string
	FacilityID     string
	TransferSyntax string
	BlobKey        string
	Size           int64
	SHA256         string
	NumFrames      int
	Rows, Columns  int
	// Frames locates each frame's bytes in the blob (nil when unknown:
	// deflated data sets, fragments that cannot be told apart, no pixels).
	Frames []archive.Frame
}

// Ref returns the archive reference used to open the instance's bytes.
func (in *Instance) Ref() *archive.InstanceRef {
	return &archive.InstanceRef{SOPInstanceUID: in.SOPInstanceUID, SOPClassUID: in.SOPClassUID, StudyUID: in.StudyUID,
		SeriesUID: in.SeriesUID, FacilityID: in.FacilityID, TransferSyntax: in.TransferSyntax, BlobKey: in.BlobKey,
		Size: in.Size, SHA256: in.SHA256, NumFrames: in.NumFrames, Frames: in.Frames}
}

// Target names what to resolve: a study, optionally one of its series,
// optionally one instance of that series. Empty SeriesUID / SOPInstanceUID
// mean all. A SOPInstanceUID alone (StudyUID and SeriesUID empty) is allowed
// too, for C-GET/C-MOVE at IMAGE level with relational keys.
type Target struct {
	StudyUID, SeriesUID, SOPInstanceUID string
}

func (t Target) where(scope Scope) (string, []any, error) {
	var conds []string
	var args []any
	add := func(expr, v string) {
		vals := splitValues(v)
		if len(vals) == 1 {
			conds = append(conds, expr+" = ?")
		} else {
			conds = append(conds, expr+" IN ("+placeholders(len(vals))+")")
		}
		for _, x := range vals {
			args = append(args, x)
		}
	}
	if t.StudyUID == "" && t.SeriesUID == "" && t.SOPInstanceUID == "" {
		return "", nil, fmt.Errorf("resolve: no UID given")
	}
	if t.StudyUID != "" {
		add("s.study_uid", t.StudyUID)
	}
	if t.SeriesUID != "" {
		add("r.series_uid", t.SeriesUID)
	}
	if t.SOPInstanceUID != "" {
		add("i.sop_uid", t.SOPInstanceUID)
	}
	sc, sargs := scopeCond(scope, "s")
	return strings.Join(conds, " AND ") + sc, append(args, sargs...), nil
}

const resolveFrom = " FROM instance i JOIN series r ON r.pk = i.series_pk JOIN study s ON s.pk = r.study_pk WHERE "
const resolveOrder = " ORDER BY s.pk, " + seriesOrder + ", " + instanceOrder

// Instances resolves a target within scope to its instances, ordered by
// series number then instance number. UIDs may be backslash-separated
// lists (C-MOVE/C-GET unique key lists). An unknown or out-of-scope target
// yields no instances and no error.
func (e *Engine) Instances(ctx context.Context, scope Scope, t Target) ([]Instance, error) {
	return e.instances(ctx, scope, t, true)
}

// Files is Instances without the frame offsets (Frames nil): what sending
// the stored bytes whole needs. The offsets are the last column of an
// index row, behind the stored metadata, and reading them made SQLite walk
// every row's overflow pages (a third of a whole-series WADO-RS request's
// CPU before its files were opened).
func (e *Engine) Files(ctx context.Context, scope Scope, t Target) ([]Instance, error) {
	return e.instances(ctx, scope, t, false)
}

func (e *Engine) instances(ctx context.Context, scope Scope, t Target, withFrames bool) ([]Instance, error) {
	if scope.Empty() {
		return nil, nil
	}
	where, args, err := t.where(scope)
	if err != nil {
		return nil, err
	}
	framesCol := ", NULL"
	if withFrames {
		framesCol = ", i.frames"
	}
	rows, err := e.db.Query(ctx, `SELECT s.study_uid, r.series_uid, i.sop_class, i.sop_uid, s.facility_id, i.transfer_syntax,
		i.blob_key, i.size_bytes, i.sha256, i.num_frames, i.rows_, i.columns_`+framesCol+resolveFrom+where+resolveOrder, args...)
	if err != nil {
		return nil, fmt.Errorf("resolve instances: %w", err)
	}
	defer rows.Close()
	var out []Instance
	var frames sql.RawBytes
	for rows.Next() {
		var in Instance
		if err := rows.Scan(&in.StudyUID, &in.SeriesUID, &in.SOPClassUID, &in.SOPInstanceUID, &in.FacilityID, &in.TransferSyntax,
			&in.BlobKey, &in.Size, &in.SHA256, &in.NumFrames, &in.Rows, &in.Columns, &frames); err != nil {
			return nil, fmt.Errorf("resolve instances: %w", err)
		}
		if len(frames) > 0 {
			if err := json.Unmarshal(frames, &in.Frames); err != nil {
				return nil, fmt.Errorf("resolve instance %s frames: %w", in.SOPInstanceUID, err)
			}
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("resolve instances: %w", err)
	}
	return out, nil
}

// EachMeta streams the stored DICOM JSON of each instance of a target
// within scope, in the order of Instances, with its SOP Instance UID. The
// JSON still holds the {{dicomweb}} placeholder in BulkDataURIs. It returns
// the number of rows seen. meta is only valid during the call to fn.
func (e *Engine) EachMeta(ctx context.Context, scope Scope, t Target, fn func(sopUID string, meta []byte) error) (int, error) {
	if scope.Empty() {
		return 0, nil
	}
	where, args, err := t.where(scope)
	if err != nil {
		return 0, err
	}
	rows, err := e.db.Query(ctx, "SELECT i.sop_uid, i.meta"+resolveFrom+where+resolveOrder, args...)
	if err != nil {
		return 0, fmt.Errorf("instance metadata: %w", err)
	}
	defer rows.Close()
	n := 0
	var uid string
	var meta sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&uid, &meta); err != nil {
			return n, fmt.Errorf("instance metadata: %w", err)
		}
		n++
		if err := fn(uid, meta); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("instance metadata: %w", err)
	}
	return n, nil
}

// Meta is one instance's stored DICOM JSON (with the {{dicomweb}}
// placeholder in BulkDataURIs) and what identifies its version.
type Meta struct {
	SOPInstanceUID, SHA256 string
	JSON                   []byte
	order                  [5]int64
}

// Metas returns the stored DICOM JSON of each instance of a target within
// scope, in the order of Instances: one query, sorted here rather than by
// the database, whose sorter would copy (and on SQLite spill to temporary
// files) every row's JSON. An unknown or out-of-scope target yields none.
func (e *Engine) Metas(ctx context.Context, scope Scope, t Target) ([]Meta, error) {
	if scope.Empty() {
		return nil, nil
	}
	where, args, err := t.where(scope)
	if err != nil {
		return nil, err
	}
	rows, err := e.db.Query(ctx, "SELECT s.pk, COALESCE(r.series_number, 2147483647), r.pk, COALESCE(i.instance_number, 2147483647), i.pk, i.sop_uid, i.sha256, i.meta"+
		resolveFrom+where, args...)
	if err != nil {
		return nil, fmt.Errorf("instance metadata: %w", err)
	}
	defer rows.Close()
	var out []Meta
	for rows.Next() {
		var m Meta
		o := &m.order
		if err := rows.Scan(&o[0], &o[1], &o[2], &o[3], &o[4], &m.SOPInstanceUID, &m.SHA256, &m.JSON); err != nil {
			return nil, fmt.Errorf("instance metadata: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("instance metadata: %w", err)
	}
	slices.SortFunc(out, func(a, b Meta) int { return slices.Compare(a.order[:], b.order[:]) })
	return out, nil
}

// MetaVersion identifies the state of a target's instances within scope
// for caching what is built from them: N == 0 when none is visible. An
// added, removed or replaced instance changes it (a replacement rewrites
// received_at; a re-used row id comes with a later received_at).
type MetaVersion struct {
	N      int
	MaxPK  int64
	Latest string
}

// MetaVersionOf returns the MetaVersion of a target within scope: one
// aggregate over the index rows, without reading the stored JSON.
func (e *Engine) MetaVersionOf(ctx context.Context, scope Scope, t Target) (MetaVersion, error) {
	var v MetaVersion
	if scope.Empty() {
		return v, nil
	}
	where, args, err := t.where(scope)
	if err != nil {
		return v, err
	}
	var maxPK sql.NullInt64
	var latest sql.NullString
	if err := e.db.QueryRow(ctx, "SELECT COUNT(*), MAX(i.pk), MAX(i.received_at)"+resolveFrom+where, args...).Scan(&v.N, &maxPK, &latest); err != nil {
		return v, fmt.Errorf("instance metadata version: %w", err)
	}
	v.MaxPK, v.Latest = maxPK.Int64, latest.String
	return v, nil
}

// StudyFacility returns the facility a study belongs to, whatever the
// caller's scope (STOW-RS uses it to refuse writing into another
// facility's study). ok is false for an unknown study.
func (e *Engine) StudyFacility(ctx context.Context, studyUID string) (facility string, ok bool, err error) {
	err = e.db.QueryRow(ctx, "SELECT facility_id FROM study WHERE study_uid = ?", studyUID).Scan(&facility)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("study facility: %w", err)
	}
	return facility, true, nil
}
