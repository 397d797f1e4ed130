package archive

import (
	"context"
	"fmt"
	"strings"

	"lightbox/internal/db"
)

// Warning codes the archive adds to the parser's quirks (dcm.QuirkCode).
const (
	WarnMetaSOPInstance = "meta-sop-instance-mismatch"
	WarnMetaSOPClass    = "meta-sop-class-mismatch"
)

// Warning is one oddity of a stored instance. Details name UIDs and
// encodings, never patient data.
type Warning struct {
	SOPInstanceUID string `json:"sopInstanceUID,omitempty"`
	StudyUID       string `json:"studyUID,omitempty"`
	FacilityID     string `json:"facility,omitempty"`
	Code           string `json:"code"`
	Detail         string `json:"detail"`
	SourceAE       string `json:"sourceAE,omitempty"`
	ReceivedAt     string `json:"receivedAt,omitempty"`
}

// WarningFilter selects warnings: the facilities a caller may see (All for
// every one), optionally one study, newest first, at most Limit.
type WarningFilter struct {
	All        bool
	Facilities []string
	StudyUID   string
	Limit      int
}

func (a *Archive) recordWarnings(ctx context.Context, tx db.Execer, r *instanceRow) error {
	for _, w := range r.warnings {
		if _, err := tx.Exec(ctx, `INSERT INTO instance_warning (sop_uid, study_uid, facility_id, code, detail, source_ae, received_at)
			VALUES (?, ?, (SELECT facility_id FROM study WHERE study_uid = ?), ?, ?, ?, ?)`,
			r.sopUID, r.studyUID, r.studyUID, w.Code, w.Detail, r.src.AETitle, r.receivedAt); err != nil {
			return fmt.Errorf("record warning: %w", err)
		}
	}
	if len(r.warnings) > 0 {
		a.log.Warn("instance accepted with warnings", "sop_instance_uid", r.sopUID, "warnings", len(r.warnings), "first", r.warnings[0].Code, "source_ae", r.src.AETitle)
	}
	return nil
}

// Warnings lists stored warnings, newest first.
func (a *Archive) Warnings(ctx context.Context, f WarningFilter) ([]Warning, error) {
	if !f.All && len(f.Facilities) == 0 {
		return nil, nil
	}
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 1000
	}
	q := "SELECT sop_uid, study_uid, facility_id, code, detail, source_ae, received_at FROM instance_warning WHERE 1 = 1"
	var args []any
	if !f.All {
		q += " AND facility_id IN (?" + strings.Repeat(", ?", len(f.Facilities)-1) + ")"
		for _, fac := range f.Facilities {
			args = append(args, fac)
		}
	}
	if f.StudyUID != "" {
		q += " AND study_uid = ?"
		args = append(args, f.StudyUID)
	}
	q += " ORDER BY received_at DESC, pk DESC LIMIT ?"
	args = append(args, f.Limit)
	out, err := db.Collect(db.Rows(a.db.Query(ctx, q, args...)), func(sc db.Scanner) (Warning, error) {
		var w Warning
		if err := sc.Scan(&w.SOPInstanceUID, &w.StudyUID, &w.FacilityID, &w.Code, &w.Detail, &w.SourceAE, &w.ReceivedAt); err != nil {
			return Warning{}, err
		}
		return w, nil
	})
	if err != nil {
		return nil, fmt.Errorf("warnings: %w", err)
	}
	return out, nil
}
