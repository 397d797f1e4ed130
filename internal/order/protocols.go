package order

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"lightbox/internal/db"
)

// LibraryProtocol is one entry of a facility's protocol library.
type LibraryProtocol struct {
	Code     string `json:"code"`
	Text     string `json:"text"`
	Modality string `json:"modality,omitempty"`
	Contrast string `json:"contrast,omitempty"`
}

// SetProtocols replaces a facility's protocol library.
func (s *Service) SetProtocols(ctx context.Context, facilityID string, ps []LibraryProtocol) error {
	for i, p := range ps {
		if strings.TrimSpace(p.Code) == "" || strings.TrimSpace(p.Text) == "" {
			return &ValidationError{fmt.Sprintf("protocols[%d]", i), "code and text are required"}
		}
	}
	return s.DB.InTx(ctx, func(tx *db.Tx) error { return SetProtocolsTx(ctx, tx, facilityID, ps) })
}

// SetProtocolsTx replaces a facility's protocol library in the caller's
// transaction (set-up audits it with the change).
func SetProtocolsTx(ctx context.Context, tx *db.Tx, facilityID string, ps []LibraryProtocol) error {
	seen := map[string]bool{}
	for i, p := range ps {
		if strings.TrimSpace(p.Code) == "" || strings.TrimSpace(p.Text) == "" {
			return &ValidationError{fmt.Sprintf("protocols[%d]", i), "code and text are required"}
		}
		if seen[p.Code] {
			return &ValidationError{fmt.Sprintf("protocols[%d]", i), "code " + p.Code + " given twice"}
		}
		seen[p.Code] = true
	}
	if _, err := tx.Exec(ctx, "DELETE FROM protocol WHERE facility_id = ?", facilityID); err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := tx.Exec(ctx, "INSERT INTO protocol (facility_id, code, text, modality, contrast) VALUES (?, ?, ?, ?, ?)",
			facilityID, p.Code, p.Text, p.Modality, p.Contrast); err != nil {
			return fmt.Errorf("order: save protocol %s: %w", p.Code, err)
		}
	}
	return nil
}

// Protocols lists a facility's protocol library.
func (s *Service) Protocols(ctx context.Context, facilityID string) ([]LibraryProtocol, error) {
	out, err := db.Collect(db.Rows(s.DB.Query(ctx, "SELECT code, text, modality, contrast FROM protocol WHERE facility_id = ? ORDER BY modality, code", facilityID)),
		func(sc db.Scanner) (p LibraryProtocol, err error) {
			return p, sc.Scan(&p.Code, &p.Text, &p.Modality, &p.Contrast)
		})
	if err != nil {
		return nil, fmt.Errorf("order: protocols: %w", err)
	}
	return out, nil
}

// FromLibrary completes a protocol chosen by code from the order's
// facility library (text, modality, contrast the radiologist did not set).
// A code that is not in a non-empty library is refused; free text without
// a code is always accepted.
func (s *Service) FromLibrary(ctx context.Context, facilityID string, p Protocol) (Protocol, error) {
	if p.Code == "" {
		return p, nil
	}
	var lp LibraryProtocol
	err := s.DB.QueryRow(ctx, "SELECT code, text, modality, contrast FROM protocol WHERE facility_id = ? AND code = ?", facilityID, p.Code).
		Scan(&lp.Code, &lp.Text, &lp.Modality, &lp.Contrast)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		_ = s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM protocol WHERE facility_id = ?", facilityID).Scan(&n)
		if n > 0 {
			return p, &ValidationError{"Protocol.Code", "not in the facility's protocol library"}
		}
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if p.Text == "" {
		p.Text = lp.Text
	}
	if p.Modality == "" {
		p.Modality = lp.Modality
	}
	if p.Contrast == "" {
		p.Contrast = lp.Contrast
	}
	return p, nil
}
