package api

import (
	"errors"
	"net/http"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/priors"
	"lightbox/internal/query"
)

// Priors from the facility's PACS (internal/priors):
//
//	GET    /api/studies/{study}/priors   -> priors.Fetch (who asked, when, how matched, the priors linked, best first)
//	GET    /api/pacs                     -> []priors.Source (administrators, coordinators)
//	PUT    /api/facilities/{id}/pacs      priors.Source -> the saved one (administrators; audited set-up)
//	DELETE /api/facilities/{id}/pacs      (administrators)
//
// A study must be in the caller's scope; priors outside it are left out.

func (a *API) studyPriors(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	study, ok := a.seesStudy(w, r, p)
	if !ok {
		return
	}
	f, err := priors.FetchOf(r.Context(), a.db, study)
	if errors.Is(err, priors.ErrNoFetch) {
		httpx.JSON(w, http.StatusOK, priors.Fetch{StudyUID: study, Status: "none", Priors: []priors.Link{}})
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	q := query.New(a.db)
	visible := f.Priors[:0]
	for _, l := range f.Priors {
		fac, exists, err := q.StudyFacility(r.Context(), l.StudyUID)
		if err != nil {
			a.fail(w, err)
			return
		}
		if !exists && l.Status != "retrieving" && l.Status != "failed" || exists && !p.Sees(fac) {
			continue
		}
		visible = append(visible, l)
	}
	f.Priors = visible
	httpx.JSON(w, http.StatusOK, f)
}

func (a *API) listPACS(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	l, err := a.setup.PACSList(r.Context())
	a.reply(w, http.StatusOK, l, err)
}

func (a *API) putPACS(w http.ResponseWriter, r *http.Request, p *auth.Principal, src priors.Source) {
	src.FacilityID = r.PathValue("id")
	err := a.setup.PutPACS(r.Context(), actor(r, p), src)
	if err == nil {
		err = src.Normalize()
	}
	a.setupDone(w, r, err, src)
}

func (a *API) deletePACS(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.setupDone(w, r, a.setup.DeletePACS(r.Context(), actor(r, p), r.PathValue("id")), map[string]string{"status": "deleted"})
}
