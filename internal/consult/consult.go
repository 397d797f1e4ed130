package consult

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"lightbox/internal/db"
)

// GrantTTL is how long a consult lets its consultant see the study.
const GrantTTL = 24 * time.Hour

// Consult states.
const (
	Open     = "open"
	Answered = "answered"
)

// Consult is one second-opinion request. The requester stays reader of
// record; the consultant's opinion is advice, credited RVUCredit work RVUs
// (the group's setting when the consult was asked).
type Consult struct {
	ID           int64   `json:"id"`
	StudyUID     string  `json:"study_uid"`
	FacilityID   string  `json:"facility_id"`
	Requester    string  `json:"requester"`
	Consultant   string  `json:"consultant"`
	Subspecialty string  `json:"subspecialty,omitempty"`
	Question     string  `json:"question"`
	Status       string  `json:"status"`
	Opinion      string  `json:"opinion,omitempty"`
	OpinionAt    string  `json:"opinion_at,omitempty"`
	RVUCredit    float64 `json:"rvu_credit"`
	CreatedAt    string  `json:"created_at"`
	ExpiresAt    string  `json:"expires_at"`
}

// Participant reports whether user takes part in the consult.
func (c Consult) Participant(user string) bool { return user == c.Requester || user == c.Consultant }

// Create records a consult routed to c.Consultant.
func (s Store) Create(ctx context.Context, c Consult) (Consult, error) {
	c.Question = strings.TrimSpace(c.Question)
	if n := utf8.RuneCountInString(c.Question); n == 0 || n > 2000 {
		return c, fmt.Errorf("%w: a question of 1 to 2000 characters is required", ErrInvalid)
	}
	now := s.now()
	c.Status, c.CreatedAt, c.ExpiresAt = Open, db.Now(now), db.Now(now.Add(GrantTTL))
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO consult (study_uid, facility_id, requester, consultant, subspecialty, question, status, rvu_credit, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk`, c.StudyUID, c.FacilityID, c.Requester, c.Consultant, c.Subspecialty, c.Question, c.Status,
			strconv.FormatFloat(c.RVUCredit, 'f', -1, 64), c.CreatedAt, c.ExpiresAt).Scan(&c.ID)
	})
	if err != nil {
		return c, fmt.Errorf("consult: %w", err)
	}
	return c, nil
}

const consultCols = "pk, study_uid, facility_id, requester, consultant, subspecialty, question, status, opinion, opinion_at, rvu_credit, created_at, expires_at"

func scanConsult(sc db.Scanner) (Consult, error) {
	var c Consult
	var rvu string
	err := sc.Scan(&c.ID, &c.StudyUID, &c.FacilityID, &c.Requester, &c.Consultant, &c.Subspecialty, &c.Question, &c.Status, &c.Opinion, &c.OpinionAt, &rvu, &c.CreatedAt, &c.ExpiresAt)
	c.RVUCredit, _ = strconv.ParseFloat(rvu, 64)
	return c, err
}

// Get returns one consult of study.
func (s Store) Get(ctx context.Context, study string, id int64) (Consult, error) {
	c, err := scanConsult(s.DB.QueryRow(ctx, "SELECT "+consultCols+" FROM consult WHERE pk = ? AND study_uid = ?", id, study))
	return c, db.NotFound(err, ErrNotFound)
}

// ForStudy lists a study's consults, oldest first.
func (s Store) ForStudy(ctx context.Context, study string) ([]Consult, error) {
	return s.list(ctx, "SELECT "+consultCols+" FROM consult WHERE study_uid = ? ORDER BY pk", study)
}

// Mine lists the consults user asked or was asked, newest first.
func (s Store) Mine(ctx context.Context, user string, limit int) ([]Consult, error) {
	return s.list(ctx, "SELECT "+consultCols+" FROM consult WHERE requester = ? OR consultant = ? ORDER BY pk DESC LIMIT ?", user, user, limit)
}

func (s Store) list(ctx context.Context, q string, args ...any) ([]Consult, error) {
	return db.List("consults", db.Rows(s.DB.Query(ctx, q, args...)), scanConsult)
}

// Granted returns the studies user may see as the consultant of an
// unexpired consult (the scope rule's study grants).
func (s Store) Granted(ctx context.Context, user string) ([]string, error) {
	return grantTable.Active(ctx, s.DB, user, s.now())
}

var grantTable = db.GrantTable{Table: "consult", User: "consultant", Name: "consult grants"}

// Say adds a message to a consult's thread.
func (s Store) Say(ctx context.Context, id int64, author, body string) (Message, error) {
	return s.post(ctx, "INSERT INTO consult_message (consult_pk, author, body, created_at) VALUES (?, ?, ?, ?) RETURNING pk", id, author, body)
}

// Thread returns a consult's messages, oldest first.
func (s Store) Thread(ctx context.Context, id int64) ([]Message, error) {
	return s.messages(ctx, "SELECT pk, author, body, created_at FROM consult_message WHERE consult_pk = ? ORDER BY pk DESC LIMIT 1000", id)
}

// Opine records the consultant's opinion (again to amend it).
func (s Store) Opine(ctx context.Context, c Consult, opinion string) (Consult, error) {
	opinion = strings.TrimSpace(opinion)
	if n := utf8.RuneCountInString(opinion); n == 0 || n > 8000 {
		return c, fmt.Errorf("%w: an opinion of 1 to 8000 characters is required", ErrInvalid)
	}
	c.Opinion, c.OpinionAt, c.Status = opinion, db.Now(s.now()), Answered
	_, err := s.DB.Exec(ctx, "UPDATE consult SET opinion = ?, opinion_at = ?, status = ? WHERE pk = ?", c.Opinion, c.OpinionAt, c.Status, c.ID)
	return c, err
}
