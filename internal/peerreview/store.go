package peerreview

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/db"
)

// Errors callers map to HTTP answers.
var (
	ErrInvalid  = errors.New("invalid peer review")
	ErrNotFound = errors.New("no such peer review")
	ErrNotYours = errors.New("the review is not assigned to you")
)

// Statuses of a review.
const (
	Assigned    = "assigned"    // waiting for the reviewer's score
	Arbitration = "arbitration" // scored 2b or above, waiting for the arbiter
	Closed      = "closed"
)

// Review is one peer review.
type Review struct {
	ID             int64  `json:"id"`
	StudyUID       string `json:"study_uid"`
	FacilityID     string `json:"facility_id"`
	Author         string `json:"author"`
	Period         string `json:"period"` // YYYY-MM of the final
	Reviewer       string `json:"reviewer"`
	Status         string `json:"status"`
	Score          string `json:"score,omitempty"`
	Comment        string `json:"comment,omitempty"`
	ScoredAt       string `json:"scored_at,omitempty"`
	Arbiter        string `json:"arbiter,omitempty"`
	FinalScore     string `json:"final_score,omitempty"` // the score that stands
	ArbiterComment string `json:"arbiter_comment,omitempty"`
	ClosedAt       string `json:"closed_at,omitempty"`
	CreatedAt      string `json:"created_at"`
}

// Anonymised returns the review as viewer sees it under p: the author is
// hidden from reviewers and arbiters, the reviewers from the author.
func (r Review) Anonymised(p Policy, viewer string) Review {
	if viewer != r.Author && p.HideAuthor {
		r.Author = "(anonymous)"
	}
	if viewer == r.Author && p.HideReviewer {
		r.Reviewer = "(anonymous)"
		if r.Arbiter != "" {
			r.Arbiter = "(anonymous)"
		}
	}
	return r
}

// Store keeps policies and reviews.
type Store struct {
	DB  *db.DB
	Now func() time.Time
}

func (s Store) now() time.Time { return db.NowOr(s.Now) }

var policyDoc = db.GroupDoc[Policy]{Table: "peer_review_policy", Name: "peer review policy"}

// Policy returns the group's policy (DefaultPolicy until one is set).
func (s Store) Policy(ctx context.Context) (Policy, error) {
	return policyDoc.Get(ctx, s.DB, DefaultPolicy())
}

// SetPolicy stores the group's policy.
func (s Store) SetPolicy(ctx context.Context, p Policy) error {
	return policyDoc.Put(ctx, s.DB, p, s.now())
}

// Period is the YYYY-MM of t (UTC).
func Period(t time.Time) string { return t.UTC().Format("2006-01") }

// Draw samples the finals of one month under the policy and assigns each
// to a reviewer (internal/model readers' subspecialties). Studies already
// under review count towards their author's target, so drawing a month
// twice adds nothing. It returns the new reviews and the studies that no
// eligible reviewer could take.
func (s Store) Draw(ctx context.Context, finals []Final, reviewers []Reviewer, rng *rand.Rand) ([]Review, []Final, error) {
	p, err := s.Policy(ctx)
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]Reviewer{}
	for _, r := range reviewers {
		byID[r.ID] = r
	}
	reviewed := map[string]bool{}
	all, err := s.List(ctx, "", "")
	if err != nil {
		return nil, nil, err
	}
	for _, v := range all {
		reviewed[v.StudyUID] = true
	}
	load, err := s.openLoad(ctx)
	if err != nil {
		return nil, nil, err
	}
	var out []Review
	var unassigned []Final
	now := db.Now(s.now())
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		for _, f := range sample(finals, p, rng, reviewed) {
			who, ok := Pick(f, byID[f.Author], reviewers, load, rng)
			if !ok {
				unassigned = append(unassigned, f)
				continue
			}
			r := Review{StudyUID: f.StudyUID, FacilityID: f.FacilityID, Author: f.Author, Period: Period(f.SignedAt), Reviewer: who, Status: Assigned, CreatedAt: now}
			if err := tx.QueryRow(ctx, `INSERT INTO peer_review (study_uid, facility_id, author, period, reviewer, status, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING pk`, r.StudyUID, r.FacilityID, r.Author, r.Period, r.Reviewer, r.Status, r.CreatedAt).Scan(&r.ID); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("peer review draw: %w", err)
	}
	return out, unassigned, nil
}

func (s Store) openLoad(ctx context.Context) (map[string]int, error) {
	return db.Counts(s.DB.Query(ctx, "SELECT reviewer, COUNT(*) FROM peer_review WHERE status = ? GROUP BY reviewer", Assigned))
}

const cols = `pk, study_uid, facility_id, author, period, reviewer, status, score, comment, scored_at, arbiter, final_score, arbiter_comment, closed_at, created_at`

func scan(r db.Scanner) (Review, error) {
	var v Review
	err := r.Scan(&v.ID, &v.StudyUID, &v.FacilityID, &v.Author, &v.Period, &v.Reviewer, &v.Status, &v.Score, &v.Comment, &v.ScoredAt, &v.Arbiter, &v.FinalScore, &v.ArbiterComment, &v.ClosedAt, &v.CreatedAt)
	return v, err
}

// Get returns one review.
func (s Store) Get(ctx context.Context, id int64) (Review, error) {
	v, err := scan(s.DB.QueryRow(ctx, "SELECT "+cols+" FROM peer_review WHERE pk = ?", id))
	return v, db.NotFound(err, ErrNotFound)
}

