package api

import (
	"errors"
	"net/http"
	"strings"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/setup"
)

// Set-up of a group (facilities, endpoints, readers, shifts, AEs) goes
// through internal/setup: validated, reference-checked, audited with the
// change. Errors carry a stable code: {"error", "code", "field"}.

var admins = []auth.Role{auth.Admin}

// actor is the audit participant of a request.
func actor(r *http.Request, p *auth.Principal) setup.Actor {
	return setup.Actor{UserID: p.Username, Role: string(p.Role), NetworkAddr: httpx.RemoteHost(r), Interface: audit.HTTP}
}

// withSetupBody is withBody for the set-up writes: a body that is not a T
// is answered 400 with setup.Error's format code, the code every set-up
// error carries for the screens.
func withSetupBody[T any](h func(w http.ResponseWriter, r *http.Request, p *auth.Principal, body T)) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		var body T
		if err := decode(r, &body); err != nil {
			httpx.JSON(w, http.StatusBadRequest, setup.Error{Code: setup.CodeFormat, Msg: err.Error()})
			return
		}
		h(w, r, p, body)
	}
}

// setupDone answers a set-up write: the error with its code, or ok after
// the dispatcher has picked the change up.
func (a *API) setupDone(w http.ResponseWriter, r *http.Request, err error, ok any) {
	if err != nil {
		a.setupError(w, err)
		return
	}
	if a.dispatch != nil {
		if err := a.dispatch.SyncSetup(r.Context()); err != nil {
			a.log.Warn("set-up saved; engine reload failed (retried at the next tick)", "err", err)
		}
	}
	httpx.JSON(w, http.StatusOK, ok)
}

func (a *API) setupError(w http.ResponseWriter, err error) {
	var e *setup.Error
	if !errors.As(err, &e) {
		a.fail(w, err)
		return
	}
	code := http.StatusUnprocessableEntity
	switch e.Code {
	case setup.CodeNotFound:
		code = http.StatusNotFound
	case setup.CodeFormat:
		code = http.StatusBadRequest
	case setup.CodeAuditFailed:
		a.log.Error("set-up change refused: audit failed", "err", err)
		code = http.StatusServiceUnavailable
	}
	httpx.JSON(w, code, e)
}

// importFormat reads the body's type: "csv" or "json".
func importFormat(r *http.Request) (string, bool) {
	switch ct := r.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "text/csv"):
		return "csv", true
	case strings.HasPrefix(ct, "application/json"):
		return "json", true
	}
	return "", false
}

// exportAs sets the headers of an export download.
func exportAs(w http.ResponseWriter, format, name string) {
	w.Header().Set("Cache-Control", "no-store")
	if strings.HasSuffix(format, "csv") {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
}
