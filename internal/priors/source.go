package priors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"lightbox/internal/db"
)

// Retrieve methods.
const (
	Move = "move" // C-MOVE to Lightbox's own AE title
	Get  = "get"  // C-GET on the query association
)

// Defaults of a Source.
const (
	DefaultMaxPriors = 2
	DefaultWait      = 60 * time.Second
)

// Source is a facility's PACS as a query/retrieve source.
type Source struct {
	FacilityID string `json:"facility_id"`
	AETitle    string `json:"ae_title"`
	Host       string `json:"host"`
	Port       int    `json:"port"`
	TLS        bool   `json:"tls"`
	// MaxPriors is how many priors to retrieve (default 2).
	MaxPriors int `json:"max_priors"`
	// WaitSeconds bounds how long assignment waits for the fetch (default 60).
	WaitSeconds int `json:"wait_seconds"`
	// Retrieve is "move" (default) or "get".
	Retrieve string `json:"retrieve"`
}

// ErrNoSource is returned for a facility without a PACS source.
var ErrNoSource = errors.New("no PACS registered for the facility")

// Normalize fills the defaults and checks the fields (the AE itself is
// checked by internal/ae).
func (s *Source) Normalize() error {
	s.AETitle = strings.TrimSpace(s.AETitle)
	if s.MaxPriors == 0 {
		s.MaxPriors = DefaultMaxPriors
	}
	if s.WaitSeconds == 0 {
		s.WaitSeconds = int(DefaultWait / time.Second)
	}
	if s.Retrieve == "" {
		s.Retrieve = Move
	}
	switch {
	case s.FacilityID == "" || s.FacilityID == "*":
		return errors.New("a PACS belongs to one facility")
	case s.MaxPriors < 0 || s.MaxPriors > 20:
		return errors.New("max_priors must be 0 to 20")
	case s.WaitSeconds < 0 || s.WaitSeconds > 3600:
		return errors.New("wait_seconds must be 0 to 3600")
	case s.Retrieve != Move && s.Retrieve != Get:
		return errors.New(`retrieve must be "move" or "get"`)
	}
	return nil
}

// Wait is how long assignment waits for a fetch.
func (s Source) Wait() time.Duration { return time.Duration(s.WaitSeconds) * time.Second }

// PutSource creates or replaces a facility's PACS source through x (the
// caller's transaction: internal/setup audits it).
func PutSource(ctx context.Context, x db.Execer, s Source, now time.Time) error {
	if err := s.Normalize(); err != nil {
		return err
	}
	tls := 0
	if s.TLS {
		tls = 1
	}
	_, err := x.Exec(ctx, `INSERT INTO prior_source (facility_id, ae_title, host, port, tls, max_priors, wait_seconds, retrieve, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (facility_id) DO UPDATE SET ae_title = excluded.ae_title, host = excluded.host, port = excluded.port, tls = excluded.tls,
		max_priors = excluded.max_priors, wait_seconds = excluded.wait_seconds, retrieve = excluded.retrieve, updated_at = excluded.updated_at`,
		s.FacilityID, s.AETitle, s.Host, s.Port, tls, s.MaxPriors, s.WaitSeconds, s.Retrieve, db.Now(now), db.Now(now))
	if err != nil {
		return fmt.Errorf("save PACS of %s: %w", s.FacilityID, err)
	}
	return nil
}

// DeleteSource removes a facility's PACS source; it returns the removed
// source (ok false when there was none).
func DeleteSource(ctx context.Context, x db.Execer, facilityID string) (Source, bool, error) {
	s, err := GetSource(ctx, x, facilityID)
	if errors.Is(err, ErrNoSource) {
		return s, false, nil
	}
	if err != nil {
		return s, false, err
	}
	if _, err := x.Exec(ctx, "DELETE FROM prior_source WHERE facility_id = ?", facilityID); err != nil {
		return s, false, fmt.Errorf("delete PACS of %s: %w", facilityID, err)
	}
	return s, true, nil
}

const sourceCols = "facility_id, ae_title, host, port, tls, max_priors, wait_seconds, retrieve"

func scanSource(sc db.Scanner) (Source, error) {
	var s Source
	var tls int
	err := sc.Scan(&s.FacilityID, &s.AETitle, &s.Host, &s.Port, &tls, &s.MaxPriors, &s.WaitSeconds, &s.Retrieve)
	s.TLS = tls != 0
	return s, err
}

// GetSource returns a facility's PACS source or ErrNoSource.
func GetSource(ctx context.Context, x db.Execer, facilityID string) (Source, error) {
	s, err := scanSource(x.QueryRow(ctx, "SELECT "+sourceCols+" FROM prior_source WHERE facility_id = ?", facilityID))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("facility %s: %w", facilityID, ErrNoSource)
	}
	return s, err
}

// ListSources returns every facility's PACS source.
func ListSources(ctx context.Context, x db.Execer) ([]Source, error) {
	return db.List("list PACS sources", db.Rows(x.Query(ctx, "SELECT "+sourceCols+" FROM prior_source ORDER BY facility_id")), scanSource)
}