// List returns reviews, newest first: where is "" (all), "reviewer" (the
// user's to score or arbitrate) or "author" (about the user's reports).
func (s Store) List(ctx context.Context, where, user string) ([]Review, error) {
	q, args := "SELECT "+cols+" FROM peer_review", []any{}
	switch where {
	case "reviewer":
		q += " WHERE (reviewer = ? AND status = ?) OR (arbiter = ? AND status = ?)"
		args = append(args, user, Assigned, user, Arbitration)
	case "author":
		q += " WHERE author = ? AND status = ?"
		args = append(args, user, Closed)
	}
	return db.List("peer reviews", db.Rows(s.DB.Query(ctx, q+" ORDER BY pk DESC", args...)), scan)
}

// Score records the reviewer's score. Scores 1 to 2a close the review;
// 2b and above go to arbitration by arbiter (chosen by the caller with
// Pick, excluding the author and the first reviewer).
func (s Store) Score(ctx context.Context, id int64, reviewer, score, comment string, arbiter func(Review) (string, bool)) (Review, error) {
	if !slices.Contains(Scores, score) {
		return Review{}, fmt.Errorf("%w: score must be one of 1, 2a, 2b, 3a, 3b", ErrInvalid)
	}
	if Discrepant(score) && len(comment) < 3 || len(comment) > 4000 {
		return Review{}, fmt.Errorf("%w: a discrepancy needs a comment (up to 4000 characters)", ErrInvalid)
	}
	v, err := s.Get(ctx, id)
	if err != nil {
		return v, err
	}
	if v.Reviewer != reviewer || v.Status != Assigned {
		return v, ErrNotYours
	}
	now := db.Now(s.now())
	v.Score, v.Comment, v.ScoredAt = score, comment, now
	if Significant(score) {
		who, ok := arbiter(v)
		if !ok {
			return v, fmt.Errorf("%w: no second reviewer of the subspecialty is available for arbitration", ErrInvalid)
		}
		v.Status, v.Arbiter = Arbitration, who
	} else {
		v.Status, v.FinalScore, v.ClosedAt = Closed, score, now
	}
	_, err = s.DB.Exec(ctx, `UPDATE peer_review SET status = ?, score = ?, comment = ?, scored_at = ?, arbiter = ?, final_score = ?, closed_at = ? WHERE pk = ? AND status = ?`,
		v.Status, v.Score, v.Comment, v.ScoredAt, v.Arbiter, v.FinalScore, v.ClosedAt, id, Assigned)
	return v, err
}

// Arbitrate records the arbiter's score, which stands, and closes the review.
func (s Store) Arbitrate(ctx context.Context, id int64, arbiter, score, comment string) (Review, error) {
	if !slices.Contains(Scores, score) || len(comment) > 4000 {
		return Review{}, fmt.Errorf("%w: score must be one of 1, 2a, 2b, 3a, 3b", ErrInvalid)
	}
	v, err := s.Get(ctx, id)
	if err != nil {
		return v, err
	}
	if v.Arbiter != arbiter || v.Status != Arbitration {
		return v, ErrNotYours
	}
	v.Status, v.FinalScore, v.ArbiterComment, v.ClosedAt = Closed, score, comment, db.Now(s.now())
	_, err = s.DB.Exec(ctx, "UPDATE peer_review SET status = ?, final_score = ?, arbiter_comment = ?, closed_at = ? WHERE pk = ? AND status = ?",
		v.Status, v.FinalScore, v.ArbiterComment, v.ClosedAt, id, Arbitration)
	return v, err
}

// Rate is one reader's month of closed reviews.
type Rate struct {
	Author      string  `json:"author"`
	Period      string  `json:"period"`
	Reviewed    int     `json:"reviewed"`
	Discrepant  int     `json:"discrepant"`  // final score 2a or above
	Significant int     `json:"significant"` // final score 2b or above
	Rate        float64 `json:"rate"`        // discrepant / reviewed
}

// Rates returns per-reader, per-month discrepancy rates (the trend is the
// sequence of a reader's months), author then period.
func (s Store) Rates(ctx context.Context) ([]Rate, error) {
	all, err := s.List(ctx, "", "")
	if err != nil {
		return nil, err
	}
	idx := map[[2]string]*Rate{}
	var out []*Rate
	for _, v := range all {
		if v.Status != Closed {
			continue
		}
		k := [2]string{v.Author, v.Period}
		r := idx[k]
		if r == nil {
			r = &Rate{Author: v.Author, Period: v.Period}
			idx[k] = r
			out = append(out, r)
		}
		r.Reviewed++
		if Discrepant(v.FinalScore) {
			r.Discrepant++
		}
		if Significant(v.FinalScore) {
			r.Significant++
		}
	}
	slices.SortFunc(out, func(a, b *Rate) int {
		return cmp.Or(strings.Compare(a.Author, b.Author), strings.Compare(a.Period, b.Period))
	})
	res := make([]Rate, len(out))
	for i, r := range out {
		r.Rate = float64(r.Discrepant) / float64(r.Reviewed)
		res[i] = *r
	}
	return res, nil
}

// WriteCSV writes every review for the group's quality programme (RFC 4180).
func (s Store) WriteCSV(ctx context.Context, w io.Writer) error {
	all, err := s.List(ctx, "", "")
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "study_uid", "facility_id", "author", "period", "reviewer", "status", "score", "comment", "scored_at", "arbiter", "final_score", "arbiter_comment", "closed_at"})
	for i := len(all) - 1; i >= 0; i-- {
		v := all[i]
		_ = cw.Write([]string{strconv.FormatInt(v.ID, 10), v.StudyUID, v.FacilityID, v.Author, v.Period, v.Reviewer, v.Status, v.Score, v.Comment, v.ScoredAt, v.Arbiter, v.FinalScore, v.ArbiterComment, v.ClosedAt})
	}
	cw.Flush()
	return cw.Error()
}
