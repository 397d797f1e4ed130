package critical

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"lightbox/internal/db"
)

// querier is *db.DB or *db.Tx.
type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

const resultCols = `id, facility_id, study_uid, accession, order_id, finding_code, finding_system, finding_text, category, category_label, colour, verbal,
identified_at, deadline_at, warn_at, step_ms, max_level, escalation_level, overdue_notified, next_due_at, state, communicator, communicator_name,
handed_off_to, handed_off_by, handed_off_at, recipient_name, recipient_role, recipient_callback, recipient_contact_id, method, communicated_at,
communicated_by, communicated_by_name, read_back, ack_at, ack_by, closed_at, closed_by, candidates, addendum_text, addendum_due_at, addendum_at,
addendum_tries, version`

func scanResult(r db.Scanner) (Result, error) {
	var x Result
	var verbal, overdue, readBack int
	var stepMS int64
	var identified, deadline, warn, nextDue, state, handedAt, method, commAt, ackAt, closedAt, cands, addDue, addAt string
	err := r.Scan(&x.ID, &x.FacilityID, &x.StudyUID, &x.Accession, &x.OrderID, &x.Finding.Code, &x.Finding.System, &x.Finding.Text, &x.Category,
		&x.CategoryLabel, &x.Colour, &verbal, &identified, &deadline, &warn, &stepMS, &x.maxLevel, &x.EscalationLevel, &overdue, &nextDue, &state,
		&x.Communicator, &x.CommunicatorName, &x.HandedOffTo, &x.HandedOffBy, &handedAt, &x.Recipient.Name, &x.Recipient.Role, &x.Recipient.Callback,
		&x.Recipient.ContactID, &method, &commAt, &x.CommunicatedBy, &x.communicatedByName, &readBack, &ackAt, &x.AckBy, &closedAt, &x.ClosedBy,
		&cands, &x.AddendumText, &addDue, &addAt, &x.addendumTries, &x.Version)
	if err != nil {
		return x, err
	}
	x.Verbal, x.overdueNotified, x.ReadBack = verbal != 0, overdue != 0, readBack != 0
	x.IdentifiedAt, x.DeadlineAt, x.warnAt, x.NextDueAt = db.ParseOptional(identified), db.ParseOptional(deadline), db.ParseOptional(warn), db.ParseOptional(nextDue)
	x.step = time.Duration(stepMS) * time.Millisecond
	x.State, x.Method = State(state), Method(method)
	x.HandedOffAt, x.CommunicatedAt, x.AckAt, x.ClosedAt = db.ParseOptional(handedAt), db.ParseOptional(commAt), db.ParseOptional(ackAt), db.ParseOptional(closedAt)
	x.addendumDue, x.AddendumAt = db.ParseOptional(addDue), db.ParseOptional(addAt)
	_ = json.Unmarshal([]byte(cands), &x.Candidates)
	return x, nil
}

func loadResult(ctx context.Context, q querier, id string) (Result, error) {
	r, err := scanResult(q.QueryRow(ctx, "SELECT "+resultCols+" FROM crit_result WHERE id = ?", id))
	return r, db.RowErr(err, ErrNotFound, "critical: load "+id)
}

// reached reports whether someone has been reached in a way that stops
// escalation: any documented communication, and for verbal categories a
// verbal one (an electronic receipt alone does not satisfy CR3).
func (r *Result) reached() bool {
	return !r.CommunicatedAt.IsZero() && (!r.Verbal || r.Method.Verbal())
}

// nextTimer is when the scheduler must next look at the loop: the next
// escalation while nobody has been reached, or the deadline (overdue
// notice, once). Zero when no timer is pending.
func (r *Result) nextTimer() time.Time {
	if !r.ClosedAt.IsZero() || r.reached() {
		return time.Time{}
	}
	var next time.Time
	if r.EscalationLevel < r.maxLevel {
		next = r.warnAt.Add(time.Duration(r.EscalationLevel) * r.step)
	}
	if !r.overdueNotified && (next.IsZero() || r.DeadlineAt.Before(next)) {
		next = r.DeadlineAt
	}
	return next
}

func (r *Result) deriveState() State {
	switch {
	case !r.ClosedAt.IsZero():
		return StateClosed
	case r.reached():
		return StateCommunicated
	case r.HandedOffTo != "":
		return StateHandedOff
	case r.EscalationLevel > 0:
		return StateEscalated
	}
	return StateOpen
}

func (r *Result) finish(now time.Time) {
	r.State = r.deriveState()
	r.NextDueAt = r.nextTimer()
	r.Overdue = r.ClosedAt.IsZero() && !now.Before(r.DeadlineAt)
}

