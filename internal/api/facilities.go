package api

import (
	"net/http"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/setup"
)

// Facilities, for administrators: create or change one, bulk import and
// export (CSV or JSON). GET /api/facilities (the engine's view, in scope)
// and PUT /api/facilities/{id}/contract stay where they were.

func (a *API) putFacility(w http.ResponseWriter, r *http.Request, p *auth.Principal, f setup.Facility) {
	if f.ID != "" && f.ID != r.PathValue("id") {
		httpx.JSON(w, http.StatusUnprocessableEntity, setup.Error{Code: setup.CodeInvalid, Field: "id", Msg: "differs from the ID in the path"})
		return
	}
	f.ID = r.PathValue("id")
	a.setupDone(w, r, a.setup.PutFacility(r.Context(), actor(r, p), f), f)
}

func (a *API) importFacilities(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	format, ok := importFormat(r)
	if !ok {
		httpx.JSON(w, http.StatusUnsupportedMediaType, setup.Error{Code: setup.CodeFormat, Msg: "send text/csv or application/json"})
		return
	}
	rep, err := a.setup.ImportFacilities(r.Context(), actor(r, p), http.MaxBytesReader(w, r.Body, maxBody), format)
	a.setupDone(w, r, err, rep)
}

func (a *API) exportFacilities(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	format := r.URL.Query().Get("format")
	exportAs(w, format, "facilities")
	if err := a.setup.ExportFacilities(r.Context(), w, format); err != nil {
		a.log.Error("export facilities", "err", err)
	}
}
