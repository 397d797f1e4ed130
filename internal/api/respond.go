package api

import (
	"net/http"

	"lightbox/internal/httpx"
)

// decodeBody decodes the JSON request body into v; when it cannot, it
// answers 400 and returns false, and the handler returns.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := decode(r, v); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return false
	}
	return true
}

// reply answers v as JSON with status, or an unexpected err as an internal
// error (see fail).
func (a *API) reply(w http.ResponseWriter, status int, v any, err error) {
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, status, v)
}
