package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"lightbox/internal/db"
)

// advisoryLockKey is the PostgreSQL transaction-level advisory lock that
// serialises appends across every node sharing the database ("lbau").
const advisoryLockKey = 0x6c626175

// Logger appends events to the audit trail. Its zero value is not usable;
// set DB. A Logger is safe for concurrent use, and any number of Loggers in
// any number of processes may append to one database: the chain stays
// linear.
//
// Record is synchronous: it returns only after the event is committed, and
// callers must not serve the audited access if it fails (HIPAA
// 164.312(b)). Submit, for reads answered before their record commits,
// queues the event for the group committer started by Start; batch.go
// describes the crash window that leaves.
type Logger struct {
	DB       *db.DB
	SourceID string           // this node (ATNA AuditSourceID); default: host name
	Now      func() time.Time // default time.Now
	// PatientOf, when set, names the patient of an event that carries study
	// UIDs but no patient, so "who looked at this patient" finds every
	// study-level access. It runs before the audit transaction.
	PatientOf func(ctx context.Context, studyUID string) (issuer, patientID string, ok bool)
	// Keying, when set, keys the chain (HMAC links, signed head file).
	Keying *Keying

	c atomic.Pointer[committer] // set by Start: group commit (batch.go)
}

func (l *Logger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Logger) sourceID() string {
	if l.SourceID != "" {
		return l.SourceID
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "lightbox"
}

// Record appends e and returns once it is committed: in its own write
// transaction, or once Start has run, in the committer's next group
// commit (batch.go).
func (l *Logger) Record(ctx context.Context, e Event) error {
	if c := l.c.Load(); c != nil {
		if err := e.normalize(ms(l.now())); err != nil {
			return err
		}
		return l.enqueue(ctx, c, pending{e: e, done: make(chan error, 1)}, false)
	}
	_, err := l.recordNow(ctx, e)
	return err
}

// recordNow appends e in its own write transaction, naming its patient.
func (l *Logger) recordNow(ctx context.Context, e Event) (Event, error) {
	if e.PatientID == "" && len(e.StudyUIDs) > 0 && l.PatientOf != nil {
		if iss, pid, ok := l.PatientOf(ctx, e.StudyUIDs[0]); ok {
			e.PatientIssuer, e.PatientID = iss, pid
		}
	}
	return l.record(ctx, e)
}

// invalidEvent is an event normalize refused: it fails alone in a group
// commit.
type invalidEvent struct{ err error }

func (e *invalidEvent) Error() string { return e.err.Error() }
func (e *invalidEvent) Unwrap() error { return e.err }

// record appends e and returns it as stored.
func (l *Logger) record(ctx context.Context, e Event) (Event, error) {
	var out Event
	err := l.DB.InTx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = l.RecordTx(ctx, tx, e)
		return err
	})
	if err != nil {
		return out, err
	}
	return out, l.Keying.advance(out.Seq, out.Hash)
}

// RecordTx appends e inside the caller's write transaction, so the audit
// row commits or rolls back with the change it describes. It returns the
// event as stored (Seq, Hash ...). On PostgreSQL it takes the chain's
// advisory lock, held until tx ends: keep such transactions short. On
// SQLite tx already holds the database's single write lock.
func (l *Logger) RecordTx(ctx context.Context, tx *db.Tx, e Event) (Event, error) {
	now := ms(l.now())
	if err := e.normalize(now); err != nil {
		return Event{}, &invalidEvent{err}
	}
	e.SourceID = l.sourceID()
	e.RecordedAt = now
	if l.DB.Dialect == db.Postgres {
		if _, err := tx.Exec(ctx, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", advisoryLockKey)); err != nil {
			return Event{}, fmt.Errorf("audit: lock chain: %w", err)
		}
	}
	var prevSeq int64
	prevHash := GenesisHash
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1`).Scan(&prevSeq, &prevHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Event{}, fmt.Errorf("audit: read chain head: %w", err)
	}
	e.Seq, e.PrevHash = prevSeq+1, prevHash
	r := toRow(e)
	r.Hash = r.computeHash(l.Keying.key())
	e.Hash = r.Hash
	if _, err := tx.Exec(ctx, `INSERT INTO audit_event (`+columns+`) VALUES (?`+strings.Repeat(", ?", 21)+`)`, r.insertArgs()...); err != nil {
		return Event{}, fmt.Errorf("audit: append: %w", err)
	}
	seen := map[string]bool{}
	for _, u := range e.StudyUIDs {
		if seen[u] {
			continue
		}
		seen[u] = true
		if _, err := tx.Exec(ctx, `INSERT INTO audit_event_study (study_uid, seq) VALUES (?, ?)`, u, e.Seq); err != nil {
			return Event{}, fmt.Errorf("audit: index study: %w", err)
		}
	}
	return e, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func toRow(e Event) row {
	return row{
		Seq: e.Seq, RecordedAt: db.Now(e.RecordedAt), EventTime: db.Now(e.Time), SourceID: e.SourceID,
		EventID: string(e.EventID), EventType: string(e.EventType), Action: string(e.Action), Outcome: int64(e.Outcome),
		UserID: e.UserID, UserRole: e.UserRole, UserRequestor: boolInt(e.UserIsRequestor), NetAddr: e.NetworkAddr,
		Interface: string(e.Interface), PeerID: e.PeerID, PatientIssuer: e.PatientIssuer, PatientID: e.PatientID,
		StudyUIDs: joinUIDs(e.StudyUIDs), ObjectType: e.ObjectType, Detail: e.Detail, FacilityID: e.FacilityID,
		PrevHash: e.PrevHash, Hash: e.Hash,
	}
}

func (r *row) event() Event {
	e := Event{
		Seq: r.Seq, SourceID: r.SourceID, EventID: EventID(r.EventID), EventType: EventType(r.EventType),
		Action: Action(r.Action), Outcome: Outcome(r.Outcome), UserID: r.UserID, UserRole: r.UserRole,
		UserIsRequestor: r.UserRequestor != 0, NetworkAddr: r.NetAddr, Interface: Interface(r.Interface),
		PeerID: r.PeerID, PatientIssuer: r.PatientIssuer, PatientID: r.PatientID, StudyUIDs: splitUIDs(r.StudyUIDs),
		ObjectType: r.ObjectType, Detail: r.Detail, FacilityID: r.FacilityID, PrevHash: r.PrevHash, Hash: r.Hash,
	}
	e.Time, _ = db.ParseTime(r.EventTime)
	e.RecordedAt, _ = db.ParseTime(r.RecordedAt)
	return e
}

// scanEvents reads rows selected with columns.
func scanEvents(rows *sql.Rows) ([]Event, error) {
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var r row
		if err := rows.Scan(r.scanArgs()...); err != nil {
			return nil, fmt.Errorf("audit: scan: %w", err)
		}
		out = append(out, r.event())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: scan: %w", err)
	}
	return out, nil
}
