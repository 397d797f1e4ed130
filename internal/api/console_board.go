package api

import (
	"net/http"
	"sort"

	"lightbox/internal/assign"
	"lightbox/internal/auth"
	"lightbox/internal/dispatch"
	"lightbox/internal/httpx"
	"lightbox/internal/model"
)

// The coverage console beside the board (issue #17 point 2): readers with
// their presence and queue in RVUs, and for each uncovered study the
// readers who hold every credential for it and could read it if they came
// online (checked as at signature: present and on shift).
func (a *API) coverageConsole(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ctx := r.Context()
	studies, err := dispatch.Uncovered(ctx, a.db)
	if err != nil {
		a.fail(w, err)
		return
	}
	rs, ok := a.readersOr500(w, r)
	if !ok {
		return
	}
	facs := a.facilityMap(ctx)
	now := a.now()
	cover := map[string][]string{}
	for i := range studies {
		st := &studies[i]
		if !p.Sees(st.FacilityID) {
			continue
		}
		st.Facility = facs[st.FacilityID]
		kind := model.Final
		if st.Need == model.NeedPrelim {
			kind = model.Prelim
		}
		names := []string{}
		for _, rd := range rs {
			if len(model.Check(rd, st, kind, now, model.Signing())) == 0 {
				names = append(names, rd.ID)
			}
		}
		sort.Strings(names)
		cover[st.ID] = names
	}
	var loads []assign.Load
	if a.dispatch != nil {
		loads = a.dispatch.Loads()
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"readers": orEmpty(loads), "could_cover": cover})
}
