package api

import (
	"errors"
	"net/http"
	"strconv"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/retention"
)

// Retention and legal holds (administrators only; internal/retention):
//
//	GET    /api/retention/holds              -> [retention.Hold]
//	POST   /api/retention/holds              {"study_uid"} or {"patient_id","issuer"}, "reason" -> 201 retention.Hold
//	DELETE /api/retention/holds/{id}         -> 204
//	POST   /api/retention/run                {"dry_run": true} -> retention.Report
//	PUT    /api/facilities/{id}/retention    {"years": N} (0: keep for ever)
//
// Every change and every run is audited with who made it.
func (a *API) registerRetention(mux Mux) {
	if a.retention == nil {
		return
	}
	mux.HandleFunc("GET /api/retention/holds", a.with(a.listHolds, admins...))
	mux.HandleFunc("POST /api/retention/holds", a.with(a.addHold, admins...))
	mux.HandleFunc("DELETE /api/retention/holds/{id}", a.with(a.removeHold, admins...))
	mux.HandleFunc("POST /api/retention/run", a.with(a.runRetention, admins...))
	mux.HandleFunc("PUT /api/facilities/{id}/retention", a.with(a.putRetention, admins...))
}

func (a *API) listHolds(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	hs, err := a.retention.Holds(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, hs)
}

func (a *API) addHold(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var h retention.Hold
	if err := decode(r, &h); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	h, err := a.retention.AddHold(r.Context(), actor(r, p), retention.Hold{StudyUID: h.StudyUID, Issuer: h.Issuer, PatientID: h.PatientID, Reason: h.Reason})
	if errors.Is(err, retention.ErrInvalid) {
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, h)
}

func (a *API) removeHold(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad hold id")
		return
	}
	err = a.retention.RemoveHold(r.Context(), actor(r, p), id)
	if errors.Is(err, retention.ErrNotFound) {
		writeError(w, http.StatusNotFound, "%v", err)
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) runRetention(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var req struct {
		DryRun bool `json:"dry_run"`
	}
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	rep, err := a.retention.Run(r.Context(), actor(r, p), req.DryRun)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, rep)
}

func (a *API) putRetention(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var req struct {
		Years int `json:"years"`
	}
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	id := r.PathValue("id")
	err := a.setup.SetRetention(r.Context(), actor(r, p), id, req.Years)
	a.setupDone(w, r, err, map[string]any{"facility_id": id, "years": req.Years})
}
