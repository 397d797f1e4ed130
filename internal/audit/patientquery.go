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
}

// ParsePatientQuery reads issuer and patient_id (or patient=issuer|id,
// FHIR style) and since (YYYY-MM-DD, default six months before now).
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
	return pq, nil
}

// Answer runs the query for by (the read is itself audited).
func (q PatientQuery) Answer(ctx context.Context, l *Logger, by Actor) ([]Event, error) {
	return l.AccessesToPatient(ctx, by, q.Issuer, q.PatientID, q.Since, time.Time{})
}
