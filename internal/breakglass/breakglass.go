package breakglass

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"lightbox/internal/db"
)

// DefaultTTL is how long a grant lasts unless configured.
const DefaultTTL = 2 * time.Hour

// MinReason is the shortest reason accepted (in characters), so "x" or
// "urgent" cannot stand for a justification.
const MinReason = 10

// ErrInvalid marks a request the store refuses (callers answer 422).
var ErrInvalid = errors.New("invalid break-glass request")

// Grant is one emergency access.
type Grant struct {
	ID         int64  `json:"id"`
	Username   string `json:"username"`
	StudyUID   string `json:"study_uid"`
	FacilityID string `json:"facility_id"`
	Reason     string `json:"reason"`
	CreatedAt  string `json:"created_at"`
	ExpiresAt  string `json:"expires_at"`
}

// Store reads and writes grants.
type Store struct {
	DB  *db.DB
	TTL time.Duration // 0: DefaultTTL
	Now func() time.Time
}

func (s Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Open grants user access to study (of facility) for the store's TTL.
func (s Store) Open(ctx context.Context, user, study, facility, reason string) (Grant, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < MinReason || n > 1000 {
		return Grant{}, fmt.Errorf("%w: a reason of %d to 1000 characters is required", ErrInvalid, MinReason)
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	now := s.now()
	g := Grant{Username: user, StudyUID: study, FacilityID: facility, Reason: reason, CreatedAt: db.Now(now), ExpiresAt: db.Now(now.Add(ttl))}
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO break_glass (username, study_uid, facility_id, reason, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING pk`, g.Username, g.StudyUID, g.FacilityID, g.Reason, g.CreatedAt, g.ExpiresAt).Scan(&g.ID)
	})
	if err != nil {
		return g, fmt.Errorf("break-glass grant: %w", err)
	}
	return g, nil
}

// Active returns the studies user holds an unexpired grant for.
func (s Store) Active(ctx context.Context, user string) ([]string, error) {
	return grantTable.Active(ctx, s.DB, user, s.now())
}

var grantTable = db.GrantTable{Table: "break_glass", User: "username", Name: "break-glass grants"}

// Since returns every grant opened from since on, newest first: the
// privacy officer's review of emergency access, reasons included.
func (s Store) Since(ctx context.Context, since time.Time) ([]Grant, error) {
	return db.List("break-glass grants", db.Rows(s.DB.Query(ctx, `SELECT pk, username, study_uid, facility_id, reason, created_at, expires_at
		FROM break_glass WHERE created_at >= ? ORDER BY created_at DESC, pk DESC`, db.Now(since))), func(sc db.Scanner) (g Grant, err error) {
		return g, sc.Scan(&g.ID, &g.Username, &g.StudyUID, &g.FacilityID, &g.Reason, &g.CreatedAt, &g.ExpiresAt)
	})
}
