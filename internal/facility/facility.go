package facility

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"lightbox/internal/db"
)

// Facility is one site a group reads for.
type Facility struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	State             string `json:"state"`    // two-letter US state: where patients are imaged
	TimeZone          string `json:"timezone"` // IANA zone
	IssuerOfPatientID string `json:"issuer_of_patient_id"`
}

// ErrNotFound is returned for an unknown facility.
var ErrNotFound = errors.New("unknown facility")

// Store reads and writes facilities.
type Store struct{ DB *db.DB }

// Upsert creates or updates a facility.
func (s Store) Upsert(ctx context.Context, f Facility) error {
	if _, err := time.LoadLocation(f.TimeZone); err != nil {
		return fmt.Errorf("facility %s: time zone %q: %w", f.ID, f.TimeZone, err)
	}
	return Upsert(ctx, s.DB, f)
}

// Upsert creates or updates a facility through x (a *db.DB or the
// caller's transaction); the caller has validated the time zone.
func Upsert(ctx context.Context, x db.Execer, f Facility) error {
	if f.ID == "" || f.Name == "" {
		return fmt.Errorf("facility needs an id and a name")
	}
	_, err := x.Exec(ctx, `INSERT INTO facility (id, name, state, timezone, issuer_of_patient_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, state = excluded.state, timezone = excluded.timezone,
		issuer_of_patient_id = excluded.issuer_of_patient_id`,
		f.ID, f.Name, f.State, f.TimeZone, f.IssuerOfPatientID, db.Now(time.Now()))
	if err != nil {
		return fmt.Errorf("save facility %s: %w", f.ID, err)
	}
	return nil
}

// Get loads one facility.
func Get(ctx context.Context, x db.Execer, id string) (Facility, error) {
	var f Facility
	err := x.QueryRow(ctx, "SELECT id, name, state, timezone, issuer_of_patient_id FROM facility WHERE id = ?", id).
		Scan(&f.ID, &f.Name, &f.State, &f.TimeZone, &f.IssuerOfPatientID)
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("facility %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("facility %s: %w", id, err)
	}
	return f, nil
}

// IDs returns the set of every facility ID (reference checks of a bulk
// import look each row up here instead of querying per row).
func IDs(ctx context.Context, x db.Execer) (map[string]bool, error) {
	ids, err := db.Strings(x.Query(ctx, "SELECT id FROM facility"))
	if err != nil {
		return nil, fmt.Errorf("facility ids: %w", err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// List returns every facility ordered by ID.
func (s Store) List(ctx context.Context) ([]Facility, error) { return All(ctx, s.DB) }

// All returns every facility ordered by ID, through x.
func All(ctx context.Context, x db.Execer) ([]Facility, error) {
	return db.List("list facilities", db.Rows(x.Query(ctx, "SELECT id, name, state, timezone, issuer_of_patient_id FROM facility ORDER BY id")), func(sc db.Scanner) (Facility, error) {
		var f Facility
		err := sc.Scan(&f.ID, &f.Name, &f.State, &f.TimeZone, &f.IssuerOfPatientID)
		return f, err
	})
}

// Named finds the facility an outside system names by ID or, failing
// that, by name (case-insensitive): HL7 MSH-4 from a sender that was not
// registered, under --hl7-open. The ID wins when both match.
func (s Store) Named(ctx context.Context, name string) (string, bool, error) {
	var id string
	err := s.DB.QueryRow(ctx, `SELECT id FROM facility WHERE LOWER(id) = LOWER(?) OR LOWER(name) = LOWER(?)
		ORDER BY CASE WHEN LOWER(id) = LOWER(?) THEN 0 ELSE 1 END, id LIMIT 1`, name, name, name).Scan(&id)
	found, err := db.Found(err, "facility named")
	return id, found, err
}

// SetRetentionYears sets how many years facility id keeps its instances
// (0: for ever; internal/retention applies it).
func SetRetentionYears(ctx context.Context, x db.Execer, id string, years int) error {
	res, err := x.Exec(ctx, "UPDATE facility SET retention_years = ? WHERE id = ?", years, id)
	if err != nil {
		return fmt.Errorf("facility %s: retention: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("facility %s: %w", id, ErrNotFound)
	}
	return nil
}

// RetentionYears returns the retention of every facility that has one
// (years > 0), by facility ID.
func RetentionYears(ctx context.Context, x db.Execer) (map[string]int, error) {
	out, err := db.Counts(x.Query(ctx, "SELECT id, retention_years FROM facility WHERE retention_years > 0 ORDER BY id"))
	if err != nil {
		return nil, fmt.Errorf("facility retention: %w", err)
	}
	return out, nil
}

// Location is the facility's time zone (UTC when unset or unknown).
func (f Facility) Location() *time.Location {
	if f.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(f.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// ByName finds the facility whose name matches (case-insensitive): the
// Institution Name (0008,0080) of an instance from a sender with no
// facility of its own.
func ByName(ctx context.Context, x db.Execer, name string) (string, bool, error) {
	var id string
	err := x.QueryRow(ctx, "SELECT id FROM facility WHERE LOWER(name) = LOWER(?)", name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("facility by name: %w", err)
	}
	return id, true, nil
}

// IssuerOwners counts the facilities an issuer of patient IDs (assigning
// authority) belongs to: own is 1 when it is facility itself (its ID or its
// registered issuer), other counts the other facilities that registered it.
func IssuerOwners(ctx context.Context, x db.Execer, facilityID, issuer string) (own, other int, err error) {
	err = x.QueryRow(ctx, `SELECT
		COALESCE(SUM(CASE WHEN id = ? THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN id <> ? THEN 1 ELSE 0 END), 0)
		FROM facility WHERE id = ? OR (issuer_of_patient_id <> '' AND issuer_of_patient_id = ?)`, facilityID, facilityID, issuer, issuer).Scan(&own, &other)
	if err != nil {
		return 0, 0, fmt.Errorf("issuer owners: %w", err)
	}
	return own, other, nil
}
