package keyimage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/dcm"
)

// ErrInvalid marks a key image the store refuses (callers answer 422).
var ErrInvalid = errors.New("invalid key image")

// ErrNotFound: no such key image in the study.
var ErrNotFound = errors.New("key image not found")

// Annotation is one measurement drawn on the image.
type Annotation struct {
	Kind   string       `json:"kind"`   // "length"
	Points [][2]float64 `json:"points"` // image coordinates (column, row), pixels
	Value  float64      `json:"value"`  // e.g. millimetres
	Unit   string       `json:"unit"`
}

// KeyImage is one marked image (a frame of an instance).
type KeyImage struct {
	ID          int64        `json:"id"`
	StudyUID    string       `json:"study_uid"`
	SeriesUID   string       `json:"series_uid"`
	SOPUID      string       `json:"sop_uid"`
	Frame       int          `json:"frame"`
	Note        string       `json:"note"`
	Annotations []Annotation `json:"annotations"`
	CreatedBy   string       `json:"created_by"`
	CreatedAt   string       `json:"created_at"`
}

// Validate checks what a client sends.
func (k KeyImage) Validate() error {
	switch {
	case !dcm.ValidUID(k.StudyUID) || !dcm.ValidUID(k.SeriesUID) || !dcm.ValidUID(k.SOPUID):
		return fmt.Errorf("%w: study, series and SOP instance UIDs required (PS3.5 9.1)", ErrInvalid)
	case k.Frame < 1 || k.Frame > 1<<20:
		return fmt.Errorf("%w: frame must be at least 1", ErrInvalid)
	case len(k.Note) > 2000 || len(k.Annotations) > 100:
		return fmt.Errorf("%w: note or annotations too long", ErrInvalid)
	}
	for _, a := range k.Annotations {
		if a.Kind != "length" || len(a.Points) != 2 || len(a.Unit) > 16 || math.IsNaN(a.Value) || math.IsInf(a.Value, 0) {
			return fmt.Errorf("%w: annotations are lengths with two points", ErrInvalid)
		}
	}
	return nil
}

// Store reads and writes key images.
type Store struct {
	DB  *db.DB
	Now func() time.Time
}

// Add saves a key image marked by user.
func (s Store) Add(ctx context.Context, user string, k KeyImage) (KeyImage, error) {
	if err := k.Validate(); err != nil {
		return k, err
	}
	if k.Annotations == nil {
		k.Annotations = []Annotation{}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	k.CreatedBy, k.CreatedAt = user, db.Now(now())
	ann, _ := json.Marshal(k.Annotations)
	// A write: inside a transaction, as the read pool is read-only on SQLite.
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO key_image (study_uid, series_uid, sop_uid, frame, note, annotations, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk`, k.StudyUID, k.SeriesUID, k.SOPUID, k.Frame, k.Note, string(ann), k.CreatedBy, k.CreatedAt).Scan(&k.ID)
	})
	if err != nil {
		return k, fmt.Errorf("save key image: %w", err)
	}
	return k, nil
}

// List returns a study's key images, oldest first.
func (s Store) List(ctx context.Context, study string) ([]KeyImage, error) {
	return db.List("key images", db.Rows(s.DB.Query(ctx, `SELECT pk, study_uid, series_uid, sop_uid, frame, note, annotations, created_by, created_at
		FROM key_image WHERE study_uid = ? ORDER BY created_at, pk`, study)), func(sc db.Scanner) (KeyImage, error) {
		var k KeyImage
		var ann string
		if err := sc.Scan(&k.ID, &k.StudyUID, &k.SeriesUID, &k.SOPUID, &k.Frame, &k.Note, &ann, &k.CreatedBy, &k.CreatedAt); err != nil {
			return KeyImage{}, err
		}
		if err := json.Unmarshal([]byte(ann), &k.Annotations); err != nil {
			return KeyImage{}, fmt.Errorf("key image %d annotations: %w", k.ID, err)
		}
		return k, nil
	})
}

// Delete removes a key image of a study; only the reader who marked it may.
func (s Store) Delete(ctx context.Context, user, study string, id int64) error {
	n, err := s.DB.Exec(ctx, "DELETE FROM key_image WHERE pk = ? AND study_uid = ? AND created_by = ?", id, study, user)
	if err != nil {
		return fmt.Errorf("delete key image: %w", err)
	}
	if c, _ := n.RowsAffected(); c == 0 {
		return ErrNotFound
	}
	return nil
}
