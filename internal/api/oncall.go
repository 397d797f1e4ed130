package api

import (
	"net/http"
	"time"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/roster"
)

// getOnCall answers "who is on call for neuro now (or at ?at=RFC3339)".
func (a *API) getOnCall(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	at := a.now()
	if v := r.URL.Query().Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "at must be an RFC 3339 time")
			return
		}
		at = t
	}
	l, err := a.roster.OnCallAt(r.Context(), r.PathValue("subspecialty"), at)
	replyList(w, a.fail, l, err)
}

type onCallBody struct {
	Start   time.Time       `json:"start"`
	End     time.Time       `json:"end"`
	Readers []roster.OnCall `json:"readers"`
}

// putOnCall replaces a subspecialty's on-call list for a window.
func (a *API) putOnCall(w http.ResponseWriter, r *http.Request, p *auth.Principal, b onCallBody) {
	if err := a.roster.SetOnCall(r.Context(), r.PathValue("subspecialty"), b.Start, b.End, b.Readers); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]string{"status": "saved"})
}
