package order

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/db"
)

// StepFilter selects scheduled procedure steps for a Modality Worklist query.
// Empty fields match everything; FacilityIDs nil = all facilities.
type StepFilter struct {
	FacilityIDs []string
	StationAE   string
	Modality    string
	From, To    time.Time // scheduled start range (inclusive); zero = open
	Issuer      string
	PatientID   string
	Accession   string
	StudyUID    string
	Limit       int // default 500
}

// ScheduledSteps returns scheduled orders matching f, by scheduled time.
func (s *Service) ScheduledSteps(ctx context.Context, f StepFilter) ([]Order, error) {
	var w db.Where
	w.Add("status = ?", string(StatusScheduled))
	if f.FacilityIDs != nil {
		w.In("facility_id", f.FacilityIDs)
	}
	w.Eq("station_ae", f.StationAE)
	w.Eq("modality", f.Modality)
	if !f.From.IsZero() {
		w.Add("scheduled_at >= ?", db.Now(f.From))
	}
	if !f.To.IsZero() {
		w.Add("scheduled_at <= ?", db.Now(f.To))
	}
	w.Eq("issuer", f.Issuer)
	w.Eq("patient_id", f.PatientID)
	w.Eq("accession", f.Accession)
	w.Eq("study_uid", f.StudyUID)
	return s.list(ctx, "SELECT "+orderCols+" FROM orders"+w.String()+" ORDER BY scheduled_at, id LIMIT ?", append(w.Args(), limitOr(f.Limit, 500))...)
}

// Query selects orders for search (FHIR, UI). Empty fields match everything.
type Query struct {
	FacilityIDs []string // nil = all facilities
	Accession   string
	Issuer      string
	PatientID   string
	PatientPK   int64
	Status      []Status
	Limit       int // default 100
}

// Find returns orders matching q, newest first.
func (s *Service) Find(ctx context.Context, qr Query) ([]Order, error) {
	var w db.Where
	if qr.FacilityIDs != nil {
		w.In("facility_id", qr.FacilityIDs)
	}
	w.Eq("accession", qr.Accession)
	w.Eq("issuer", qr.Issuer)
	w.Eq("patient_id", qr.PatientID)
	if qr.PatientPK != 0 {
		w.Add("patient_pk = ?", qr.PatientPK)
	}
	if len(qr.Status) > 0 {
		st := make([]string, len(qr.Status))
		for i, x := range qr.Status {
			st[i] = string(x)
		}
		w.In("status", st)
	}
	return s.list(ctx, "SELECT "+orderCols+" FROM orders"+w.String()+" ORDER BY created_at DESC, id LIMIT ?", append(w.Args(), limitOr(qr.Limit, 100))...)
}

// limitOr is n, or def when n is unset.
func limitOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// StepKey identifies the order an MPPS refers to: the study UID, or the
// facility and accession number.
type StepKey struct {
	StudyUID   string
	FacilityID string
	Accession  string
}

func (s *Service) resolve(ctx context.Context, k StepKey) (Order, error) {
	if k.StudyUID != "" {
		o, err := getOrder(ctx, s.DB, "study_uid = ? ORDER BY created_at DESC LIMIT 1", k.StudyUID)
		if err == nil || !errors.Is(err, ErrNotFound) || k.Accession == "" {
			return o, err
		}
	}
	if k.Accession != "" {
		if k.FacilityID != "" {
			return getOrder(ctx, s.DB, "facility_id = ? AND accession = ?", k.FacilityID, k.Accession)
		}
		return getOrder(ctx, s.DB, "accession = ? ORDER BY created_at DESC LIMIT 1", k.Accession)
	}
	return Order{}, ErrNotFound
}

