package irconsult

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/roster"
)

// Errors callers map to HTTP answers.
var (
	ErrInvalid  = errors.New("invalid IR consult")
	ErrNotFound = errors.New("no such IR consult")
	ErrState    = errors.New("the consult is not in a state that allows this")
	ErrNoOnCall = errors.New("no interventional radiologist is on call for the facility's region")
)

// Sources, indications, urgencies, statuses and decisions.
var (
	Sources     = []string{"report", "clinician"}
	Indications = []string{"active bleed", "high-risk PE", "abscess for drainage", "other"}
	Urgencies   = []string{"emergent", "urgent", "routine"}
	Decisions   = []string{"transfer", "local"}
)

// Statuses.
const (
	Requested   = "requested"
	Accepted    = "accepted"
	Recommended = "recommended"
	Closed      = "closed"
)

// Consult is one IR teleconsult.
type Consult struct {
	ID              int64  `json:"id"`
	StudyUID        string `json:"study_uid"`
	FacilityID      string `json:"facility_id"`
	ReportID        string `json:"report_id,omitempty"`
	Source          string `json:"source"`
	Indication      string `json:"indication"`
	Question        string `json:"question"`
	Urgency         string `json:"urgency"`
	Requester       string `json:"requester"`
	Consultant      string `json:"consultant"`
	Region          string `json:"region"`
	Status          string `json:"status"`
	ImagingReviewed string `json:"imaging_reviewed,omitempty"`
	Recommendation  string `json:"recommendation,omitempty"`
	Decision        string `json:"decision,omitempty"`
	ReceivingCentre string `json:"receiving_centre,omitempty"`
	RequestedAt     string `json:"requested_at"`
	AcceptedAt      string `json:"accepted_at,omitempty"`
	RecommendedAt   string `json:"recommended_at,omitempty"`
	ClosedAt        string `json:"closed_at,omitempty"`
}

// Store keeps consults.
type Store struct {
	DB     *db.DB
	Roster roster.Store
	Now    func() time.Time
}

func (s Store) now() time.Time { return db.NowOr(s.Now) }

// OnCallSubspecialty is the on-call list an IR consult for region goes to.
func OnCallSubspecialty(region string) string {
	return "ir-" + strings.ToLower(strings.TrimSpace(region))
}

// Route returns the first interventional radiologist on call for region
// now (the region's list, then the group-wide "ir" list).
func (s Store) Route(ctx context.Context, region string) (string, error) {
	for _, sub := range []string{OnCallSubspecialty(region), "ir"} {
		list, err := s.Roster.OnCallAt(ctx, sub, s.now())
		if err != nil {
			return "", err
		}
		if len(list) > 0 {
			return list[0].ReaderID, nil
		}
	}
	return "", ErrNoOnCall
}

func text(s string, max int) bool { return strings.TrimSpace(s) != "" && len(s) <= max }

