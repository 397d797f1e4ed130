package api

import (
	"fmt"
	"net/http"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
)

// maxBody bounds request bodies; imports of a whole roster fit easily.
const maxBody = 8 << 20

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	httpx.Error(w, code, fmt.Sprintf(format, args...))
}

// decode reads a JSON body strictly: unknown fields, trailing data and
// oversize bodies are errors the caller reports as 400.
func decode(r *http.Request, v any) error { return httpx.Decode(r, v, maxBody) }

// principalFunc authenticates a request.
type principalFunc func(*http.Request) (*auth.Principal, error)

type authedHandler func(w http.ResponseWriter, r *http.Request, p *auth.Principal)

// with authenticates, then checks the caller has one of the roles (none = any).
func (a *API) with(h authedHandler, roles ...auth.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := a.principal(r)
		if err != nil || p == nil {
			writeError(w, http.StatusUnauthorized, "authentication required")
			return
		}
		// Referring clinicians see their own patients' reports (report API,
		// DICOMweb); the group's worklist, orders and roster are not theirs.
		if p.Role == auth.Clinician && !hasRole(p, roles) {
			writeError(w, http.StatusForbidden, "role %s may not do this", p.Role)
			return
		}
		if len(roles) > 0 && !hasRole(p, roles) {
			writeError(w, http.StatusForbidden, "role %s may not do this", p.Role)
			return
		}
		h(w, r, p)
	}
}

func hasRole(p *auth.Principal, roles []auth.Role) bool {
	for _, r := range roles {
		if p.Role == r {
			return true
		}
	}
	return false
}
