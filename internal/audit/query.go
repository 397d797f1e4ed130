package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/dcm"
)

// Filter selects events for Search. Zero fields do not filter. Results come
// newest first (descending seq); page with Before.
type Filter struct {
	UserID        string
	From, To      time.Time // event time, From inclusive, To exclusive
	EventIDs      []EventID
	StudyUID      string
	PatientIssuer string // with PatientID
	PatientID     string
	FacilityID    string
	Before        int64 // only seq < Before (the previous Page.Next); 0 = from the newest
	Limit         int   // default 100, at most 1000
}

// Page is one page of Search results.
type Page struct {
	Events []Event
	Next   int64 // pass as Filter.Before for the next page; 0 when there is no more
}

// Search returns events matching f, newest first. Reading the audit trail
// is itself audited: Search first records an Audit Log Used (110101) event
// for by, with the filter's user, patient and study as its subject, and
// fails without reading if that cannot be recorded. The 110101 event itself
// is not among the results.
func (l *Logger) Search(ctx context.Context, by Actor, f Filter) (Page, error) {
	if f.StudyUID != "" && !dcm.ValidUID(f.StudyUID) {
		return Page{}, fmt.Errorf("audit: invalid study instance UID %q", f.StudyUID)
	}
	var detail []string
	if f.UserID != "" {
		detail = append(detail, "user="+f.UserID)
	}
	for _, id := range f.EventIDs {
		detail = append(detail, "event="+string(id))
	}
	used := Event{EventID: AuditLogUsed, Action: Read, ObjectType: "audit-log", PatientIssuer: f.PatientIssuer,
		PatientID: f.PatientID, FacilityID: f.FacilityID, Detail: "search " + strings.Join(detail, " ")}.who(by)
	if f.StudyUID != "" {
		used.StudyUIDs = []string{f.StudyUID}
	}
	rec, err := l.recordAfterQueue(ctx, used)
	if err != nil {
		return Page{}, err
	}
	if f.Before == 0 || f.Before > rec.Seq {
		f.Before = rec.Seq
	}
	return search(ctx, l.DB, f)
}

// search runs the query without auditing it.
func search(ctx context.Context, d *db.DB, f Filter) (Page, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 {
		f.Limit = 1000
	}
	var w db.Where
	w.Eq("user_id", f.UserID)
	if !f.From.IsZero() {
		w.Add("event_time >= ?", db.Now(f.From))
	}
	if !f.To.IsZero() {
		w.Add("event_time < ?", db.Now(f.To))
	}
	if len(f.EventIDs) > 0 {
		ids := make([]string, len(f.EventIDs))
		for i, id := range f.EventIDs {
			ids[i] = string(id)
		}
		w.In("event_id", ids)
	}
	if f.StudyUID != "" {
		w.Add("seq IN (SELECT seq FROM audit_event_study WHERE study_uid = ?)", f.StudyUID)
	}
	if f.PatientID != "" {
		w.Add("patient_issuer = ? AND patient_id = ?", f.PatientIssuer, f.PatientID)
	}
	w.Eq("facility_id", f.FacilityID)
	if f.Before > 0 {
		w.Add("seq < ?", f.Before)
	}
	q := `SELECT ` + columns + ` FROM audit_event` + w.String() + fmt.Sprintf(` ORDER BY seq DESC LIMIT %d`, f.Limit+1)
	rows, err := d.Query(ctx, q, w.Args()...)
	if err != nil {
		return Page{}, fmt.Errorf("audit: search: %w", err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return Page{}, err
	}
	var p Page
	if len(evs) > f.Limit {
		evs = evs[:f.Limit]
		p.Next = evs[len(evs)-1].Seq
	}
	p.Events = evs
	return p, nil
}

// AccessesToPatient answers "who looked at this patient's record": every
// event naming the patient (accesses, queries, transfers, exports, record
// reads and changes, earlier audit-log reads) with event time in [from, to)
// — zero times leave that end open — oldest first. Each Event gives who
// (UserID, UserRole), when (Time), what (EventID, Action, StudyUIDs,
// ObjectType), from where (NetworkAddr, Interface) and Outcome.
//
// It records an Audit Log Used (110101) event for by, naming the patient,
// before reading, and fails if it cannot.
func (l *Logger) AccessesToPatient(ctx context.Context, by Actor, issuer, patientID string, from, to time.Time) ([]Event, error) {
	if patientID == "" {
		return nil, errors.New("audit: patient ID is required")
	}
	used := Event{EventID: AuditLogUsed, Action: Read, ObjectType: "audit-log", PatientIssuer: issuer, PatientID: patientID,
		Detail: "accesses-to-patient"}.who(by)
	rec, err := l.recordAfterQueue(ctx, used)
	if err != nil {
		return nil, err
	}
	var out []Event
	f := Filter{PatientIssuer: issuer, PatientID: patientID, From: from, To: to, Before: rec.Seq, Limit: 1000}
	for {
		p, err := search(ctx, l.DB, f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Events...)
		if p.Next == 0 {
			break
		}
		f.Before = p.Next
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// recordAfterQueue records a read of the trail after what is queued has
// committed, so the read sees every access submitted before it.
func (l *Logger) recordAfterQueue(ctx context.Context, used Event) (Event, error) {
	if err := l.Flush(ctx); err != nil {
		return Event{}, err
	}
	return l.record(ctx, used)
}