// MPPSInProgress records T1 (MPPS N-CREATE "IN PROGRESS") at time at.
func (s *Service) MPPSInProgress(ctx context.Context, k StepKey, at time.Time) (Order, error) {
	o, err := s.resolve(ctx, k)
	if err != nil {
		return Order{}, fmt.Errorf("order: mpps in progress: %w", err)
	}
	return s.transition(ctx, o.ID, []Status{StatusRequested, StatusProtocolPending, StatusScheduled}, StatusInProgress, "mpps", "", at,
		func(tx *db.Tx, o *Order) error {
			if o.StudyUID == "" && k.StudyUID != "" {
				if _, err := tx.Exec(ctx, "UPDATE orders SET study_uid = ? WHERE id = ?", k.StudyUID, o.ID); err != nil {
					return fmt.Errorf("order: set study uid: %w", err)
				}
				o.StudyUID = k.StudyUID
			}
			return nil
		})
}

// MPPSCompleted records T2 (MPPS N-SET "COMPLETED").
func (s *Service) MPPSCompleted(ctx context.Context, k StepKey, at time.Time) (Order, error) {
	o, err := s.resolve(ctx, k)
	if err != nil {
		return Order{}, fmt.Errorf("order: mpps completed: %w", err)
	}
	return s.transition(ctx, o.ID, []Status{StatusInProgress, StatusScheduled}, StatusCompleted, "mpps", "", at, nil)
}

// MPPSDiscontinued records an MPPS "DISCONTINUED".
func (s *Service) MPPSDiscontinued(ctx context.Context, k StepKey, at time.Time, reason string) (Order, error) {
	o, err := s.resolve(ctx, k)
	if err != nil {
		return Order{}, fmt.Errorf("order: mpps discontinued: %w", err)
	}
	return s.transition(ctx, o.ID, []Status{StatusInProgress}, StatusDiscontinued, "mpps", reason, at, nil)
}

// Demographics are a received study's patient attributes.
type Demographics = Patient

// Reconciliation is the outcome of Reconcile.
type Reconciliation struct {
	Matched     bool
	OrderID     string   // the matched order, or the candidate of an unmatched row
	UnmatchedID int64    // set when not matched
	Mismatches  []string // fields that differ: patient_id, issuer, name, birth_date, sex, study_uid
}

// Unmatched is a row of the reconciliation queue.
type Unmatched struct {
	ID               int64
	FacilityID       string
	Accession        string
	StudyUID         string
	Patient          Patient
	CandidateOrderID string
	Mismatches       []string
	Status           string // open, attached
	AttachedOrderID  string
	CreatedAt        time.Time
}

