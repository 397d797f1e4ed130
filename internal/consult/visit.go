package consult

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"lightbox/internal/db"
)

// VisitTTL is how long a patient's link stays valid unless used.
const VisitTTL = 30 * time.Minute

// ErrLink marks a link that is unknown, used or expired (one answer for
// all three, so a link's state does not leak).
var ErrLink = errors.New("the visit link is invalid, used or expired")

// Visit is a virtual clinic visit: a physician and a patient who joined by
// link, with the consent the patient gave and when.
type Visit struct {
	ID          int64  `json:"id"`
	StudyUID    string `json:"study_uid"`
	FacilityID  string `json:"facility_id"`
	Physician   string `json:"physician"`
	CreatedAt   string `json:"created_at"`
	ExpiresAt   string `json:"expires_at"`
	JoinedAt    string `json:"joined_at,omitempty"`
	PatientName string `json:"patient_name,omitempty"`
	Consent     bool   `json:"consent"`
	EndedAt     string `json:"ended_at,omitempty"`
}

// Guest is the patient's name inside a visit's events.
const Guest = "patient"

func secret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Invite creates a visit and returns it with the link token, which is
// shown once and kept only as its hash.
func (s Store) Invite(ctx context.Context, v Visit, ttl time.Duration) (Visit, string, error) {
	if ttl <= 0 {
		ttl = VisitTTL
	}
	tok := secret()
	now := s.now()
	v.CreatedAt, v.ExpiresAt = db.Now(now), db.Now(now.Add(ttl))
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO clinic_visit (study_uid, facility_id, physician, token_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING pk`, v.StudyUID, v.FacilityID, v.Physician, hash(tok), v.CreatedAt, v.ExpiresAt).Scan(&v.ID)
	})
	if err != nil {
		return v, "", fmt.Errorf("visit: %w", err)
	}
	return v, tok, nil
}

const visitCols = "pk, study_uid, facility_id, physician, created_at, expires_at, joined_at, patient_name, consent, ended_at"

func scanVisit(sc interface{ Scan(...any) error }) (Visit, error) {
	var v Visit
	var consent int
	err := sc.Scan(&v.ID, &v.StudyUID, &v.FacilityID, &v.Physician, &v.CreatedAt, &v.ExpiresAt, &v.JoinedAt, &v.PatientName, &consent, &v.EndedAt)
	v.Consent = consent != 0
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	return v, err
}

// Join uses a link once: with the patient's consent it records who joined
// and when, and returns the visit key the patient's browser holds for the
// rest of the visit (kept only as its hash).
func (s Store) Join(ctx context.Context, token, name string, consent bool) (Visit, string, error) {
	name = strings.TrimSpace(name)
	if !consent {
		return Visit{}, "", fmt.Errorf("%w: consent is required to join", ErrInvalid)
	}
	if n := utf8.RuneCountInString(name); n == 0 || n > 200 {
		return Visit{}, "", fmt.Errorf("%w: a name of 1 to 200 characters is required", ErrInvalid)
	}
	key := secret()
	now := db.Now(s.now())
	var v Visit
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE clinic_visit SET joined_at = ?, patient_name = ?, consent = 1, key_hash = ?
			WHERE token_hash = ? AND joined_at = '' AND expires_at > ? AND ended_at = ''`, now, name, hash(key), hash(token), now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrLink
		}
		v, err = scanVisit(tx.QueryRow(ctx, "SELECT "+visitCols+" FROM clinic_visit WHERE token_hash = ?", hash(token)))
		return err
	})
	if err != nil {
		return Visit{}, "", err
	}
	return v, key, nil
}

// ByKey returns the joined, unended visit a patient's key belongs to.
func (s Store) ByKey(ctx context.Context, key string) (Visit, error) {
	if key == "" {
		return Visit{}, ErrNotFound
	}
	return scanVisit(s.DB.QueryRow(ctx, "SELECT "+visitCols+" FROM clinic_visit WHERE key_hash = ? AND ended_at = ''", hash(key)))
}

// GetVisit returns one visit of study.
func (s Store) GetVisit(ctx context.Context, study string, id int64) (Visit, error) {
	return scanVisit(s.DB.QueryRow(ctx, "SELECT "+visitCols+" FROM clinic_visit WHERE pk = ? AND study_uid = ?", id, study))
}

// End closes a visit: its key stops working.
func (s Store) End(ctx context.Context, v Visit) (Visit, error) {
	v.EndedAt = db.Now(s.now())
	_, err := s.DB.Exec(ctx, "UPDATE clinic_visit SET ended_at = ? WHERE pk = ? AND ended_at = ''", v.EndedAt, v.ID)
	return v, err
}
