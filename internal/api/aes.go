package api

import (
	"errors"
	"net/http"

	"lightbox/internal/ae"
	"lightbox/internal/auth"
)

// Remote DICOM AEs, for administrators: who may associate, where C-MOVE
// sends, which facility an AE sends for.
func (a *API) registerAEs(mux Mux) {
	admin := []auth.Role{auth.Admin}
	mux.HandleFunc("GET /api/aes", a.with(a.listAEs, admin...))
	mux.HandleFunc("PUT /api/aes/{title}", a.with(a.putAE, admin...))
	mux.HandleFunc("DELETE /api/aes/{title}", a.with(a.deleteAE, admin...))
}

func (a *API) listAEs(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	l, err := ae.Store{DB: a.db}.List(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	if l == nil {
		l = []ae.Entity{}
	}
	writeJSON(w, http.StatusOK, l)
}

func (a *API) putAE(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var e ae.Entity
	if err := decode(r, &e); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	e.Title = r.PathValue("title")
	if err := (ae.Store{DB: a.db}).Put(r.Context(), e); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (a *API) deleteAE(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	s := ae.Store{DB: a.db}
	if _, err := s.Get(r.Context(), r.PathValue("title")); errors.Is(err, ae.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no AE %s", r.PathValue("title"))
		return
	}
	if err := s.Delete(r.Context(), r.PathValue("title")); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "deleted"})
}
