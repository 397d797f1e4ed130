package api

import (
	"net/http"

	"lightbox/internal/ae"
	"lightbox/internal/auth"
)

// Remote DICOM AEs, for administrators: who may associate, where C-MOVE
// sends, which facility an AE sends for.

func (a *API) listAEs(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	l, err := ae.Store{DB: a.db}.List(r.Context())
	replyList(w, a.fail, l, err)
}

func (a *API) putAE(w http.ResponseWriter, r *http.Request, p *auth.Principal, e ae.Entity) {
	e.Title = r.PathValue("title")
	a.setupDone(w, r, a.setup.PutAE(r.Context(), actor(r, p), e), e)
}

func (a *API) deleteAE(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.setupDone(w, r, a.setup.DeleteAE(r.Context(), actor(r, p), r.PathValue("title")), map[string]string{"status": "deleted"})
}
