package roster

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/facility"
	"lightbox/internal/model"
)

// ErrNotFound is returned for an unknown reader or facility.
var ErrNotFound = errors.New("not found")

// Store reads and writes readers and facility contracts.
type Store struct{ DB *db.DB }

// Validate checks a reader document enough that the engine can use it.
func Validate(r *model.Reader) error {
	if r.ID == "" {
		return errors.New("reader needs an id")
	}
	if r.Location.Country == "" {
		return fmt.Errorf("reader %s: location.country is required (where the reader physically reads decides prelim/final)", r.ID)
	}
	if err := r.Resolve(); err != nil {
		return fmt.Errorf("reader %s: %w", r.ID, err)
	}
	for _, l := range r.Licenses {
		if len(l.State) != 2 || l.Number == "" {
			return fmt.Errorf("reader %s: licence needs a two-letter state and a number", r.ID)
		}
	}
	for _, p := range r.Privileges {
		if p.Facility == "" {
			return fmt.Errorf("reader %s: privilege without a facility", r.ID)
		}
	}
	return nil
}

// PutReader creates or replaces a reader.
func (s Store) PutReader(ctx context.Context, r *model.Reader) error {
	return PutReader(ctx, s.DB, r)
}

// PutReader creates or replaces a reader through x (a *db.DB or the
// caller's transaction).
func PutReader(ctx context.Context, x db.Execer, r *model.Reader) error {
	if err := Validate(r); err != nil {
		return err
	}
	doc, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = x.Exec(ctx, `INSERT INTO reader (id, doc, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`, r.ID, string(doc), db.Now(time.Now()))
	if err != nil {
		return fmt.Errorf("save reader %s: %w", r.ID, err)
	}
	return nil
}

// Reader loads one reader.
func (s Store) Reader(ctx context.Context, id string) (*model.Reader, error) {
	return ReaderTx(ctx, s.DB, id)
}

// ReaderTx loads one reader through x (in the caller's transaction, to
// edit it).
func ReaderTx(ctx context.Context, x db.Execer, id string) (*model.Reader, error) {
	var doc string
	err := x.QueryRow(ctx, "SELECT doc FROM reader WHERE id = ?", id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("reader %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reader %s: %w", id, err)
	}
	return decodeReader(doc)
}

func decodeReader(doc string) (*model.Reader, error) {
	var r model.Reader
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return nil, fmt.Errorf("decode reader: %w", err)
	}
	if err := r.Resolve(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Readers loads every reader, ordered by ID.
func (s Store) Readers(ctx context.Context) ([]*model.Reader, error) {
	return db.List("list readers", db.Rows(s.DB.Query(ctx, "SELECT doc FROM reader ORDER BY id")), func(sc db.Scanner) (*model.Reader, error) {
		var doc string
		if err := sc.Scan(&doc); err != nil {
			return nil, err
		}
		r, err := decodeReader(doc)
		if err != nil {
			return nil, err
		}
		return r, nil
	})
}

// DeleteReader removes a reader.
func (s Store) DeleteReader(ctx context.Context, id string) error {
	_, err := DeleteReader(ctx, s.DB, id)
	return err
}

// DeleteReader removes a reader through x; it reports whether one existed.
func DeleteReader(ctx context.Context, x db.Execer, id string) (bool, error) {
	res, err := x.Exec(ctx, "DELETE FROM reader WHERE id = ?", id)
	if err != nil {
		return false, fmt.Errorf("delete reader %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Contract is the part of a facility the group negotiates.
type Contract struct {
	Medicare bool                      `json:"medicare"`
	ReadType model.ReadType            `json:"read_type"`
	SLA      map[model.Class]model.SLA `json:"sla,omitempty"`
	FinalSLA time.Duration             `json:"final_sla,omitempty"`
	Codes    map[string]string         `json:"codes,omitempty"`
}

// PutContract sets a facility's contract.
func (s Store) PutContract(ctx context.Context, facilityID string, c Contract) error {
	return PutContract(ctx, s.DB, facilityID, c)
}

// ValidateContract checks the terms the engine relies on.
func ValidateContract(c Contract) error {
	switch c.ReadType {
	case "", model.ReadFinalType, model.ReadPrelimOnly, model.ReadFinalRequiresUS:
	default:
		return fmt.Errorf("unknown read type %q (final, prelim-only, final-requires-us-reader)", c.ReadType)
	}
	for class, sla := range c.SLA {
		if class.Rank() >= len(model.Classes) || sla.Within <= 0 {
			return fmt.Errorf("SLA for %q needs a known priority class and a positive duration", class)
		}
	}
	return nil
}

// PutContract sets a facility's contract through x.
func PutContract(ctx context.Context, x db.Execer, facilityID string, c Contract) error {
	if err := ValidateContract(c); err != nil {
		return fmt.Errorf("facility %s: %w", facilityID, err)
	}
	doc, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = x.Exec(ctx, `INSERT INTO facility_contract (facility_id, doc, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (facility_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`, facilityID, string(doc), db.Now(time.Now()))
	if err != nil {
		return fmt.Errorf("save contract %s: %w", facilityID, err)
	}
	return nil
}

// Facilities returns every facility as the engine sees it: identity from
// the facility table, terms from its contract (defaults when none).
func (s Store) Facilities(ctx context.Context) ([]*model.Facility, error) {
	ids, err := facility.All(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	type contract struct{ id, doc string }
	cs, err := db.Collect(db.Rows(s.DB.Query(ctx, "SELECT facility_id, doc FROM facility_contract")), func(sc db.Scanner) (contract, error) {
		var c contract
		err := sc.Scan(&c.id, &c.doc)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list contracts: %w", err)
	}
	docs := make(map[string]string, len(cs))
	for _, c := range cs {
		docs[c.id] = c.doc
	}
	out := make([]*model.Facility, 0, len(ids))
	for _, id := range ids {
		f := &model.Facility{ID: id.ID, Name: id.Name, State: id.State, TimeZone: id.TimeZone}
		var c Contract
		if doc := docs[f.ID]; doc != "" {
			if err := json.Unmarshal([]byte(doc), &c); err != nil {
				return nil, fmt.Errorf("facility %s contract: %w", f.ID, err)
			}
		}
		f.Medicare, f.ReadType, f.SLA, f.FinalSLA, f.Codes = c.Medicare, c.ReadType, c.SLA, c.FinalSLA, c.Codes
		if f.ReadType == "" {
			f.ReadType = model.ReadFinalType
		}
		if err := f.Resolve(); err != nil {
			return nil, fmt.Errorf("facility %s: %w", f.ID, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// ContractOf loads a facility's contract, if it has one.
func ContractOf(ctx context.Context, x db.Execer, facilityID string) (Contract, bool, error) {
	var doc string
	err := x.QueryRow(ctx, "SELECT doc FROM facility_contract WHERE facility_id = ?", facilityID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return Contract{}, false, nil
	}
	var c Contract
	if err == nil {
		err = json.Unmarshal([]byte(doc), &c)
	}
	if err != nil {
		return c, false, fmt.Errorf("contract %s: %w", facilityID, err)
	}
	return c, true, nil
}
