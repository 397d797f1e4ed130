package critical

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"lightbox/internal/db"
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
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrTokenInvalid
	}
	if err != nil {
		return t, fmt.Errorf("critical: ack token: %w", err)
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
	_ = s.db.QueryRow(ctx, "SELECT name FROM facility WHERE id = ?", r.FacilityID).Scan(&v.FacilityName)
	v.IdentifiedAt = r.IdentifiedAt.In(facilityLocation(ctx, s.db, r.FacilityID)).Format("2006-01-02 15:04 MST")
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

// ackPage renders the public pages. No inline script or style (CSP).
var ackPage = template.Must(template.New("ack").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title></head>
<body><main>
<h1>{{.Title}}</h1>
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{with .View}}<dl>
{{if .FacilityName}}<dt>Facility</dt><dd>{{.FacilityName}}</dd>{{end}}
{{if .Accession}}<dt>Accession</dt><dd>{{.Accession}}</dd>{{end}}
<dt>Category</dt><dd>{{.Category}}{{if .CategoryLabel}} ({{.CategoryLabel}}){{end}}</dd>
<dt>Finding</dt><dd>{{.Finding}}</dd>
<dt>Radiologist</dt><dd>{{.Reader}}</dd>
<dt>Identified</dt><dd>{{.IdentifiedAt}}</dd>
</dl>
{{if $.Form}}<form method="post">
<p><label for="name">Your full name</label><br><input id="name" name="name" required maxlength="200" autocomplete="name"></p>
<p><label for="role">Your role (optional)</label><br><input id="role" name="role" maxlength="200"></p>
<p><button type="submit">I confirm I have received this critical result</button></p>
</form>{{end}}{{end}}
</main></body></html>
`))

type ackPageData struct {
	Title, Message string
	View           *AckView
	Form           bool
}

func renderAck(w http.ResponseWriter, code int, d ackPageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	_ = ackPage.Execute(w, d)
}

func ackError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrTokenUsed):
		renderAck(w, http.StatusGone, ackPageData{Title: "Link already used", Message: "This acknowledgement link has already been used. Nothing was changed. Contact the reading radiologist if you need to confirm again."})
	case errors.Is(err, ErrTokenExpired):
		renderAck(w, http.StatusGone, ackPageData{Title: "Link expired", Message: "This acknowledgement link has expired. Nothing was changed. Please contact the reading radiologist or the radiology coordinator."})
	case errors.Is(err, ErrClosed):
		renderAck(w, http.StatusGone, ackPageData{Title: "Already closed", Message: "This critical result has already been communicated and closed. Nothing was changed."})
	case errors.Is(err, ErrTokenInvalid), errors.Is(err, ErrNotFound):
		renderAck(w, http.StatusNotFound, ackPageData{Title: "Link not valid", Message: "This acknowledgement link is not valid. Nothing was changed. Check that the whole link was copied."})
	default:
		renderAck(w, http.StatusInternalServerError, ackPageData{Title: "Something went wrong", Message: "Your confirmation could not be recorded. Please call the reading radiologist."})
	}
}
