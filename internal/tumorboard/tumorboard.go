package tumorboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"lightbox/internal/db"
)

// Errors callers map to HTTP answers.
var (
	ErrInvalid  = errors.New("invalid tumor board")
	ErrNotFound = errors.New("no such tumor board")
)

// Grace is how long grants outlast the board's end.
const Grace = time.Hour

// Board is one tumor board.
type Board struct {
	ID           int64     `json:"id"`
	Title        string    `json:"title"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	Disciplines  []string  `json:"disciplines"`
	Participants []string  `json:"participants"` // usernames
	CreatedBy    string    `json:"created_by"`
	CreatedAt    string    `json:"created_at"`
	Cases        []Case    `json:"cases"`
}

// Case is one case on a board.
type Case struct {
	ID             int64  `json:"id"`
	BoardID        int64  `json:"board_id"`
	StudyUID       string `json:"study_uid"`
	FacilityID     string `json:"facility_id"`
	Presenter      string `json:"presenter"`
	Notes          string `json:"notes"`
	Recommendation string `json:"recommendation"`
	UpdatedAt      string `json:"updated_at"`
}

// Grant is a participant's temporary access to one study of the board.
type Grant struct {
	ID         int64  `json:"id"`
	BoardID    int64  `json:"board_id"`
	Username   string `json:"username"`
	StudyUID   string `json:"study_uid"`
	FacilityID string `json:"facility_id"`
	CreatedAt  string `json:"created_at"`
	ExpiresAt  string `json:"expires_at"`
}

// Store keeps boards, cases and grants.
type Store struct {
	DB  *db.DB
	Now func() time.Time
}

func (s Store) now() time.Time { return db.NowOr(s.Now) }

// Create saves a new board.
func (s Store) Create(ctx context.Context, by string, b Board) (Board, error) {
	b.Title = strings.TrimSpace(b.Title)
	if b.Title == "" || len(b.Title) > 200 || !b.EndsAt.After(b.StartsAt) || b.EndsAt.Sub(b.StartsAt) > 24*time.Hour {
		return b, fmt.Errorf("%w: a title and a start before an end (at most a day) are required", ErrInvalid)
	}
	if len(b.Participants) == 0 || len(b.Participants) > 100 || len(b.Disciplines) > 30 {
		return b, fmt.Errorf("%w: 1 to 100 participants", ErrInvalid)
	}
	if !slices.Contains(b.Participants, by) {
		b.Participants = append(b.Participants, by)
	}
	if b.Disciplines == nil {
		b.Disciplines = []string{}
	}
	b.CreatedBy, b.CreatedAt, b.Cases = by, db.Now(s.now()), []Case{}
	disc, _ := json.Marshal(b.Disciplines)
	parts, _ := json.Marshal(b.Participants)
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO tumor_board (title, starts_at, ends_at, disciplines, participants, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING pk`, b.Title, db.Now(b.StartsAt), db.Now(b.EndsAt), string(disc), string(parts), b.CreatedBy, b.CreatedAt).Scan(&b.ID)
	})
	if err != nil {
		return b, fmt.Errorf("create tumor board: %w", err)
	}
	return b, nil
}

func scanBoard(r db.Scanner) (Board, error) {
	var b Board
	var st, en, disc, parts string
	if err := r.Scan(&b.ID, &b.Title, &st, &en, &disc, &parts, &b.CreatedBy, &b.CreatedAt); err != nil {
		return b, err
	}
	b.StartsAt, _ = db.ParseTime(st)
	b.EndsAt, _ = db.ParseTime(en)
	_ = json.Unmarshal([]byte(disc), &b.Disciplines)
	_ = json.Unmarshal([]byte(parts), &b.Participants)
	b.Cases = []Case{}
	return b, nil
}

const boardCols = "pk, title, starts_at, ends_at, disciplines, participants, created_by, created_at"

// Get returns a board with its cases.
func (s Store) Get(ctx context.Context, id int64) (Board, error) {
	b, err := scanBoard(s.DB.QueryRow(ctx, "SELECT "+boardCols+" FROM tumor_board WHERE pk = ?", id))
	if err != nil {
		return b, db.RowErr(err, ErrNotFound, "tumor board")
	}
	b.Cases, err = db.Collect(db.Rows(s.DB.Query(ctx, `SELECT pk, board_pk, study_uid, facility_id, presenter, notes, recommendation, updated_at
		FROM tumor_board_case WHERE board_pk = ? ORDER BY pk`, id)), func(r db.Scanner) (c Case, err error) {
		return c, r.Scan(&c.ID, &c.BoardID, &c.StudyUID, &c.FacilityID, &c.Presenter, &c.Notes, &c.Recommendation, &c.UpdatedAt)
	})
	if err != nil {
		return b, fmt.Errorf("tumor board cases: %w", err)
	}
	return b, nil
}

