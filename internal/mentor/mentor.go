package mentor

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"lightbox/internal/db"
)

// Errors callers map to HTTP answers.
var (
	ErrInvalid  = errors.New("invalid mentored reading request")
	ErrNotFound = errors.New("no such over-read")
)

// Policy is the group's mentored reading configuration.
type Policy struct {
	Enabled bool `json:"enabled"`
	// NewMonths: a reader is new for this many months from their start.
	NewMonths int `json:"new_months"`
	// SharePercent of a new reader's reports is over-read.
	SharePercent float64 `json:"share_percent"`
	// Stage "before" over-reads the preliminary report before the final;
	// "after" over-reads the final.
	Stage string `json:"stage"`
}

// DefaultPolicy is off; when enabled, 12 months, 20 %, after the final.
func DefaultPolicy() Policy { return Policy{NewMonths: 12, SharePercent: 20, Stage: "after"} }

// Validate checks a policy.
func (p Policy) Validate() error {
	if p.NewMonths < 1 || p.NewMonths > 60 || p.SharePercent < 0 || p.SharePercent > 100 || (p.Stage != "before" && p.Stage != "after") {
		return fmt.Errorf("%w: new_months 1-60, share_percent 0-100, stage before or after", ErrInvalid)
	}
	return nil
}

// Selected reports whether study falls in the over-read share: a hash of
// the study UID, so the choice is random across studies, repeatable for
// one, and independent of who signs.
func (p Policy) Selected(study string) bool {
	h := sha256.Sum256([]byte("mentor:" + study))
	return float64(binary.BigEndian.Uint64(h[:8])%10000) < p.SharePercent*100
}

// Reader is a reader as mentored reading sees them.
type Reader struct {
	ID             string
	Subspecialties []string
}

// OverRead is one senior's over-read of a new reader's report.
type OverRead struct {
	ID          int64  `json:"id"`
	StudyUID    string `json:"study_uid"`
	Author      string `json:"author"`
	Mentor      string `json:"mentor"`
	Stage       string `json:"stage"`
	Status      string `json:"status"` // open | commented
	Comment     string `json:"comment,omitempty"`
	CreatedAt   string `json:"created_at"`
	CommentedAt string `json:"commented_at,omitempty"`
}

// Store keeps the policy, start dates and over-reads.
type Store struct {
	DB  *db.DB
	Now func() time.Time
}

func (s Store) now() time.Time { return db.NowOr(s.Now) }

var policyDoc = db.GroupDoc[Policy]{Table: "mentor_policy", Name: "mentor policy"}

// Policy returns the group's policy (DefaultPolicy, off, until set).
func (s Store) Policy(ctx context.Context) (Policy, error) {
	return policyDoc.Get(ctx, s.DB, DefaultPolicy())
}

// SetPolicy stores the group's policy.
func (s Store) SetPolicy(ctx context.Context, p Policy) error {
	return policyDoc.Put(ctx, s.DB, p, s.now())
}

// SetStart records when a reader started with the group (YYYY-MM-DD).
func (s Store) SetStart(ctx context.Context, reader, date string) error {
	if _, err := time.Parse(time.DateOnly, date); err != nil || reader == "" {
		return fmt.Errorf("%w: a reader and a start date YYYY-MM-DD", ErrInvalid)
	}
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM mentor_reader WHERE reader_id = ?", reader); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO mentor_reader (reader_id, started_on) VALUES (?, ?)", reader, date)
		return err
	})
}

// Starts returns every recorded start date by reader.
func (s Store) Starts(ctx context.Context) (map[string]string, error) {
	pairs, err := db.Collect(db.Rows(s.DB.Query(ctx, "SELECT reader_id, started_on FROM mentor_reader")),
		func(r db.Scanner) (p [2]string, err error) { return p, r.Scan(&p[0], &p[1]) })
	if err != nil {
		return nil, fmt.Errorf("mentor readers: %w", err)
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		m[p[0]] = p[1]
	}
	return m, nil
}

// isNew: a reader with no recorded start is established.
func isNew(p Policy, started string, at time.Time) bool {
	d, err := time.Parse(time.DateOnly, started)
	return err == nil && at.Before(d.AddDate(0, p.NewMonths, 0))
}

