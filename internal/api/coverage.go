package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/auth"
	"lightbox/internal/coverage"
	"lightbox/internal/httpx"
	"lightbox/internal/model"
)

// Coverage planning: the gap map of the roster for the coming week.

// coverageGaps: ?from=RFC3339 (default this hour), ?hours=1..336 (168),
// ?modality=CT,MR (CT), ?facility=ID,ID (every facility in scope).
func (a *API) coverageGaps(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	from := a.now()
	if v := q.Get("from"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "from must be an RFC 3339 time")
			return
		}
		from = t
	}
	hours := 168
	if v := q.Get("hours"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 336 {
			writeError(w, http.StatusBadRequest, "hours must be 1 to 336")
			return
		}
		hours = n
	}
	mods := []string{"CT"}
	if v := q.Get("modality"); v != "" {
		mods = strings.Split(strings.ToUpper(v), ",")
	}
	var only []string
	if v := q.Get("facility"); v != "" {
		only = strings.Split(v, ",")
	}
	facs, err := a.roster.Facilities(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	var sel []*model.Facility
	for _, f := range facs {
		if p.Sees(f.ID) && (only == nil || slices.Contains(only, f.ID)) {
			sel = append(sel, f)
		}
	}
	rs, err := a.roster.Readers(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, coverage.Compute(sel, rs, from, hours, mods))
}
