package api

import (
	"errors"
	"net/http"
	"strconv"

	"lightbox/internal/auth"
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

func (a *API) listHolds(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	hs, err := a.retention.Holds(r.Context())
	a.reply(w, http.StatusOK, hs, err)
}

func (a *API) addHold(w http.ResponseWriter, r *http.Request, p *auth.Principal, h retention.Hold) {
	h, err := a.retention.AddHold(r.Context(), actor(r, p), retention.Hold{StudyUID: h.StudyUID, Issuer: h.Issuer, PatientID: h.PatientID, Reason: h.Reason})
	if errors.Is(err, retention.ErrInvalid) {
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	a.reply(w, http.StatusCreated, h, err)
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

type runRetentionBody struct {
	DryRun bool `json:"dry_run"`
}

func (a *API) runRetention(w http.ResponseWriter, r *http.Request, p *auth.Principal, req runRetentionBody) {
	rep, err := a.retention.Run(r.Context(), actor(r, p), req.DryRun)
	a.reply(w, http.StatusOK, rep, err)
}

type putRetentionBody struct {
	Years int `json:"years"`
}

func (a *API) putRetention(w http.ResponseWriter, r *http.Request, p *auth.Principal, req putRetentionBody) {
	id := r.PathValue("id")
	err := a.setup.SetRetention(r.Context(), actor(r, p), id, req.Years)
	a.setupDone(w, r, err, map[string]any{"facility_id": id, "years": req.Years})
}
