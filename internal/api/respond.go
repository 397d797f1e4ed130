package api

import (
	"net/http"

	"lightbox/internal/auth"
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

// visibleTo answers what a load returned: a record the caller may not see
// (sees false; nil: anyone may) as notFound, like one that does not exist,
// so a stranger learns nothing of it, and any error through fail. ok says
// whether v may be used.
func visibleTo[T any](w http.ResponseWriter, fail func(http.ResponseWriter, error), v T, err error, sees func(T) bool, notFound error) (T, bool) {
	if err == nil && sees != nil && !sees(v) {
		err = notFound
	}
	if err != nil {
		fail(w, err)
		return v, false
	}
	return v, true
}

// replyList answers l as a JSON array, [] rather than null when empty, or
// err through the resource's fail.
func replyList[T any](w http.ResponseWriter, fail func(http.ResponseWriter, error), l []T, err error) {
	if err != nil {
		fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, orEmpty(l))
}

// orEmpty is l, or an empty slice when l is nil, so that JSON says []
// rather than null.
func orEmpty[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// withBody adapts a handler of a JSON request body: the body is decoded as
// a T before h runs, and one that is not a T is answered 400 (decodeBody).
func withBody[T any](h func(w http.ResponseWriter, r *http.Request, p *auth.Principal, body T)) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		var body T
		if !decodeBody(w, r, &body) {
			return
		}
		h(w, r, p, body)
	}
}

// shown answers what find resolves from the path as JSON (find answers 404
// or 403 itself when the caller may not see it).
func shown[R any](find func(w http.ResponseWriter, r *http.Request, p *auth.Principal) (R, bool)) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		if v, ok := find(w, r, p); ok {
			httpx.JSON(w, http.StatusOK, v)
		}
	}
}

// withBodyOf adapts a handler of what the path names and a JSON body:
// find resolves the path first (answering 404 or 403 itself when the caller
// may not see it), then the body is decoded as a T (400 when it is not one),
// then h runs with both.
func withBodyOf[R, T any](find func(w http.ResponseWriter, r *http.Request, p *auth.Principal) (R, bool), h func(w http.ResponseWriter, r *http.Request, p *auth.Principal, found R, body T)) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		found, ok := find(w, r, p)
		if !ok {
			return
		}
		var body T
		if !decodeBody(w, r, &body) {
			return
		}
		h(w, r, p, found, body)
	}
}
