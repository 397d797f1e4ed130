package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"lightbox/internal/db"
)

// Patient is a patient row. Orders (ADT/ORM) and images both file patients,
// and the archive owns the table, so order reads and writes it through
// these functions, inside its own transaction when it passes one.
type Patient struct {
	PK        int64
	Issuer    string
	ID        string
	Name      string // DICOM-style Family^Given^Middle
	BirthDate string // YYYYMMDD
	Sex       string
}

// EnsurePatient creates the patient (issuer, ID) with p's demographics
// unless it exists, and returns the stored row: an existing patient's
// demographics are never overwritten here.
func EnsurePatient(ctx context.Context, x db.Execer, p Patient, now time.Time) (Patient, error) {
	ts := db.Now(now)
	if _, err := x.Exec(ctx, `INSERT INTO patient (issuer, patient_id, name, birth_date, sex, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (issuer, patient_id) DO NOTHING`, p.Issuer, p.ID, p.Name, p.BirthDate, p.Sex, ts, ts); err != nil {
		return Patient{}, fmt.Errorf("patient upsert: %w", err)
	}
	return PatientByID(ctx, x, p.Issuer, p.ID)
}

// PatientByID returns the patient (issuer, ID), or an error wrapping
// ErrNotFound.
func PatientByID(ctx context.Context, x db.Execer, issuer, id string) (Patient, error) {
	p := Patient{Issuer: issuer, ID: id}
	err := x.QueryRow(ctx, "SELECT pk, name, birth_date, sex FROM patient WHERE issuer = ? AND patient_id = ?", issuer, id).Scan(&p.PK, &p.Name, &p.BirthDate, &p.Sex)
	if errors.Is(err, sql.ErrNoRows) {
		return Patient{}, fmt.Errorf("patient: %w", ErrNotFound)
	}
	if err != nil {
		return Patient{}, fmt.Errorf("patient lookup: %w", err)
	}
	return p, nil
}

// SetDemographics replaces a patient's name, birth date and sex.
func SetDemographics(ctx context.Context, x db.Execer, pk int64, name, birthDate, sex string, now time.Time) error {
	if _, err := x.Exec(ctx, "UPDATE patient SET name = ?, birth_date = ?, sex = ?, updated_at = ? WHERE pk = ?", name, birthDate, sex, db.Now(now), pk); err != nil {
		return fmt.Errorf("patient update: %w", err)
	}
	return nil
}

// PatientFilter selects patients: by PK, or by patient ID (and issuer when
// set). Facilities, when not nil, keeps only patients with an order or a
// study at one of them.
type PatientFilter struct {
	PK         int64
	Issuer, ID string
	Facilities []string
}

// FindPatients returns at most 100 patients matching f, in PK order.
func FindPatients(ctx context.Context, x db.Execer, f PatientFilter) ([]Patient, error) {
	q := "SELECT p.pk, p.issuer, p.patient_id, p.name, p.birth_date, p.sex FROM patient p WHERE "
	var args []any
	if f.PK != 0 {
		q += "p.pk = ?"
		args = append(args, f.PK)
	} else {
		q += "p.patient_id = ?"
		args = append(args, f.ID)
		if f.Issuer != "" {
			q += " AND p.issuer = ?"
			args = append(args, f.Issuer)
		}
	}
	if f.Facilities != nil {
		in := "('')" // an empty scope matches nothing
		if len(f.Facilities) > 0 {
			in = "(" + strings.TrimSuffix(strings.Repeat("?, ", len(f.Facilities)), ", ") + ")"
		}
		q += " AND (EXISTS (SELECT 1 FROM orders o WHERE o.patient_pk = p.pk AND o.facility_id IN " + in +
			") OR EXISTS (SELECT 1 FROM study s WHERE s.patient_pk = p.pk AND s.facility_id IN " + in + "))"
		for range 2 {
			for _, v := range f.Facilities {
				args = append(args, v)
			}
		}
	}
	out, err := db.Collect(db.Rows(x.Query(ctx, q+" ORDER BY p.pk LIMIT 100", args...)), func(sc db.Scanner) (p Patient, err error) {
		return p, sc.Scan(&p.PK, &p.Issuer, &p.ID, &p.Name, &p.BirthDate, &p.Sex)
	})
	if err != nil {
		return nil, fmt.Errorf("find patients: %w", err)
	}
	return out, nil
}
