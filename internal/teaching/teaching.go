package teaching

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/deid"
)

// Errors callers map to HTTP answers.
var (
	ErrInvalid  = errors.New("invalid teaching case")
	ErrNotFound = errors.New("no such teaching case")
)

// Case is one teaching-file case.
type Case struct {
	ID              int64  `json:"id"`
	StudyUID        string `json:"study_uid"` // the anonymised study's UID
	Subspecialty    string `json:"subspecialty"`
	Finding         string `json:"finding"`
	Note            string `json:"note"`
	Modality        string `json:"modality"`
	Instances       int    `json:"instances"`
	BurnedInUnknown bool   `json:"burned_in_unknown"`
	Author          string `json:"author"`
	CreatedAt       string `json:"created_at"`
}

// Store keeps teaching cases.
type Store struct {
	DB  *db.DB
	Now func() time.Time
}

func (s Store) now() time.Time { return db.NowOr(s.Now) }

// Share de-identifies every instance (Part 10 bytes from open, called for
// 0..n-1) with one UID remapping for the case, and stores the copy with
// the reader's note. Nothing is stored if any instance is refused.
func (s Store) Share(ctx context.Context, c Case, n int, open func(i int) ([]byte, error)) (Case, error) {
	c.Subspecialty = strings.ToLower(strings.TrimSpace(c.Subspecialty))
	c.Finding = strings.TrimSpace(c.Finding)
	if c.Subspecialty == "" || c.Finding == "" || len(c.Finding) > 200 || strings.TrimSpace(c.Note) == "" || len(c.Note) > 8000 || n < 1 || n > 5000 {
		return c, fmt.Errorf("%w: subspecialty, finding, a teaching note and at least one instance are required", ErrInvalid)
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	m := &deid.Remapper{Secret: hex.EncodeToString(secret)}
	type out struct {
		sop  string
		data []byte
	}
	var files []out
	c.Instances, c.BurnedInUnknown, c.StudyUID = 0, false, ""
	for i := range n {
		src, err := open(i)
		if err != nil {
			return c, err
		}
		var buf bytes.Buffer
		inst, err := deid.File(src, &buf, m, deid.Options{PatientName: "TEACHING^CASE", PatientID: "TF"})
		if err != nil {
			return c, fmt.Errorf("%w: instance %d: %w", ErrInvalid, i+1, err)
		}
		c.StudyUID = inst.StudyUID
		c.BurnedInUnknown = c.BurnedInUnknown || inst.BurnedInUnknown
		files = append(files, out{inst.SOPUID, buf.Bytes()})
	}
	c.Instances, c.CreatedAt = len(files), db.Now(s.now())
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO teaching_case (study_uid, subspecialty, finding, note, modality, instances, burned_in_unknown, author, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk`, c.StudyUID, c.Subspecialty, c.Finding, c.Note, c.Modality, c.Instances, b2i(c.BurnedInUnknown),
			c.Author, c.CreatedAt).Scan(&c.ID); err != nil {
			return err
		}
		for _, f := range files {
			if _, err := tx.Exec(ctx, "INSERT INTO teaching_instance (case_pk, sop_uid, data) VALUES (?, ?, ?)", c.ID, f.sop, f.data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("teaching case: %w", err)
	}
	return c, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

const cols = "pk, study_uid, subspecialty, finding, note, modality, instances, burned_in_unknown, author, created_at"

func scan(r db.Scanner) (Case, error) {
	var c Case
	var b int
	err := r.Scan(&c.ID, &c.StudyUID, &c.Subspecialty, &c.Finding, &c.Note, &c.Modality, &c.Instances, &b, &c.Author, &c.CreatedAt)
	c.BurnedInUnknown = b != 0
	return c, err
}

// List browses the teaching file by subspecialty and finding (a
// case-insensitive substring); empty filters match everything.
func (s Store) List(ctx context.Context, subspecialty, finding string) ([]Case, error) {
	q, args := "SELECT "+cols+" FROM teaching_case WHERE 1 = 1", []any{}
	if subspecialty != "" {
		q += " AND subspecialty = ?"
		args = append(args, strings.ToLower(subspecialty))
	}
	if finding != "" {
		q += " AND LOWER(finding) LIKE ?"
		args = append(args, "%"+strings.ToLower(finding)+"%")
	}
	return db.List("teaching file", db.Rows(s.DB.Query(ctx, q+" ORDER BY subspecialty, finding, pk DESC", args...)), scan)
}

// Get returns one case.
func (s Store) Get(ctx context.Context, id int64) (Case, error) {
	c, err := scan(s.DB.QueryRow(ctx, "SELECT "+cols+" FROM teaching_case WHERE pk = ?", id))
	return c, db.NotFound(err, ErrNotFound)
}

// Instance returns the n-th (from 1) anonymised Part 10 file of a case.
func (s Store) Instance(ctx context.Context, id int64, n int) ([]byte, error) {
	var b []byte
	err := s.DB.QueryRow(ctx, "SELECT data FROM teaching_instance WHERE case_pk = ? ORDER BY pk LIMIT 1 OFFSET ?", id, n-1).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) || n < 1 {
		return nil, ErrNotFound
	}
	return b, err
}
