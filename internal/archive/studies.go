package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lightbox/internal/db"
	"lightbox/internal/scope"
)

// StudyRecord is a stored study with its patient: what the worklist,
// reports and audit need to know about it.
type StudyRecord struct {
	PK             int64
	UID            string
	FacilityID     string
	Accession      string
	StudyID        string
	Modalities     string // backslash-separated
	ProcedureCode  string
	Priority       string // DICOM Requested Procedure Priority as received
	BodyPart       string
	StudyDate      string // YYYYMMDD
	StudyTime      string
	Description    string
	Series         int
	Instances      int
	LastInstanceAt string // db.Now format
	Patient        Patient
}

const studyRecordCols = `s.pk, s.study_uid, s.facility_id, s.accession, s.study_id, s.modalities, s.procedure_code, s.priority, s.body_part,
	s.study_date, s.study_time, s.description, s.num_series, s.num_instances, s.last_instance_at,
	p.pk, p.issuer, p.patient_id, p.name, p.birth_date, p.sex`

func scanStudyRecord(sc interface{ Scan(...any) error }, extra ...any) (StudyRecord, error) {
	var s StudyRecord
	dest := []any{&s.PK, &s.UID, &s.FacilityID, &s.Accession, &s.StudyID, &s.Modalities, &s.ProcedureCode, &s.Priority, &s.BodyPart,
		&s.StudyDate, &s.StudyTime, &s.Description, &s.Series, &s.Instances, &s.LastInstanceAt,
		&s.Patient.PK, &s.Patient.Issuer, &s.Patient.ID, &s.Patient.Name, &s.Patient.BirthDate, &s.Patient.Sex}
	err := sc.Scan(append(dest, extra...)...)
	return s, err
}

// Study returns a stored study with its patient, or an error wrapping
// ErrNotFound.
func Study(ctx context.Context, x db.Execer, studyUID string) (StudyRecord, error) {
	s, err := scanStudyRecord(x.QueryRow(ctx, "SELECT "+studyRecordCols+" FROM study s JOIN patient p ON p.pk = s.patient_pk WHERE s.study_uid = ?", studyUID))
	if errors.Is(err, sql.ErrNoRows) {
		return StudyRecord{}, fmt.Errorf("study %s: %w", studyUID, ErrNotFound)
	}
	if err != nil {
		return StudyRecord{}, fmt.Errorf("study %s: %w", studyUID, err)
	}
	return s, nil
}

// Unread selects studies for the reading worklist's admission: at most
// Limit of them, oldest last instance first.
type Unread struct {
	// QuietBefore keeps studies whose last instance arrived before it (db.Now
	// format); StudyUID, when set instead, keeps that one study.
	QuietBefore, StudyUID string
	// Skip is a condition on the study aliased s, a constant supplied by
	// the package that owns the table it reads: the worklist leaves out
	// the studies it already holds (dispatch.NotOnWorklist), in the same
	// query so the limit counts only studies still to admit. The owner of
	// the worklist decides what is on it; the archive never names its
	// table.
	Skip  string
	Limit int
}

// UnreadStudies returns the studies f selects, with their patients.
func UnreadStudies(ctx context.Context, x db.Execer, f Unread) ([]StudyRecord, error) {
	cond, arg := "s.last_instance_at < ?", f.QuietBefore
	if f.StudyUID != "" {
		cond, arg = "s.study_uid = ?", f.StudyUID
	}
	if f.Skip != "" {
		cond += " AND " + f.Skip
	}
	out, err := studies(ctx, x, cond+" ORDER BY s.last_instance_at LIMIT "+strconv.Itoa(f.Limit), arg)
	if err != nil {
		return nil, fmt.Errorf("unread studies: %w", err)
	}
	return out, nil
}

// studies runs a query over study and patient (aliased s and p) with the
// condition and order in where.
func studies(ctx context.Context, x db.Execer, where string, args ...any) ([]StudyRecord, error) {
	return db.Collect(db.Rows(x.Query(ctx, "SELECT "+studyRecordCols+" FROM study s JOIN patient p ON p.pk = s.patient_pk WHERE "+where, args...)),
		func(sc db.Scanner) (StudyRecord, error) { return scanStudyRecord(sc) })
}

// SOPClasses lists the distinct SOP Classes stored for a study.
func SOPClasses(ctx context.Context, x db.Execer, studyUID string) ([]string, error) {
	out, err := db.Strings(x.Query(ctx, `SELECT DISTINCT i.sop_class FROM instance i JOIN series se ON se.pk = i.series_pk JOIN study st ON st.pk = se.study_pk
		WHERE st.study_uid = ? ORDER BY i.sop_class`, studyUID))
	if err != nil {
		return nil, fmt.Errorf("sop classes: %w", err)
	}
	return out, nil
}

// StudySearch selects studies for FHIR ImagingStudy: every set field must
// match, and the study must be in Scope.
type StudySearch struct {
	PK        int64  // 0: any study
	PatientPK *int64 // nil: any patient
	UID       string
	Accession string
	// Dates are conditions on the Study Date: an operator (=, <, <=, >, >=)
	// and a YYYYMMDD date.
	Dates []DateBound
	Scope scope.Scope
	Limit int
}

// DateBound is one condition on the Study Date.
type DateBound struct{ Op, Date string }

// SearchStudies returns the studies s selects, newest first.
func SearchStudies(ctx context.Context, x db.Execer, s StudySearch) ([]StudyRecord, error) {
	if s.Scope.Empty() {
		return nil, nil
	}
	where, args := []string{"1 = 1"}, []any{}
	add := func(cond string, arg any) { where, args = append(where, cond), append(args, arg) }
	if s.PK != 0 {
		add("s.pk = ?", s.PK)
	}
	if s.PatientPK != nil {
		add("s.patient_pk = ?", *s.PatientPK)
	}
	if s.UID != "" {
		add("s.study_uid = ?", s.UID)
	}
	if s.Accession != "" {
		add("s.accession = ?", s.Accession)
	}
	for _, d := range s.Dates {
		switch d.Op {
		case "=", "<", "<=", ">", ">=":
		default:
			return nil, fmt.Errorf("study search: date operator %q", d.Op)
		}
		add("s.study_date "+d.Op+" ?", d.Date)
	}
	clause, cargs := s.Scope.Clause("s")
	out, err := studies(ctx, x, strings.Join(where, " AND ")+clause+" ORDER BY s.study_date DESC, s.study_time DESC, s.pk DESC LIMIT "+strconv.Itoa(s.Limit),
		append(args, cargs...)...)
	if err != nil {
		return nil, fmt.Errorf("study search: %w", err)
	}
	return out, nil
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }
