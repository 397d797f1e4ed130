package api

import (
	"io"
	"net/http"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/query"
	"lightbox/internal/scope"
	"lightbox/internal/teaching"
)

// The group's teaching file (internal/teaching):
//
//	POST /api/studies/{study}/teaching            {"subspecialty","finding","note"} (radiologists) -> teaching.Case
//	GET  /api/teaching?subspecialty=&finding=     -> []teaching.Case
//	GET  /api/teaching/{id}                       -> teaching.Case
//	GET  /api/teaching/{id}/instances/{n}         -> application/dicom (anonymised, n from 1)
//
// Sharing needs the study in the reader's scope; what is stored is the
// de-identified copy (DICOM PS3.15 Basic Profile), which any signed-in
// member of the group may browse.

func (a *API) teaching() teaching.Store { return teaching.Store{DB: a.db, Now: a.now} }

func (a *API) shareTeaching(w http.ResponseWriter, r *http.Request, p *auth.Principal, study string, c teaching.Case) {
	ctx := r.Context()
	// The scope was checked above (seesStudy); list the study's instances.
	insts, err := query.New(a.db).Instances(ctx, scope.Scope{All: true}, query.Target{StudyUID: study})
	if err != nil {
		a.fail(w, err)
		return
	}
	c.Author = p.Username
	c, err = a.teaching().Share(ctx, c, len(insts), func(i int) ([]byte, error) {
		o, err := a.archive.Open(ctx, insts[i].Ref())
		if err != nil {
			return nil, err
		}
		defer o.Close()
		return io.ReadAll(o)
	})
	if err != nil {
		a.domainFail(w, err, teaching.ErrInvalid, teaching.ErrNotFound)
		return
	}
	httpx.JSON(w, http.StatusCreated, c)
}

func (a *API) listTeaching(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	cs, err := a.teaching().List(r.Context(), r.URL.Query().Get("subspecialty"), r.URL.Query().Get("finding"))
	a.reply(w, http.StatusOK, cs, err)
}

func (a *API) getTeaching(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if c, ok := byPathID(a, w, r, a.teaching().Get, nil, teaching.ErrInvalid, teaching.ErrNotFound); ok {
		httpx.JSON(w, http.StatusOK, c)
	}
}

func (a *API) teachingInstance(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	n, ok := pathID(w, r, "n")
	if !ok {
		return
	}
	b, err := a.teaching().Instance(r.Context(), id, int(n))
	if err != nil {
		a.domainFail(w, err, teaching.ErrInvalid, teaching.ErrNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/dicom")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}
