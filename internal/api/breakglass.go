package api

import (
	"context"
	"net/http"
	"time"

	"lightbox/internal/auth"
	"lightbox/internal/breakglass"
	"lightbox/internal/httpx"
	"lightbox/internal/notify"
	"lightbox/internal/query"
)

// Break-glass: a reader opens a study outside their scope in an emergency.
//
//	POST /api/studies/{study}/break-glass  {"reason": "..."} -> breakglass.Grant
//	GET  /api/break-glass?since=YYYY-MM-DD  -> []breakglass.Grant (administrators)
//
// The grant lasts the configured time; the audit middleware (internal/server)
// records the grant as an emergency override and every use under it, and
// the privacy officer is told at once.

// breakGlassGrants lists the grants opened since ?since=YYYY-MM-DD
// (default: the last 30 days) with the reasons given, for the privacy
// officer's audit screen: notifications name only the reader and facility.
func (a *API) breakGlassGrants(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	since := time.Now().AddDate(0, 0, -30)
	if s := r.URL.Query().Get("since"); s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since: want YYYY-MM-DD, got %q", s)
			return
		}
		since = t
	}
	gs, err := a.glass.Since(r.Context(), since)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, gs)
}

type breakGlassBody struct {
	Reason string `json:"reason"`
}

func (a *API) breakGlass(w http.ResponseWriter, r *http.Request, p *auth.Principal, req breakGlassBody) {
	study := r.PathValue("study")
	fac, exists, err := query.New(a.db).StudyFacility(r.Context(), study)
	if err != nil {
		a.fail(w, err)
		return
	}
	if !exists {
		writeError(w, http.StatusNotFound, "no such study")
		return
	}
	if p.Sees(fac) {
		writeError(w, http.StatusConflict, "the study is already in your scope")
		return
	}
	g, err := a.glass.Open(r.Context(), p.Username, study, fac, req.Reason)
	if err != nil {
		a.domainFail(w, err, breakglass.ErrInvalid, nil)
		return
	}
	if a.notify != nil {
		m, to := notify.FromBreakGlass(g)
		if err := a.notify.Send(context.WithoutCancel(r.Context()), m, to...); err != nil {
			a.log.Warn("notify", "event", notify.BreakGlass, "err", err)
		}
	}
	httpx.JSON(w, http.StatusCreated, g)
}