// Signed is the report-signing hook: when the group has mentored reading
// on, the signer is new, the stage matches (prelim for "before", final for
// "after") and the study falls in the share, an over-read is assigned to
// a senior sharing a subspecialty (the one with the fewest open
// over-reads). ok is false when nothing was assigned.
func (s Store) Signed(ctx context.Context, study, author string, final bool, readers []Reader) (OverRead, bool, error) {
	p, err := s.Policy(ctx)
	if err != nil || !p.Enabled || final != (p.Stage == "after") || !p.Selected(study) {
		return OverRead{}, false, err
	}
	starts, err := s.Starts(ctx)
	if err != nil {
		return OverRead{}, false, err
	}
	now := s.now()
	if !isNew(p, starts[author], now) {
		return OverRead{}, false, nil
	}
	var me Reader
	for _, r := range readers {
		if r.ID == author {
			me = r
		}
	}
	load, err := s.openLoad(ctx)
	if err != nil {
		return OverRead{}, false, err
	}
	best := ""
	for _, r := range readers {
		if r.ID == author || isNew(p, starts[r.ID], now) || !slices.ContainsFunc(r.Subspecialties, func(x string) bool { return slices.Contains(me.Subspecialties, x) }) {
			continue
		}
		if best == "" || load[r.ID] < load[best] {
			best = r.ID
		}
	}
	if best == "" {
		return OverRead{}, false, nil
	}
	o := OverRead{StudyUID: study, Author: author, Mentor: best, Stage: p.Stage, Status: "open", CreatedAt: db.Now(now)}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO mentor_overread (study_uid, author, mentor, stage, status, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING pk`,
			o.StudyUID, o.Author, o.Mentor, o.Stage, o.Status, o.CreatedAt).Scan(&o.ID)
	})
	if err != nil {
		return o, false, fmt.Errorf("over-read: %w", err)
	}
	return o, true, nil
}

func (s Store) openLoad(ctx context.Context) (map[string]int, error) {
	return db.Counts(s.DB.Query(ctx, "SELECT mentor, COUNT(*) FROM mentor_overread WHERE status = 'open' GROUP BY mentor"))
}

const cols = "pk, study_uid, author, mentor, stage, status, comment, created_at, commented_at"

func scan(r db.Scanner) (OverRead, error) {
	var o OverRead
	err := r.Scan(&o.ID, &o.StudyUID, &o.Author, &o.Mentor, &o.Stage, &o.Status, &o.Comment, &o.CreatedAt, &o.CommentedAt)
	return o, err
}

// Comment records the senior's comment, which returns to the author.
func (s Store) Comment(ctx context.Context, id int64, mentor, text string) (OverRead, error) {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > 8000 {
		return OverRead{}, fmt.Errorf("%w: a comment is required", ErrInvalid)
	}
	o, err := scan(s.DB.QueryRow(ctx, "SELECT "+cols+" FROM mentor_overread WHERE pk = ?", id))
	if errors.Is(err, sql.ErrNoRows) || err == nil && o.Mentor != mentor {
		return o, ErrNotFound
	}
	if err != nil {
		return o, err
	}
	o.Status, o.Comment, o.CommentedAt = "commented", text, db.Now(s.now())
	_, err = s.DB.Exec(ctx, "UPDATE mentor_overread SET status = ?, comment = ?, commented_at = ? WHERE pk = ?", o.Status, o.Comment, o.CommentedAt, id)
	return o, err
}

// History lists the over-reads user takes part in (as author or mentor),
// newest first; with other set, only those shared with other.
func (s Store) History(ctx context.Context, user, other string) ([]OverRead, error) {
	q, args := "SELECT "+cols+" FROM mentor_overread WHERE (author = ? OR mentor = ?)", []any{user, user}
	if other != "" {
		q += " AND (author = ? OR mentor = ?)"
		args = append(args, other, other)
	}
	return db.List("over-reads", db.Rows(s.DB.Query(ctx, q+" ORDER BY pk DESC", args...)), scan)
}
