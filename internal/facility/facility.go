package facility

import (
	"context"
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

// Store reads and writes facilities.
type Store struct{ DB *db.DB }

// Upsert creates or updates a facility.
func (s Store) Upsert(ctx context.Context, f Facility) error {
	if f.ID == "" || f.Name == "" {
		return fmt.Errorf("facility needs an id and a name")
	}
	if _, err := time.LoadLocation(f.TimeZone); err != nil {
		return fmt.Errorf("facility %s: time zone %q: %w", f.ID, f.TimeZone, err)
	}
	_, err := s.DB.Exec(ctx, `INSERT INTO facility (id, name, state, timezone, issuer_of_patient_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, state = excluded.state, timezone = excluded.timezone,
		issuer_of_patient_id = excluded.issuer_of_patient_id`,
		f.ID, f.Name, f.State, f.TimeZone, f.IssuerOfPatientID, db.Now(time.Now()))
	if err != nil {
		return fmt.Errorf("save facility %s: %w", f.ID, err)
	}
	return nil
}

// List returns every facility ordered by ID.
func (s Store) List(ctx context.Context) ([]Facility, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, name, state, timezone, issuer_of_patient_id FROM facility ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list facilities: %w", err)
	}
	defer rows.Close()
	var out []Facility
	for rows.Next() {
		var f Facility
		if err := rows.Scan(&f.ID, &f.Name, &f.State, &f.TimeZone, &f.IssuerOfPatientID); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
