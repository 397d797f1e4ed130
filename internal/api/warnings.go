package api

import (
	"net/http"
	"strconv"

	"lightbox/internal/archive"
	"lightbox/internal/auth"
)

// Instance warnings, for coordinators: what was odd about instances the
// archive accepted (meta disagreeing with the data set, no preamble, a
// detected transfer syntax), to follow up with the sending site.

// listWarnings: ?study=UID narrows to one study, ?limit=N (default 1000).
func (a *API) listWarnings(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	f := archive.WarningFilter{All: p.All, Facilities: p.Facilities, StudyUID: r.URL.Query().Get("study")}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit is a positive integer")
			return
		}
		f.Limit = n
	}
	ws, err := a.archive.Warnings(r.Context(), f)
	replyList(w, a.fail, ws, err)
}
