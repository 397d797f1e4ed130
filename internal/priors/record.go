package priors

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"lightbox/internal/db"
)

// Fetch is the record of one prior fetch.
type Fetch struct {
	StudyUID    string `json:"study_uid"`
	FacilityID  string `json:"facility_id"`
	Status      string `json:"status"`     // pending, running, done, failed
	MatchedBy   string `json:"matched_by"` // id, name_dob (confirmed), none
	Found       int    `json:"found"`
	Retrieved   int    `json:"retrieved"`
	Detail      string `json:"detail,omitempty"`
	RequestedBy string `json:"requested_by"`
	CreatedAt   string `json:"created_at"`
	DeadlineAt  string `json:"deadline_at"`
	FinishedAt  string `json:"finished_at,omitempty"`
	Priors      []Link `json:"priors"`
}

// Link is one prior linked to a study.
type Link struct {
	StudyUID   string   `json:"study_uid"`
	Rank       int      `json:"rank"`
	StudyDate  string   `json:"study_date"`
	Modalities []string `json:"modalities"`
	BodyPart   string   `json:"body_part,omitempty"`
	MatchedBy  string   `json:"matched_by"`
	Status     string   `json:"status"` // retrieving, retrieved, local, failed
	FetchedAt  string   `json:"fetched_at"`
}

// ErrNoFetch is returned for a study no fetch was recorded for.
var ErrNoFetch = errors.New("no prior fetch for the study")

// FetchOf returns a study's fetch and its linked priors, best first.
func FetchOf(ctx context.Context, x db.Execer, studyUID string) (Fetch, error) {
	f := Fetch{Priors: []Link{}}
	err := x.QueryRow(ctx, `SELECT study_uid, facility_id, status, matched_by, found, retrieved, detail, requested_by, created_at, deadline_at, finished_at
		FROM prior_fetch WHERE study_uid = ?`, studyUID).Scan(&f.StudyUID, &f.FacilityID, &f.Status, &f.MatchedBy, &f.Found, &f.Retrieved, &f.Detail,
		&f.RequestedBy, &f.CreatedAt, &f.DeadlineAt, &f.FinishedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrNoFetch
	}
	if err != nil {
		return f, err
	}
	rows, err := x.Query(ctx, `SELECT prior_uid, rank_, study_date, modalities, body_part, matched_by, status, fetched_at FROM prior_link
		WHERE study_uid = ? ORDER BY rank_`, studyUID)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var l Link
		var mods string
		if err := rows.Scan(&l.StudyUID, &l.Rank, &l.StudyDate, &mods, &l.BodyPart, &l.MatchedBy, &l.Status, &l.FetchedAt); err != nil {
			return f, err
		}
		l.Modalities = strings.Split(mods, `\`)
		f.Priors = append(f.Priors, l)
	}
	return f, rows.Err()
}
