package api

import (
	"errors"
	"net/http"
	"strconv"

	"lightbox/internal/auth"
	"lightbox/internal/grants"
	"lightbox/internal/keyimage"
	"lightbox/internal/query"
)

// Key images and their measurements, saved with the study (who, when):
//
//	GET    /api/studies/{study}/key-images       -> []keyimage.KeyImage
//	POST   /api/studies/{study}/key-images        keyimage.KeyImage -> the saved one
//	DELETE /api/studies/{study}/key-images/{id}   (only the reader who marked it)
//
// The study must be in the caller's facility scope; the audit middleware
// (internal/server) records every call.

func (a *API) keyImages() keyimage.Store { return keyimage.Store{DB: a.db, Now: a.now} }

// seesStudy answers 404 for a study that does not exist or is outside the
// caller's scope (the same answer, so scope does not leak existence).
func (a *API) seesStudy(w http.ResponseWriter, r *http.Request, p *auth.Principal) (string, bool) {
	study := r.PathValue("study")
	_, ok := a.studyInScope(w, r, p, study)
	return study, ok
}

// studyInScope returns the facility of a study the caller sees (through
// privileges or a grant); for any other study it answers as seesStudy.
func (a *API) studyInScope(w http.ResponseWriter, r *http.Request, p *auth.Principal, study string) (string, bool) {
	// The archive's facility of the study, through the query engine (the
	// study table's read API), not SQL of our own.
	fac, exists, err := query.New(a.db).StudyFacility(r.Context(), study)
	if err != nil {
		a.fail(w, err)
		return "", false
	}
	if !exists || !p.Sees(fac) && !a.granted(r, p, study) {
		writeError(w, http.StatusNotFound, "no such study")
		return "", false
	}
	return fac, true
}

// granted reports a single-study grant of p to study: break glass, a
// consult or a tumor board (internal/grants, the same rule every edge uses).
func (a *API) granted(r *http.Request, p *auth.Principal, study string) bool {
	b := a.boards()
	return grants.Sources{BreakGlass: a.glass, Consults: a.consults, Boards: &b}.Allows(r.Context(), p.Username, p.Role == auth.Radiologist, study)
}

func (a *API) listKeyImages(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	study, ok := a.seesStudy(w, r, p)
	if !ok {
		return
	}
	ks, err := a.keyImages().List(r.Context(), study)
	a.reply(w, http.StatusOK, ks, err)
}

func (a *API) addKeyImage(w http.ResponseWriter, r *http.Request, p *auth.Principal, study string, k keyimage.KeyImage) {
	k.StudyUID = study
	saved, err := a.keyImages().Add(r.Context(), p.Username, k)
	if errors.Is(err, keyimage.ErrInvalid) {
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	a.reply(w, http.StatusCreated, saved, err)
}

func (a *API) deleteKeyImage(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	study, ok := a.seesStudy(w, r, p)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad key image id")
		return
	}
	if err := a.keyImages().Delete(r.Context(), p.Username, study, id); errors.Is(err, keyimage.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such key image of yours")
		return
	} else if err != nil {
		a.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