// Reconcile matches a received study with an order: by facility and
// accession, else by study UID. A match whose demographics or study UID
// differ is not applied: the study goes to the unmatched queue with the
// candidate order and the differing fields. A clean match sets the order's
// study UID when it had none. Calling it again for the same study is
// harmless (an open unmatched row is reused).
func (s *Service) Reconcile(ctx context.Context, facilityID, accession, studyUID string, d Demographics) (Reconciliation, error) {
	if studyUID == "" {
		return Reconciliation{}, &ValidationError{"StudyUID", "required"}
	}
	if d.Issuer == "" {
		d.Issuer = facilityID
	}
	var o Order
	var err error
	if accession != "" {
		o, err = getOrder(ctx, s.DB, "facility_id = ? AND accession = ?", facilityID, accession)
	} else {
		err = ErrNotFound
	}
	if errors.Is(err, ErrNotFound) {
		o, err = getOrder(ctx, s.DB, "facility_id = ? AND study_uid = ?", facilityID, studyUID)
	}
	var res Reconciliation
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return res, fmt.Errorf("order: reconcile: %w", err)
	default:
		res.OrderID = o.ID
		if d.ID != "" && d.ID != o.Patient.ID {
			res.Mismatches = append(res.Mismatches, "patient_id")
		}
		if d.ID != "" && d.Issuer != o.Patient.Issuer {
			res.Mismatches = append(res.Mismatches, "issuer")
		}
		for _, c := range diffDemographics(o.Patient, d) {
			res.Mismatches = append(res.Mismatches, c.field)
		}
		if o.StudyUID != "" && o.StudyUID != studyUID {
			res.Mismatches = append(res.Mismatches, "study_uid")
		}
	}
	if res.OrderID != "" && len(res.Mismatches) == 0 {
		res.Matched = true
		if o.StudyUID == "" {
			if _, err := s.DB.Exec(ctx, "UPDATE orders SET study_uid = ?, updated_at = ? WHERE id = ? AND study_uid = ''", studyUID, db.Now(s.now()), o.ID); err != nil {
				return res, fmt.Errorf("order: reconcile: %w", err)
			}
		}
		return res, nil
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		var pk int64
		err := tx.QueryRow(ctx, "SELECT pk FROM order_unmatched WHERE facility_id = ? AND study_uid = ? AND status = 'open'", facilityID, studyUID).Scan(&pk)
		if err == nil {
			res.UnmatchedID = pk
			_, err = tx.Exec(ctx, "UPDATE order_unmatched SET candidate_order_id = ?, mismatches = ? WHERE pk = ?", res.OrderID, strings.Join(res.Mismatches, ","), pk)
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO order_unmatched (facility_id, accession, study_uid, issuer, patient_id, patient_name, birth_date, sex,
			candidate_order_id, mismatches, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)`,
			facilityID, accession, studyUID, d.Issuer, d.ID, d.Name, d.BirthDate, d.Sex, res.OrderID, strings.Join(res.Mismatches, ","), db.Now(s.now())); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT pk FROM order_unmatched WHERE facility_id = ? AND study_uid = ? AND status = 'open'", facilityID, studyUID).Scan(&res.UnmatchedID)
	})
	if err != nil {
		return res, fmt.Errorf("order: reconcile: queue unmatched: %w", err)
	}
	s.log().Info("order: study queued for reconciliation", "unmatched_id", res.UnmatchedID, "candidate_order_id", res.OrderID, "mismatches", strings.Join(res.Mismatches, ","))
	return res, nil
}

// Unmatched lists open reconciliation rows for the facilities (nil = all).
func (s *Service) Unmatched(ctx context.Context, facilityIDs []string) ([]Unmatched, error) {
	q := `SELECT pk, facility_id, accession, study_uid, issuer, patient_id, patient_name, birth_date, sex, candidate_order_id, mismatches, status,
		attached_order_id, created_at FROM order_unmatched`
	var w db.Where
	w.Add("status = 'open'")
	if facilityIDs != nil {
		w.In("facility_id", facilityIDs)
	}
	return db.List("order: unmatched", db.Rows(s.DB.Query(ctx, q+w.String()+" ORDER BY pk", w.Args()...)), func(sc db.Scanner) (Unmatched, error) {
		var u Unmatched
		var mm, created string
		err := sc.Scan(&u.ID, &u.FacilityID, &u.Accession, &u.StudyUID, &u.Patient.Issuer, &u.Patient.ID, &u.Patient.Name, &u.Patient.BirthDate,
			&u.Patient.Sex, &u.CandidateOrderID, &mm, &u.Status, &u.AttachedOrderID, &created)
		if mm != "" {
			u.Mismatches = strings.Split(mm, ",")
		}
		u.CreatedAt = db.ParseOptional(created)
		return u, err
	})
}

// Attach resolves an unmatched row by linking its study to an order (a
// coordinator's decision): the order's study UID is set; demographics are
// not changed.
func (s *Service) Attach(ctx context.Context, unmatchedID int64, orderID, actor string) error {
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		var studyUID, facilityID, status string
		if err := tx.QueryRow(ctx, "SELECT study_uid, facility_id, status FROM order_unmatched WHERE pk = ?", unmatchedID).Scan(&studyUID, &facilityID, &status); err != nil {
			return fmt.Errorf("unmatched %d: %w", unmatchedID, ErrNotFound)
		}
		if status != "open" {
			return fmt.Errorf("unmatched %d is %s: %w", unmatchedID, status, ErrTransition)
		}
		o, err := getOrder(ctx, tx, "id = ?", orderID)
		if err != nil {
			return err
		}
		if o.FacilityID != facilityID {
			return fmt.Errorf("order %s belongs to another facility: %w", orderID, ErrTransition)
		}
		now := db.Now(s.now())
		if _, err := tx.Exec(ctx, "UPDATE orders SET study_uid = ?, updated_at = ? WHERE id = ?", studyUID, now, orderID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE order_unmatched SET status = 'attached', attached_order_id = ?, resolved_by = ?, resolved_at = ? WHERE pk = ?",
			orderID, actor, now, unmatchedID); err != nil {
			return err
		}
		return s.event(ctx, tx, orderID, o.Status, o.Status, actor, "study attached by reconciliation", time.Time{})
	})
	if err != nil {
		return fmt.Errorf("order: attach: %w", err)
	}
	s.log().Info("order: study attached", "unmatched_id", unmatchedID, "order_id", orderID)
	return nil
}

// UpdatePatient applies a patient update (ADT^A08/A31): stored demographics
// are replaced by the non-empty new values and every differing value is
// flagged in patient_conflict. It returns the flagged field names.
func (s *Service) UpdatePatient(ctx context.Context, p Patient, source string) ([]string, error) {
	if p.Issuer == "" || p.ID == "" {
		return nil, &ValidationError{"Patient.ID", "required"}
	}
	var fields []string
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		row, err := archive.PatientByID(ctx, tx, p.Issuer, p.ID)
		if errors.Is(err, archive.ErrNotFound) {
			_, err = archive.EnsurePatient(ctx, tx, archive.Patient{Issuer: p.Issuer, ID: p.ID, Name: p.Name, BirthDate: p.BirthDate, Sex: p.Sex}, now)
			return err
		}
		if err != nil {
			return err
		}
		old := Patient{Name: row.Name, BirthDate: row.BirthDate, Sex: row.Sex}
		for _, c := range diffDemographics(old, p) {
			fields = append(fields, c.field)
			if err := flagConflict(ctx, tx, row.PK, c, source, db.Now(now)); err != nil {
				return err
			}
		}
		pick := func(n, o string) string {
			if n != "" {
				return n
			}
			return o
		}
		return archive.SetDemographics(ctx, tx, row.PK, pick(p.Name, old.Name), pick(p.BirthDate, old.BirthDate), pick(p.Sex, old.Sex), now)
	})
	if err != nil {
		return nil, fmt.Errorf("order: patient update: %w", err)
	}
	return fields, nil
}

// PatientRecord is a patient row.
type PatientRecord struct {
	PK int64
	Patient
}

// FindPatients returns patient rows by identifier, restricted to patients
// with an order or study in facilityIDs (nil = all).
func (s *Service) FindPatients(ctx context.Context, issuer, patientID string, facilityIDs []string) ([]PatientRecord, error) {
	return s.patients(ctx, archive.PatientFilter{Issuer: issuer, ID: patientID, Facilities: facilityIDs})
}

// PatientByPK returns one patient row if it has an order or a study in the
// facilities (nil = all).
func (s *Service) PatientByPK(ctx context.Context, pk int64, facilityIDs []string) (PatientRecord, error) {
	ps, err := s.patients(ctx, archive.PatientFilter{PK: pk, Facilities: facilityIDs})
	if err != nil {
		return PatientRecord{}, err
	}
	if len(ps) == 0 {
		return PatientRecord{}, ErrNotFound
	}
	return ps[0], nil
}

func (s *Service) patients(ctx context.Context, f archive.PatientFilter) ([]PatientRecord, error) {
	rows, err := archive.FindPatients(ctx, s.DB, f)
	if err != nil {
		return nil, fmt.Errorf("order: %w", err)
	}
	out := make([]PatientRecord, 0, len(rows))
	for _, p := range rows {
		out = append(out, PatientRecord{PK: p.PK, Patient: Patient{Issuer: p.Issuer, ID: p.ID, Name: p.Name, BirthDate: p.BirthDate, Sex: p.Sex}})
	}
	return out, nil
}
