package audit

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
)

// PatientQuery asks who accessed one patient's records since a date (the
// privacy officer's question, 45 CFR 164.528 accounting of disclosures).
type PatientQuery struct {
	Issuer, PatientID string
	Since             time.Time
	Until             time.Time // exclusive; zero: no bound
}

// ParsePatientQuery reads issuer and patient_id (or patient=issuer|id,
// FHIR style), since (YYYY-MM-DD, default six months before now) and until
// (YYYY-MM-DD, inclusive: up to the end of that UTC day).
func ParsePatientQuery(q url.Values, now time.Time) (PatientQuery, error) {
	pq := PatientQuery{Issuer: q.Get("issuer"), PatientID: q.Get("patient_id"), Since: now.AddDate(0, -6, 0)}
	if v := q.Get("patient"); v != "" {
		pq.Issuer, pq.PatientID, _ = strings.Cut(v, "|")
	}
	if pq.Issuer == "" || pq.PatientID == "" {
		return pq, errors.New("issuer and patient_id (or patient=issuer|id) are required")
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return pq, errors.New("since must be YYYY-MM-DD")
		}
		pq.Since = t
	}
	if v := q.Get("until"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return pq, errors.New("until must be YYYY-MM-DD")
		}
		pq.Until = t.AddDate(0, 0, 1)
	}
	if !pq.Until.IsZero() && !pq.Since.Before(pq.Until) {
		return pq, errors.New("since must not be after until")
	}
	return pq, nil
}

// Answer runs the query for by (the read is itself audited).
func (q PatientQuery) Answer(ctx context.Context, l *Logger, by Actor) ([]Event, error) {
	return l.AccessesToPatient(ctx, by, q.Issuer, q.PatientID, q.Since, q.Until)
}
