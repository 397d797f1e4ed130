package archive

import (
	"context"
	"errors"
	"fmt"
	"lightbox/internal/db"
	facilitypkg "lightbox/internal/facility"
)

// ForeignPolicy decides what happens to an instance whose patient belongs to
// another facility's patient namespace.
type ForeignPolicy string

// Foreign-patient policies: Reject refuses the instance (C-STORE 0x0124,
// STOW-RS failure); Quarantine keeps its bytes for a coordinator without
// indexing it and answers success, so a modality does not retry forever.
const (
	RejectForeign     ForeignPolicy = "reject"
	QuarantineForeign ForeignPolicy = "quarantine"
)

// ParseForeignPolicy validates a --foreign-patients value.
func ParseForeignPolicy(s string) (ForeignPolicy, error) {
	switch p := ForeignPolicy(s); p {
	case RejectForeign, QuarantineForeign:
		return p, nil
	case "":
		return RejectForeign, nil
	}
	return "", fmt.Errorf("unknown foreign-patient policy %q (want reject or quarantine)", s)
}

// Quarantined is the outcome of an instance kept under QuarantineForeign.
const Quarantined Outcome = "quarantined"

// ErrForeignPatient means an instance or message names a patient in another
// facility's namespace: a sender's data may only land in its own.
var ErrForeignPatient = errors.New("the patient's issuer belongs to another facility")

// CheckPatientNamespace decides whether facility may file a patient under
// (issuer, patientID). An issuer belongs to the facilities whose ID or
// Issuer of Patient ID it is; a facility may use its own issuers, never
// another's. An issuer nobody registered may be used unless that patient
// already has studies or orders at another facility (else the new data would
// be linked to, and show, another facility's demographics). It returns an
// error wrapping ErrForeignPatient when the patient is foreign.
func CheckPatientNamespace(ctx context.Context, q db.Execer, facility, issuer, patientID string) error {
	if facility == "" || facility == UnknownFacility {
		return nil // visible to administrators only; nobody else's namespace is reached
	}
	own, other, err := facilitypkg.IssuerOwners(ctx, q, facility, issuer)
	if err != nil {
		return fmt.Errorf("patient namespace: %w", err)
	}
	if own > 0 {
		return nil
	}
	if other > 0 {
		return fmt.Errorf("%w (issuer %s)", ErrForeignPatient, issuer)
	}
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM patient p WHERE p.issuer = ? AND p.patient_id = ? AND (
		EXISTS (SELECT 1 FROM study s WHERE s.patient_pk = p.pk AND s.facility_id NOT IN (?, ?))
		OR EXISTS (SELECT 1 FROM orders o WHERE o.patient_pk = p.pk AND o.facility_id <> ?))`,
		issuer, patientID, facility, UnknownFacility, facility).Scan(&n); err != nil {
		return fmt.Errorf("patient namespace: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("%w (issuer %s is shared with another facility's patient)", ErrForeignPatient, issuer)
	}
	return nil
}

// CrossLink is a patient linked to studies or orders of several facilities.
type CrossLink struct {
	PatientPK  int64
	Issuer     string
	Facilities int
}

// CrossLinks lists patients whose studies and orders span several
// facilities: data filed into another facility's namespace before the
// namespace rule existed. The start-up audit reports them.
func (a *Archive) CrossLinks(ctx context.Context) ([]CrossLink, error) {
	out, err := db.Collect(db.Rows(a.db.Query(ctx, `SELECT p.pk, p.issuer, COUNT(DISTINCT f.facility_id) FROM patient p JOIN (
		SELECT patient_pk, facility_id FROM study WHERE facility_id <> ?
		UNION SELECT patient_pk, facility_id FROM orders WHERE patient_pk IS NOT NULL) f ON f.patient_pk = p.pk
		GROUP BY p.pk, p.issuer HAVING COUNT(DISTINCT f.facility_id) > 1 ORDER BY p.pk`, UnknownFacility)), func(sc db.Scanner) (CrossLink, error) {
		var c CrossLink
		if err := sc.Scan(&c.PatientPK, &c.Issuer, &c.Facilities); err != nil {
			return CrossLink{}, err
		}
		return c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("cross-linked patients: %w", err)
	}
	return out, nil
}
