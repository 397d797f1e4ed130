package order

import (
	"context"
	"fmt"
	"time"

	"lightbox/internal/db"
)

// DeadLetter is a refused (or unparsable) inbound message, kept with its
// raw bytes for a coordinator. The HL7 adapter fills it from the message.
type DeadLetter struct {
	Remote, ControlID, Type, Sender string
	AckCode, Reason, Location       string
	Raw                             []byte
}

// RecordDeadLetter stores a refused message.
func (s *Service) RecordDeadLetter(ctx context.Context, d DeadLetter) error {
	if d.Raw == nil {
		d.Raw = []byte{}
	}
	_, err := s.DB.Exec(ctx, `INSERT INTO hl7_dead_letter (received_at, remote_addr, control_id, message_type, sending_facility, ack_code, reason, location, raw)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, db.Now(time.Now()), d.Remote, d.ControlID, d.Type, d.Sender, d.AckCode, d.Reason, d.Location, d.Raw)
	if err != nil {
		return fmt.Errorf("order: dead letter: %w", err)
	}
	return nil
}

// ByPlacer returns a facility's newest order with this placer order number.
func (s *Service) ByPlacer(ctx context.Context, facilityID, placerOrder string) (Order, error) {
	return getOrder(ctx, s.DB, "facility_id = ? AND placer_order = ? ORDER BY created_at DESC LIMIT 1", facilityID, placerOrder)
}

// DeadLetterRow is a stored refused message.
type DeadLetterRow struct {
	ID         int64
	ReceivedAt time.Time
	ControlID  string
	Type       string
	AckCode    string
	Reason     string
	Location   string
	Raw        []byte
}

// DeadLetters lists unresolved dead letters, oldest first.
func (s *Service) DeadLetters(ctx context.Context, limit int) ([]DeadLetterRow, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.List("order: dead letters", db.Rows(s.DB.Query(ctx, `SELECT pk, received_at, control_id, message_type, ack_code, reason, location, raw FROM hl7_dead_letter
		WHERE resolved_at = '' ORDER BY pk LIMIT ?`, limit)), func(sc db.Scanner) (DeadLetterRow, error) {
		var r DeadLetterRow
		var at string
		err := sc.Scan(&r.ID, &at, &r.ControlID, &r.Type, &r.AckCode, &r.Reason, &r.Location, &r.Raw)
		r.ReceivedAt = db.ParseOptional(at)
		return r, err
	})
}
