package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/db"
	"lightbox/internal/scope"
)

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.opt.Now() }

// StudyFacility returns the facility of a study the scope may see. A
// study outside the scope, or (for a referring clinician) one they did not
// order, is ErrUnknownStudy: as if it did not exist.
func (s *Service) StudyFacility(ctx context.Context, studyUID string, sc scope.Scope) (string, error) {
	rec, err := archive.Study(ctx, s.db, studyUID)
	if errors.Is(err, archive.ErrNotFound) {
		return "", ErrUnknownStudy
	}
	if err != nil {
		return "", fmt.Errorf("report: study scope: %w", err)
	}
	if !sc.AllowsFacility(rec.FacilityID) {
		return "", ErrUnknownStudy
	}
	if sc.Clinician != "" {
		ok, err := s.opt.Orders.OrderedBy(ctx, rec.FacilityID, rec.Accession, sc.Clinician)
		if err != nil {
			return "", fmt.Errorf("report: study scope: %w", err)
		}
		if !ok || rec.Accession == "" {
			return "", ErrUnknownStudy
		}
	}
	return rec.FacilityID, nil
}

// ByID returns the study and facility of the report with this ID
// (ErrNotFound when there is none).
func (s *Service) ByID(ctx context.Context, id string) (studyUID, facilityID string, err error) {
	err = s.db.QueryRow(ctx, "SELECT study_uid, facility_id FROM report WHERE id = ?", id).Scan(&studyUID, &facilityID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return studyUID, facilityID, err
}

// Query selects reports (FHIR DiagnosticReport search and the like).
type Query struct {
	Scope      scope.Scope
	PatientPK  int64    // 0: any patient
	Identifier string   // accession or report ID ("": any)
	Statuses   []string // report statuses (nil: any)
	Limit      int
}

// ValidStatus reports whether st is a report status (Report.Status).
func ValidStatus(st string) bool {
	switch st {
	case StatusRegistered, StatusPreliminary, StatusFinal, StatusAmended, StatusAppended:
		return true
	}
	return false
}

// Find returns the study UIDs of the reports q selects, newest first.
func (s *Service) Find(ctx context.Context, q Query) ([]string, error) {
	if q.Scope.Empty() {
		return nil, nil
	}
	var w db.Where
	if clause, args := q.Scope.FacilityClause("facility_id", nil); clause != "" {
		w.Add(strings.TrimPrefix(clause, " AND "), args...)
	}
	if q.PatientPK != 0 {
		w.Add("patient_pk = ?", q.PatientPK)
	}
	if q.Identifier != "" {
		w.Add("(accession = ? OR id = ?)", q.Identifier, q.Identifier)
	}
	if len(q.Statuses) > 0 {
		w.In("status", q.Statuses)
	}
	uids, err := db.Strings(s.db.Query(ctx, "SELECT study_uid FROM report"+w.String()+" ORDER BY updated_at DESC, id LIMIT ?", append(w.Args(), q.Limit)...))
	if err != nil {
		return nil, fmt.Errorf("report: find: %w", err)
	}
	return uids, nil
}