// List returns the boards user takes part in (all when user is ""),
// soonest first, without cases.
func (s Store) List(ctx context.Context, user string) ([]Board, error) {
	all, err := db.Collect(db.Rows(s.DB.Query(ctx, "SELECT "+boardCols+" FROM tumor_board ORDER BY starts_at DESC, pk DESC")), scanBoard)
	if err != nil {
		return nil, fmt.Errorf("tumor boards: %w", err)
	}
	out := []Board{}
	for _, b := range all {
		if user == "" || slices.Contains(b.Participants, user) {
			out = append(out, b)
		}
	}
	return out, nil
}

// AddCase puts a study on the board and grants every participant for whom
// sees(participant, facility) is false temporary access to it, until the
// board's end plus Grace. It returns the case and the grants made.
func (s Store) AddCase(ctx context.Context, boardID int64, c Case, sees func(user, facility string) bool) (Case, []Grant, error) {
	b, err := s.Get(ctx, boardID)
	if err != nil {
		return c, nil, err
	}
	if c.StudyUID == "" || len(c.Notes) > 8000 || len(c.Recommendation) > 8000 {
		return c, nil, fmt.Errorf("%w: a study is required", ErrInvalid)
	}
	now := s.now()
	c.BoardID, c.UpdatedAt = boardID, db.Now(now)
	exp := db.Now(b.EndsAt.Add(Grace))
	var grants []Grant
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO tumor_board_case (board_pk, study_uid, facility_id, presenter, notes, recommendation, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING pk`, boardID, c.StudyUID, c.FacilityID, c.Presenter, c.Notes, c.Recommendation, c.UpdatedAt).Scan(&c.ID); err != nil {
			return err
		}
		for _, u := range b.Participants {
			if sees(u, c.FacilityID) {
				continue
			}
			g := Grant{BoardID: boardID, Username: u, StudyUID: c.StudyUID, FacilityID: c.FacilityID, CreatedAt: c.UpdatedAt, ExpiresAt: exp}
			if err := tx.QueryRow(ctx, `INSERT INTO tumor_board_grant (board_pk, username, study_uid, facility_id, created_at, expires_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING pk`, g.BoardID, g.Username, g.StudyUID, g.FacilityID, g.CreatedAt, g.ExpiresAt).Scan(&g.ID); err != nil {
				return err
			}
			grants = append(grants, g)
		}
		return nil
	})
	if err != nil {
		return c, nil, fmt.Errorf("add tumor board case: %w", err)
	}
	return c, grants, nil
}

// UpdateCase records presenter notes and the board's recommendation.
func (s Store) UpdateCase(ctx context.Context, boardID, caseID int64, notes, recommendation string) (Case, error) {
	if len(notes) > 8000 || len(recommendation) > 8000 {
		return Case{}, fmt.Errorf("%w: notes too long", ErrInvalid)
	}
	n, err := s.DB.Exec(ctx, "UPDATE tumor_board_case SET notes = ?, recommendation = ?, updated_at = ? WHERE pk = ? AND board_pk = ?",
		notes, recommendation, db.Now(s.now()), caseID, boardID)
	if err != nil {
		return Case{}, fmt.Errorf("update tumor board case: %w", err)
	}
	if k, _ := n.RowsAffected(); k == 0 {
		return Case{}, ErrNotFound
	}
	b, err := s.Get(ctx, boardID)
	if err != nil {
		return Case{}, err
	}
	for _, c := range b.Cases {
		if c.ID == caseID {
			return c, nil
		}
	}
	return Case{}, ErrNotFound
}

// Grants lists a board's grants.
func (s Store) Grants(ctx context.Context, boardID int64) ([]Grant, error) {
	return db.List("tumor board grants", db.Rows(s.DB.Query(ctx, `SELECT pk, board_pk, username, study_uid, facility_id, created_at, expires_at FROM tumor_board_grant
		WHERE board_pk = ? ORDER BY pk`, boardID)), func(r db.Scanner) (g Grant, err error) {
		return g, r.Scan(&g.ID, &g.BoardID, &g.Username, &g.StudyUID, &g.FacilityID, &g.CreatedAt, &g.ExpiresAt)
	})
}

// Active returns the studies user holds an unexpired board grant for (the
// scope rule adds them to scope.Scope.Studies).
func (s Store) Active(ctx context.Context, user string) ([]string, error) {
	return grantTable.Active(ctx, s.DB, user, s.now())
}

var grantTable = db.GrantTable{Table: "tumor_board_grant", User: "username", Name: "tumor board grants"}
