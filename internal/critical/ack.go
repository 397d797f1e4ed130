package critical

import (
	"context"
	"fmt"
	"strings"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/facility"
)

// AckView is what the public acknowledgement page shows: the minimum to
// identify the result in the clinician's own systems, no patient name or ID.
type AckView struct {
	FacilityName  string
	Accession     string
	Category      string
	CategoryLabel string
	Finding       string
	Reader        string
	IdentifiedAt  string // facility local time
	Intended      string // rung or person the link was sent to
	Acknowledged  bool   // already confirmed by someone (another link)
}

type ackToken struct {
	resultID, intended string
	level              int
	expires, used      time.Time
}

func loadToken(ctx context.Context, q querier, tok string) (ackToken, error) {
	var t ackToken
	var exp, used string
	if tok == "" || len(tok) > 100 {
		return t, ErrTokenInvalid
	}
	err := q.QueryRow(ctx, "SELECT result_id, level, intended, expires_at, used_at FROM crit_ack_token WHERE token_hash = ?", hashToken(tok)).
		Scan(&t.resultID, &t.level, &t.intended, &exp, &used)
	if err != nil {
		return t, db.RowErr(err, ErrTokenInvalid, "critical: ack token")
	}
	t.expires, t.used = db.ParseOptional(exp), db.ParseOptional(used)
	return t, nil
}

func (t ackToken) check(now time.Time) error {
	switch {
	case !t.used.IsZero():
		return ErrTokenUsed
	case !now.Before(t.expires):
		return ErrTokenExpired
	}
	return nil
}

// PeekAck validates an acknowledgement token and returns the page view.
func (s *Service) PeekAck(ctx context.Context, tok string) (AckView, error) {
	t, err := loadToken(ctx, s.db, tok)
	if err != nil {
		return AckView{}, err
	}
	if err := t.check(s.now()); err != nil {
		return AckView{}, err
	}
	r, err := loadResult(ctx, s.db, t.resultID)
	if err != nil {
		return AckView{}, err
	}
	if !r.ClosedAt.IsZero() {
		return AckView{}, ErrClosed
	}
	v := AckView{Accession: r.Accession, Category: r.Category, CategoryLabel: r.CategoryLabel, Finding: r.Finding.Text, Reader: r.CommunicatorName,
		Intended: t.intended, Acknowledged: !r.AckAt.IsZero()}
	if v.Finding == "" {
		v.Finding = r.Finding.Code
	}
	f, _ := facility.Get(ctx, s.db, r.FacilityID)
	v.FacilityName = f.Name
	v.IdentifiedAt = r.IdentifiedAt.In(f.Location()).Format("2006-01-02 15:04 MST")
	return v, nil
}

// ConfirmAck records an electronic identifiable confirmation: the name the
// clinician typed, through a single-use link. The token is spent and the
// receipt recorded in one transaction; the loop closes when the category
// allows it (non-verbal categories). Reused, expired or unknown tokens
// change nothing.
func (s *Service) ConfirmAck(ctx context.Context, tok, name, role string) (Result, error) {
	name, role = strings.TrimSpace(name), strings.TrimSpace(role)
	if name == "" || len(name) > 200 || len(role) > 200 {
		return Result{}, invalid("type your full name to confirm")
	}
	t, err := loadToken(ctx, s.db, tok)
	if err != nil {
		return Result{}, err
	}
	autoClosed := false
	r, err := s.mutate(ctx, t.resultID, func(tx *db.Tx, r *Result, now time.Time) ([]Notification, error) {
		t, err := loadToken(ctx, tx, tok)
		if err != nil {
			return nil, err
		}
		if err := t.check(now); err != nil {
			return nil, err
		}
		if !r.ClosedAt.IsZero() {
			return nil, ErrClosed
		}
		res, err := tx.Exec(ctx, "UPDATE crit_ack_token SET used_at = ?, used_name = ? WHERE token_hash = ? AND used_at = ''",
			db.FormatOptional(now), name, hashToken(tok))
		if err != nil {
			return nil, fmt.Errorf("critical: spend token: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, ErrTokenUsed
		}
		if role == "" {
			role = t.intended
		}
		by := Actor{ID: r.Communicator, Display: r.CommunicatorName}
		a := Attempt{Method: MethodSecureMessage, To: Recipient{Name: name, Role: role}, Outcome: OutcomeReached, AnsweredBy: name,
			Note: "confirmed through acknowledgement link", At: now, By: Actor{ID: "ack-link", Display: name}}
		if err := addAttempt(ctx, tx, r.ID, a, now); err != nil {
			return nil, err
		}
		r.AckAt, r.AckBy = now, name
		if r.CommunicatedAt.IsZero() {
			r.Recipient = Recipient{Name: name, Role: role}
			r.Method, r.CommunicatedAt, r.ReadBack = MethodSecureMessage, now, false
			r.CommunicatedBy, r.communicatedByName = by.ID, by.name()
		}
		if err := addEvent(ctx, tx, r.ID, now, "acknowledged", t.level, "ack-link", ""); err != nil {
			return nil, err
		}
		if closable(r) == nil {
			autoClosed = true
			return nil, s.closeLocked(ctx, tx, r, "ack-link", now)
		}
		return nil, nil
	})
	if err != nil {
		return Result{}, err
	}
	s.log.Info("critical result acknowledged", "result", r.ID, "closed", autoClosed)
	if autoClosed {
		if err := s.writeAddendum(ctx, r.ID); err != nil {
			s.log.Warn("addendum pending", "result", r.ID, "err", err)
		}
	}
	return r, nil
}