// writeResult stores the mutable columns if the row is still at version
// old; false when another writer got there first.
func writeResult(ctx context.Context, tx *db.Tx, r *Result, old int, now time.Time) (bool, error) {
	r.finish(now)
	r.Version = old + 1
	res, err := tx.Exec(ctx, `UPDATE crit_result SET escalation_level = ?, overdue_notified = ?, next_due_at = ?, state = ?, handed_off_to = ?,
		handed_off_by = ?, handed_off_at = ?, recipient_name = ?, recipient_role = ?, recipient_callback = ?, recipient_contact_id = ?, method = ?,
		communicated_at = ?, communicated_by = ?, communicated_by_name = ?, read_back = ?, ack_at = ?, ack_by = ?, closed_at = ?, closed_by = ?,
		addendum_text = ?, addendum_due_at = ?, addendum_at = ?, addendum_tries = ?, version = ?, updated_at = ?
		WHERE id = ? AND version = ?`,
		r.EscalationLevel, b2i(r.overdueNotified), db.FormatOptional(r.NextDueAt), string(r.State), r.HandedOffTo, r.HandedOffBy, db.FormatOptional(r.HandedOffAt),
		r.Recipient.Name, r.Recipient.Role, r.Recipient.Callback, r.Recipient.ContactID, string(r.Method), db.FormatOptional(r.CommunicatedAt), r.CommunicatedBy,
		r.communicatedByName, b2i(r.ReadBack), db.FormatOptional(r.AckAt), r.AckBy, db.FormatOptional(r.ClosedAt), r.ClosedBy, r.AddendumText, db.FormatOptional(r.addendumDue),
		db.FormatOptional(r.AddendumAt), r.addendumTries, r.Version, db.FormatOptional(now), r.ID, old)
	if err != nil {
		return false, fmt.Errorf("critical: update %s: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func insertResult(ctx context.Context, tx *db.Tx, r *Result, now time.Time) error {
	cands, _ := json.Marshal(r.Candidates)
	r.finish(now)
	r.Version = 1
	_, err := tx.Exec(ctx, `INSERT INTO crit_result (id, facility_id, study_uid, accession, order_id, finding_code, finding_system, finding_text,
		category, category_label, colour, verbal, identified_at, deadline_at, warn_at, step_ms, max_level, escalation_level, overdue_notified,
		next_due_at, state, communicator, communicator_name, candidates, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, 1, ?, ?)`,
		r.ID, r.FacilityID, r.StudyUID, r.Accession, r.OrderID, r.Finding.Code, r.Finding.System, r.Finding.Text, r.Category, r.CategoryLabel,
		r.Colour, b2i(r.Verbal), db.FormatOptional(r.IdentifiedAt), db.FormatOptional(r.DeadlineAt), db.FormatOptional(r.warnAt), r.step.Milliseconds(), r.maxLevel, db.FormatOptional(r.NextDueAt),
		string(r.State), r.Communicator, r.CommunicatorName, string(cands), db.FormatOptional(now), db.FormatOptional(now))
	if err != nil {
		return fmt.Errorf("critical: insert: %w", err)
	}
	return nil
}

func addEvent(ctx context.Context, tx *db.Tx, id string, at time.Time, kind string, level int, by, detail string) error {
	_, err := tx.Exec(ctx, "INSERT INTO crit_event (result_id, at, kind, level, by_user, detail) VALUES (?, ?, ?, ?, ?, ?)",
		id, db.FormatOptional(at), kind, level, by, detail)
	if err != nil {
		return fmt.Errorf("critical: event: %w", err)
	}
	return nil
}

func addAttempt(ctx context.Context, tx *db.Tx, id string, a Attempt, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO crit_attempt (result_id, at, method, to_name, to_role, to_callback, to_contact_id, outcome, answered_by,
		read_back, note, by_user, by_name, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, db.FormatOptional(a.At), string(a.Method), a.To.Name, a.To.Role, a.To.Callback, a.To.ContactID, string(a.Outcome), a.AnsweredBy, b2i(a.ReadBack),
		a.Note, a.By.ID, a.By.Display, db.FormatOptional(now))
	if err != nil {
		return fmt.Errorf("critical: attempt: %w", err)
	}
	return nil
}

func loadAttempts(ctx context.Context, q querier, id string) ([]AttemptRecord, error) {
	return db.List("critical: attempts", db.Rows(q.Query(ctx, `SELECT pk, at, method, to_name, to_role, to_callback, to_contact_id, outcome, answered_by, read_back, note, by_user,
		by_name, recorded_at FROM crit_attempt WHERE result_id = ? ORDER BY pk`, id)), func(sc db.Scanner) (AttemptRecord, error) {
		var a AttemptRecord
		var at, method, outcome, rec string
		var rb int
		if err := sc.Scan(&a.ID, &at, &method, &a.To.Name, &a.To.Role, &a.To.Callback, &a.To.ContactID, &outcome, &a.AnsweredBy, &rb, &a.Note,
			&a.By.ID, &a.By.Display, &rec); err != nil {
			return AttemptRecord{}, err
		}
		a.At, a.Method, a.Outcome, a.ReadBack, a.RecordedAt = db.ParseOptional(at), Method(method), Outcome(outcome), rb != 0, db.ParseOptional(rec)
		return a, nil
	})
}

func loadEvents(ctx context.Context, q querier, id string) ([]Event, error) {
	return db.List("critical: events", db.Rows(q.Query(ctx, "SELECT at, kind, level, by_user, detail FROM crit_event WHERE result_id = ? ORDER BY pk", id)), func(sc db.Scanner) (Event, error) {
		var e Event
		var at string
		if err := sc.Scan(&at, &e.Kind, &e.Level, &e.By, &e.Detail); err != nil {
			return Event{}, err
		}
		e.At = db.ParseOptional(at)
		return e, nil
	})
}
