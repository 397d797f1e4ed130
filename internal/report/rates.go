package report

import (
	"context"
	"time"

	"lightbox/internal/db"
)

// DiscrepancyRate is one facility's prelim→final discrepancy rate over a
// period. The denominator is the finals signed over a preliminary read of
// the same report; a final counts as discrepant when Sign recorded a
// Discrepancy for it: its normalised impression differs from the prelim's,
// or its signer flagged it (docs/domain.md §5 CR4). Findings-only edits
// with the same impression are not counted, and addenda are not compared:
// the impression is what the ordering clinician acted on.
type DiscrepancyRate struct {
	FacilityID        string  `json:"facility_id"`
	FinalsOverPrelim  int     `json:"finals_over_prelim"`
	Discrepant        int     `json:"discrepant"`
	ImpressionChanged int     `json:"impression_changed"`
	Flagged           int     `json:"flagged"`
	Communicated      int     `json:"prelim_communicated"` // discrepant prelims the clinician had already been told
	Percent           float64 `json:"percent"`             // Discrepant / FinalsOverPrelim × 100
}

// DiscrepancyRates computes the rates per facility for finals signed in
// [from, to), ordered by facility.
func (s *Service) DiscrepancyRates(ctx context.Context, from, to time.Time) ([]DiscrepancyRate, error) {
	return db.List("report: discrepancy rates", db.Rows(s.db.Query(ctx, `SELECT r.facility_id, COUNT(*),
		SUM(CASE WHEN d.pk IS NULL THEN 0 ELSE 1 END), SUM(COALESCE(d.impression_changed, 0)),
		SUM(COALESCE(d.flagged, 0)), SUM(COALESCE(d.prelim_communicated, 0))
		FROM report_version v JOIN report r ON r.id = v.report_id
		LEFT JOIN report_discrepancy d ON d.report_id = v.report_id AND d.final_seq = v.seq
		WHERE v.kind = ? AND v.signed_at >= ? AND v.signed_at < ?
		AND EXISTS (SELECT 1 FROM report_version p WHERE p.report_id = v.report_id AND p.kind = ? AND p.seq < v.seq)
		GROUP BY r.facility_id ORDER BY r.facility_id`,
		string(KindFinal), db.Now(from), db.Now(to), string(KindPrelim))), func(r db.Scanner) (DiscrepancyRate, error) {
		var d DiscrepancyRate
		err := r.Scan(&d.FacilityID, &d.FinalsOverPrelim, &d.Discrepant, &d.ImpressionChanged, &d.Flagged, &d.Communicated)
		if d.FinalsOverPrelim > 0 {
			d.Percent = float64(int(float64(d.Discrepant)*1000/float64(d.FinalsOverPrelim)+0.5)) / 10
		}
		return d, err
	})
}
