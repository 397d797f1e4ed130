package api

import (
	"net/http"

	"lightbox/internal/auth"
	"lightbox/internal/station"
)

// The caller's own station preferences (key map, break reminders):
//
//	GET /api/preferences -> station.Preferences (defaults when none saved)
//	PUT /api/preferences  station.Preferences -> the saved preferences

func (a *API) stations() station.Store { return station.Store{DB: a.db, Now: a.now} }

func (a *API) getPreferences(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	prefs, err := a.stations().Get(r.Context(), p.Username)
	a.reply(w, http.StatusOK, prefs, err)
}

func (a *API) putPreferences(w http.ResponseWriter, r *http.Request, p *auth.Principal, prefs station.Preferences) {
	if err := a.stations().Put(r.Context(), p.Username, prefs); err != nil {
		a.domainFail(w, err, station.ErrInvalid, nil)
		return
	}
	a.getPreferences(w, r, p)
}
