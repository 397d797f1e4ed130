package report

import (
	"context"
	"time"

	"lightbox/internal/db"
)

// Signed is one signed final, for quality programmes (peer review,
// mentored reading) that sample finalised studies.
type Signed struct {
	StudyUID   string
	FacilityID string
	Author     string
	Modality   string
	SignedAt   time.Time
}

// Finals lists the finals signed in [from, to), oldest first.
func (s *Service) Finals(ctx context.Context, from, to time.Time) ([]Signed, error) {
	return db.List("finals", db.Rows(s.db.Query(ctx, `SELECT r.study_uid, r.facility_id, v.author, v.modality, v.signed_at FROM report_version v
		JOIN report r ON r.id = v.report_id WHERE v.kind = ? AND v.signed_at >= ? AND v.signed_at < ? ORDER BY v.signed_at`,
		string(KindFinal), db.Now(from), db.Now(to))), func(r db.Scanner) (Signed, error) {
		var f Signed
		var at string
		err := r.Scan(&f.StudyUID, &f.FacilityID, &f.Author, &f.Modality, &at)
		f.SignedAt, _ = db.ParseTime(at)
		return f, err
	})
}
