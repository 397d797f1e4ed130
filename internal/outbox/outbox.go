package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/hl7"
)

// Statuses of an outbox row.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// Execer is satisfied by *db.DB and *db.Tx.
type Execer interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// Message is one message to enqueue.
type Message struct {
	FacilityID string
	Address    string // host:port of the facility's MLLP listener
	TLS        bool
	Kind       string // e.g. "ORM-status", "ORU"
	RelatedID  string // order or report ID
	Bytes      []byte // the encoded HL7 message
}

// Enqueue stores m as pending. Pass a *db.Tx to enqueue atomically with
// the caller's other changes.
func Enqueue(ctx context.Context, x Execer, m Message) error {
	if m.Address == "" {
		return errors.New("outbox: enqueue: empty address")
	}
	if len(m.Bytes) == 0 {
		return errors.New("outbox: enqueue: empty message")
	}
	controlID := ""
	if pm, err := hl7.Parse(m.Bytes); err == nil {
		controlID = pm.ControlID()
	}
	now := db.Now(time.Now())
	if _, err := x.Exec(ctx, `INSERT INTO hl7_outbox (facility_id, address, tls, kind, related_id, control_id, message, status, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
		m.FacilityID, m.Address, boolInt(m.TLS), m.Kind, m.RelatedID, controlID, m.Bytes, now, now); err != nil {
		return fmt.Errorf("outbox: enqueue: %w", err)
	}
	return nil
}

// Endpoint is a facility's outbound address of some kind: "hl7" (Address
// host:port, MLLP) or "fhir" (Address the base URL).
type Endpoint struct {
	FacilityID string `json:"facility_id"`
	Kind       string `json:"kind"`
	Address    string `json:"address"`
	TLS        bool   `json:"tls,omitempty"`
	// Auth is how to authenticate to the peer (an Authorization header
	// value for FHIR); it is a secret and never listed back.
	Auth string `json:"auth,omitempty"`
}

// LookupEndpoint returns the facility's endpoint of kind, if configured.
func LookupEndpoint(ctx context.Context, x Execer, facilityID, kind string) (Endpoint, bool, error) {
	e := Endpoint{FacilityID: facilityID, Kind: kind}
	var tls int
	err := x.QueryRow(ctx, "SELECT address, tls, auth FROM facility_endpoint WHERE facility_id = ? AND kind = ?", facilityID, kind).Scan(&e.Address, &tls, &e.Auth)
	if found, err := db.Found(err, "outbox: endpoint lookup"); !found {
		return Endpoint{}, false, err
	}
	e.TLS = tls != 0
	return e, true, nil
}

// SetEndpoint creates or replaces a facility endpoint through x (a *db.DB
// or the caller's transaction).
func SetEndpoint(ctx context.Context, x db.Execer, e Endpoint) error {
	if _, err := x.Exec(ctx, `INSERT INTO facility_endpoint (facility_id, kind, address, tls, auth, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (facility_id, kind) DO UPDATE SET address = excluded.address, tls = excluded.tls, auth = excluded.auth`,
		e.FacilityID, e.Kind, e.Address, boolInt(e.TLS), e.Auth, db.Now(time.Now())); err != nil {
		return fmt.Errorf("outbox: set endpoint: %w", err)
	}
	return nil
}

// DeleteEndpoint removes a facility endpoint; it reports whether one existed.
func DeleteEndpoint(ctx context.Context, x db.Execer, facilityID, kind string) (bool, error) {
	res, err := x.Exec(ctx, "DELETE FROM facility_endpoint WHERE facility_id = ? AND kind = ?", facilityID, kind)
	if err != nil {
		return false, fmt.Errorf("outbox: delete endpoint: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Endpoints lists the endpoints of one facility ("" = every facility),
// with their secrets.
func Endpoints(ctx context.Context, x db.Execer, facilityID string) ([]Endpoint, error) {
	q, args := "SELECT facility_id, kind, address, tls, auth FROM facility_endpoint", []any{}
	if facilityID != "" {
		q += " WHERE facility_id = ?"
		args = append(args, facilityID)
	}
	return db.List("outbox: endpoints", db.Rows(x.Query(ctx, q+" ORDER BY facility_id, kind", args...)), func(sc db.Scanner) (Endpoint, error) {
		var e Endpoint
		var tls int
		if err := sc.Scan(&e.FacilityID, &e.Kind, &e.Address, &tls, &e.Auth); err != nil {
			return Endpoint{}, err
		}
		e.TLS = tls != 0
		return e, nil
	})
}

// Row is an outbox row as listed for coordinators.
type Row struct {
	PK         int64
	FacilityID string
	Address    string
	Kind       string
	RelatedID  string
	ControlID  string
	Status     string
	Attempts   int
	AckCode    string
	LastError  string
	CreatedAt  string
	Delivered  string
}

// List returns rows with the given status ("" = all), oldest first.
func List(ctx context.Context, d *db.DB, status string, limit int) ([]Row, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT pk, facility_id, address, kind, related_id, control_id, status, attempts, ack_code, last_error, created_at, delivered_at FROM hl7_outbox`
	args := []any{}
	if status != "" {
		q += " WHERE status = ?"
		args = append(args, status)
	}
	q += " ORDER BY pk LIMIT ?"
	args = append(args, limit)
	rows, err := db.Collect(db.Rows(d.Query(ctx, q, args...)), scanRow)
	if err != nil {
		return nil, fmt.Errorf("outbox: list: %w", err)
	}
	return rows, nil
}

func scanRow(sc db.Scanner) (Row, error) {
	var r Row
	err := sc.Scan(&r.PK, &r.FacilityID, &r.Address, &r.Kind, &r.RelatedID, &r.ControlID, &r.Status, &r.Attempts, &r.AckCode, &r.LastError, &r.CreatedAt, &r.Delivered)
	return r, err
}

// Related returns the rows of one kind whose related ID starts with prefix
// ("" = any), with status when set, oldest first: an owner of the
// messages (report for its ORUs) shows their delivery state this way.
func Related(ctx context.Context, x db.Execer, kind, prefix, status string) ([]Row, error) {
	q := `SELECT pk, facility_id, address, kind, related_id, control_id, status, attempts, ack_code, last_error, created_at, delivered_at
		FROM hl7_outbox WHERE kind = ? AND related_id LIKE ?`
	args := []any{kind, prefix + "%"}
	if status != "" {
		q += " AND status = ?"
		args = append(args, status)
	}
	rows, err := db.Collect(db.Rows(x.Query(ctx, q+" ORDER BY pk", args...)), scanRow)
	if err != nil {
		return nil, fmt.Errorf("outbox: related: %w", err)
	}
	return rows, nil
}

// Messages returns the stored message bytes with the given status, oldest first.
func Messages(ctx context.Context, d *db.DB, status string) ([][]byte, error) {
	return db.List("outbox: messages", db.Rows(d.Query(ctx, "SELECT message FROM hl7_outbox WHERE status = ? ORDER BY pk", status)), func(sc db.Scanner) ([]byte, error) {
		var b []byte
		err := sc.Scan(&b)
		return b, err
	})
}

// Retry puts a failed row back to pending (coordinator action).
func Retry(ctx context.Context, d *db.DB, pk int64) error {
	res, err := d.Exec(ctx, "UPDATE hl7_outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, claimed_until = '' WHERE pk = ? AND status = 'failed'", db.Now(time.Now()), pk)
	if err != nil {
		return fmt.Errorf("outbox: retry: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("outbox: retry %d: not a failed row", pk)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Backlog counts messages waiting for delivery and the age of the oldest
// (metrics: outbox lag).
func Backlog(ctx context.Context, d *db.DB) (int, time.Duration, error) {
	var n int
	var oldest sql.NullString
	if err := d.QueryRow(ctx, "SELECT COUNT(*), MIN(created_at) FROM hl7_outbox WHERE status = 'pending'").Scan(&n, &oldest); err != nil {
		return 0, 0, fmt.Errorf("outbox backlog: %w", err)
	}
	var lag time.Duration
	if t, err := db.ParseTime(oldest.String); err == nil && oldest.Valid {
		lag = time.Since(t)
	}
	return n, lag, nil
}
