package api

import (
	"net/http"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/model"
	"lightbox/internal/setup"
)

// Shifts: each reader's weekly pattern on their own clock, one-off shifts
// in absolute time, and the whole group's patterns as CSV.

func (a *API) getExtraWork(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rd, err := a.roster.Reader(r.Context(), p.Username)
	if err != nil {
		httpx.JSON(w, http.StatusNotFound, setup.Error{Code: setup.CodeNotFound, Msg: "you are not on the roster"})
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]bool{"extra_work": rd.ExtraWork})
}

type putExtraWorkBody struct {
	On bool `json:"on"`
}

// putExtraWork: a reader opts in to (or out of) work beyond their fair
// share. It is theirs to decide, so only they set it; it persists with
// their reader document and the engine sees it at once.
func (a *API) putExtraWork(w http.ResponseWriter, r *http.Request, p *auth.Principal, b putExtraWorkBody) {
	a.setupDone(w, r, a.setup.SetExtraWork(r.Context(), actor(r, p), p.Username, b.On), map[string]bool{"extra_work": b.On})
}

func (a *API) getShifts(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rd, ok := a.ownReader(w, r, p, "shifts")
	if !ok {
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"reader_id": rd.ID, "time_zone": rd.TimeZone, "shifts": orEmpty(rd.Shifts), "blocks": orEmpty(rd.Blocks)})
}

func (a *API) putShifts(w http.ResponseWriter, r *http.Request, p *auth.Principal, shifts []model.Shift) {
	a.setupDone(w, r, a.setup.SetShifts(r.Context(), actor(r, p), r.PathValue("id"), shifts), shifts)
}

func (a *API) addBlock(w http.ResponseWriter, r *http.Request, p *auth.Principal, b model.Block) {
	a.setupDone(w, r, a.setup.AddBlock(r.Context(), actor(r, p), r.PathValue("id"), b), b)
}

func (a *API) exportShifts(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	exportAs(w, "csv", "shifts")
	if err := a.setup.ExportShifts(r.Context(), w); err != nil {
		a.log.Error("export shifts", "err", err)
	}
}

func (a *API) importShifts(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if f, _ := importFormat(r); f != "csv" {
		httpx.JSON(w, http.StatusUnsupportedMediaType, setup.Error{Code: setup.CodeFormat, Msg: "send text/csv: " + "reader_id,type,days,start,end"})
		return
	}
	rep, err := a.setup.ImportShifts(r.Context(), actor(r, p), http.MaxBytesReader(w, r.Body, maxBody))
	a.setupDone(w, r, err, rep)
}
