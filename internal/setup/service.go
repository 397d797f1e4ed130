package setup

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/db"
)

// Actor is who makes a change (user, role, address, interface).
type Actor = audit.Actor

// Service applies set-up changes.
type Service struct {
	DB    *db.DB
	Audit *audit.Logger
	// TLSConfig is used by endpoint tests over TLS (nil: system roots).
	TLSConfig *tls.Config
	// FHIRProbe tests FHIR endpoints (nil: such tests are refused).
	FHIRProbe FHIRProbe
	// HL7Probe tests HL7 endpoints (nil: such tests are refused).
	HL7Probe HL7Probe
	Now      func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// change describes the audit record of a write.
type change struct {
	typ      audit.EventType
	action   audit.Action
	object   string // facility, endpoint, reader, shift, ae
	detail   string // no patient data: IDs of configuration objects and counts
	facility string
}

// write runs fn, the audit record and the stamp increment in one
// transaction: a change that cannot be audited is not made.
func (s *Service) write(ctx context.Context, by Actor, c change, fn func(tx *db.Tx) error) error {
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if err := bump(ctx, tx, s.now()); err != nil {
			return err
		}
		ev := audit.SecurityAlertEvent(by, c.typ, c.detail)
		ev.Action, ev.ObjectType, ev.FacilityID = c.action, c.object, c.facility
		if s.Audit == nil {
			return &Error{Code: CodeAuditFailed, Msg: "set-up changes need an audit trail"}
		}
		if _, err := s.Audit.RecordTx(ctx, tx, ev); err != nil {
			return &Error{Code: CodeAuditFailed, Msg: "the change could not be audited, so it was not made: " + err.Error()}
		}
		return nil
	})
}

const stampName = "setup"

func bump(ctx context.Context, x db.Execer, now time.Time) error {
	_, err := x.Exec(ctx, `INSERT INTO setup_stamp (name, version, updated_at) VALUES (?, 1, ?)
		ON CONFLICT (name) DO UPDATE SET version = setup_stamp.version + 1, updated_at = excluded.updated_at`, stampName, db.Now(now))
	if err != nil {
		return fmt.Errorf("setup stamp: %w", err)
	}
	return nil
}

// Version is the set-up stamp: it changes with every set-up write, from
// any process on the database.
func Version(ctx context.Context, x db.Execer) (int64, error) {
	var v int64
	err := x.QueryRow(ctx, "SELECT version FROM setup_stamp WHERE name = ?", stampName).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("setup stamp: %w", err)
	}
	return v, nil
}
