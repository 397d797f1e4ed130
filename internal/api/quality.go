package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/model"
	"lightbox/internal/notify"
)

// Quality and collaboration programmes of issue #20: peer review
// (peerreview.go), teaching file (teaching.go), IR teleconsults
// (irconsults.go), tumor boards (tumorboards.go) and mentored reading
// (mentoring.go).

// policyStore keeps a quality programme's one policy (internal/peerreview,
// internal/mentor).
type policyStore[P any] interface {
	Policy(ctx context.Context) (P, error)
	SetPolicy(ctx context.Context, p P) error
}

// servePolicy answers GET with the programme's policy; PUT (staff, in the
// route table) replaces it with the body and answers it. invalid and
// notFound are the store's errors (422, 404).
func servePolicy[P any](a *API, w http.ResponseWriter, r *http.Request, s policyStore[P], invalid, notFound error) {
	if r.Method != http.MethodPut {
		pol, err := s.Policy(r.Context())
		a.reply(w, http.StatusOK, pol, err)
		return
	}
	var pol P
	if !decodeBody(w, r, &pol) {
		return
	}
	if err := s.SetPolicy(r.Context(), pol); err != nil {
		a.domainFail(w, err, invalid, notFound)
		return
	}
	httpx.JSON(w, http.StatusOK, pol)
}

// pathID parses the {name} path value as a positive integer, answering 400
// when it is not one.
func pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, "bad %s", name)
		return 0, false
	}
	return id, true
}

// byPathID loads the record the {id} path names through get, as far as the
// caller sees it (visibleTo); errors go through domainFail.
func byPathID[T any](a *API, w http.ResponseWriter, r *http.Request, get func(context.Context, int64) (T, error), sees func(T) bool, invalid, notFound error) (T, bool) {
	id, ok := pathID(w, r, "id")
	if !ok {
		var zero T
		return zero, false
	}
	v, err := get(r.Context(), id)
	return visibleTo(w, func(w http.ResponseWriter, err error) { a.domainFail(w, err, invalid, notFound) }, v, err, sees, notFound)
}

// domainFail answers a domain error: invalid input 422, missing 404, a
// state or ownership conflict 409, anything else 500.
func (a *API) domainFail(w http.ResponseWriter, err error, invalid, notFound error, conflicts ...error) {
	switch {
	case errors.Is(err, invalid):
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
	case errors.Is(err, notFound):
		writeError(w, http.StatusNotFound, "%v", notFound)
	case slices.ContainsFunc(conflicts, func(c error) bool { return errors.Is(err, c) }):
		writeError(w, http.StatusConflict, "%v", err)
	default:
		a.fail(w, err)
	}
}

// tell sends an in-app (and preferred-channel) notification; it names no
// patient. A failure is logged: the action it reports has happened.
func (a *API) tell(ctx context.Context, m notify.Message, to ...string) {
	if a.notify == nil || len(to) == 0 {
		return
	}
	rs := make([]notify.Recipient, len(to))
	for i, id := range to {
		rs[i] = notify.Recipient{ID: id}
	}
	if err := a.notify.Send(context.WithoutCancel(ctx), m, rs...); err != nil {
		a.log.Warn("notify", "event", m.Event, "err", err)
	}
}

// privileged reports whether a reader holds privileges at facility (the
// roster's credentials); a user who is no reader holds none.
func privileged(readers []*model.Reader, user, facility string) bool {
	for _, r := range readers {
		if r.ID == user {
			return slices.ContainsFunc(r.Privileges, func(p model.Privilege) bool { return p.Facility == facility })
		}
	}
	return false
}

func isStaff(p *auth.Principal) bool { return hasRole(p, staff) }

// ownOrAll is the user a list is limited to: the caller, or nobody ("")
// for staff, who see everyone's.
func ownOrAll(p *auth.Principal) string {
	if isStaff(p) {
		return ""
	}
	return p.Username
}