// Request opens a consult routed to the IR on call for region.
func (s Store) Request(ctx context.Context, c Consult) (Consult, error) {
	switch {
	case c.StudyUID == "" || c.FacilityID == "":
		return c, fmt.Errorf("%w: a study is required", ErrInvalid)
	case !slices.Contains(Sources, c.Source) || !slices.Contains(Indications, c.Indication) || !slices.Contains(Urgencies, c.Urgency):
		return c, fmt.Errorf("%w: source (%s), indication (%s) and urgency (%s) required", ErrInvalid,
			strings.Join(Sources, ", "), strings.Join(Indications, ", "), strings.Join(Urgencies, ", "))
	case !text(c.Question, 4000):
		return c, fmt.Errorf("%w: a question is required", ErrInvalid)
	}
	who, err := s.Route(ctx, c.Region)
	if err != nil {
		return c, err
	}
	c.Consultant, c.Status, c.RequestedAt = who, Requested, db.Now(s.now())
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO ir_consult (study_uid, facility_id, report_id, source, indication, question, urgency, requester, consultant, region, status, requested_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk`, c.StudyUID, c.FacilityID, c.ReportID, c.Source, c.Indication, c.Question, c.Urgency,
			c.Requester, c.Consultant, c.Region, c.Status, c.RequestedAt).Scan(&c.ID)
	})
	if err != nil {
		return c, fmt.Errorf("IR consult: %w", err)
	}
	return c, nil
}

const cols = `pk, study_uid, facility_id, report_id, source, indication, question, urgency, requester, consultant, region, status,
	imaging_reviewed, recommendation, decision, receiving_centre, requested_at, accepted_at, recommended_at, closed_at`

func scan(r db.Scanner) (Consult, error) {
	var c Consult
	err := r.Scan(&c.ID, &c.StudyUID, &c.FacilityID, &c.ReportID, &c.Source, &c.Indication, &c.Question, &c.Urgency, &c.Requester, &c.Consultant,
		&c.Region, &c.Status, &c.ImagingReviewed, &c.Recommendation, &c.Decision, &c.ReceivingCentre, &c.RequestedAt, &c.AcceptedAt, &c.RecommendedAt, &c.ClosedAt)
	return c, err
}

// Get returns one consult.
func (s Store) Get(ctx context.Context, id int64) (Consult, error) {
	c, err := scan(s.DB.QueryRow(ctx, "SELECT "+cols+" FROM ir_consult WHERE pk = ?", id))
	return c, db.NotFound(err, ErrNotFound)
}

// List returns the consults user requested or answers (all when user is
// ""), newest first.
func (s Store) List(ctx context.Context, user string) ([]Consult, error) {
	q, args := "SELECT "+cols+" FROM ir_consult", []any{}
	if user != "" {
		q += " WHERE requester = ? OR consultant = ?"
		args = append(args, user, user)
	}
	return db.List("IR consults", db.Rows(s.DB.Query(ctx, q+" ORDER BY pk DESC", args...)), scan)
}

// step moves a consult of consultant from one status to the next.
func (s Store) step(ctx context.Context, id int64, consultant string, from []string, set func(*Consult, string) error, sqlSet string, args func(Consult) []any) (Consult, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return c, err
	}
	if c.Consultant != consultant || !slices.Contains(from, c.Status) {
		return c, ErrState
	}
	if err := set(&c, db.Now(s.now())); err != nil {
		return c, err
	}
	a := append(args(c), id, c.Consultant)
	_, err = s.DB.Exec(ctx, "UPDATE ir_consult SET "+sqlSet+" WHERE pk = ? AND consultant = ?", a...)
	return c, err
}

// Accept records that the consultant took the consult.
func (s Store) Accept(ctx context.Context, id int64, consultant string) (Consult, error) {
	return s.step(ctx, id, consultant, []string{Requested}, func(c *Consult, now string) error {
		c.Status, c.AcceptedAt = Accepted, now
		return nil
	}, "status = ?, accepted_at = ?", func(c Consult) []any { return []any{c.Status, c.AcceptedAt} })
}

// Recommend records the imaging reviewed and the recommendation.
func (s Store) Recommend(ctx context.Context, id int64, consultant, imaging, recommendation string) (Consult, error) {
	return s.step(ctx, id, consultant, []string{Accepted, Recommended}, func(c *Consult, now string) error {
		if !text(imaging, 4000) || !text(recommendation, 8000) {
			return fmt.Errorf("%w: the imaging reviewed and a recommendation are required", ErrInvalid)
		}
		c.Status, c.ImagingReviewed, c.Recommendation, c.RecommendedAt = Recommended, imaging, recommendation, now
		return nil
	}, "status = ?, imaging_reviewed = ?, recommendation = ?, recommended_at = ?",
		func(c Consult) []any { return []any{c.Status, c.ImagingReviewed, c.Recommendation, c.RecommendedAt} })
}

// Close records the decision: transfer (to a receiving centre) or local
// management.
func (s Store) Close(ctx context.Context, id int64, consultant, decision, centre string) (Consult, error) {
	return s.step(ctx, id, consultant, []string{Recommended}, func(c *Consult, now string) error {
		if !slices.Contains(Decisions, decision) || (decision == "transfer") != text(centre, 200) {
			return fmt.Errorf("%w: decision transfer (with the receiving centre) or local", ErrInvalid)
		}
		c.Status, c.Decision, c.ReceivingCentre, c.ClosedAt = Closed, decision, strings.TrimSpace(centre), now
		return nil
	}, "status = ?, decision = ?, receiving_centre = ?, closed_at = ?",
		func(c Consult) []any { return []any{c.Status, c.Decision, c.ReceivingCentre, c.ClosedAt} })
}

// Durations are the consult's intervals, from the request.
type Durations struct {
	ToAccept, ToRecommendation, ToClosure time.Duration
}

// Timings computes the intervals reached so far.
func (c Consult) Timings() Durations {
	t0, _ := db.ParseTime(c.RequestedAt)
	since := func(s string) time.Duration {
		if s == "" {
			return 0
		}
		t, _ := db.ParseTime(s)
		return t.Sub(t0)
	}
	return Durations{since(c.AcceptedAt), since(c.RecommendedAt), since(c.ClosedAt)}
}
