package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"lightbox/internal/auth"
	"lightbox/internal/critical"
	"lightbox/internal/httpx"
)

// Critical serves the critical-results JSON API (internal/critical) and the
// public acknowledgement pages.
type Critical struct {
	Service   *critical.Service
	Principal func(*http.Request) (*auth.Principal, error)
	// DisplayName turns a user name into the name printed in statements
	// ("Dr Jane Doe"). Optional: the user name is used.
	DisplayName func(ctx context.Context, user string) string
	Logger      *slog.Logger
}

// Routes registers every route on mux:
//
//	POST   /api/critical                    open (radiologist holding the study, coordinator, admin)
//	GET    /api/critical/board              open loops by deadline (?mine=1 for one's own)
//	GET    /api/critical/compliance         EP3 report JSON (?month=YYYY-MM or ?from=&to= dates, to exclusive; ?facility=)
//	GET    /api/critical/compliance.csv     the same as CSV
//	GET    /api/critical/{id}               one loop with attempts and history
//	POST   /api/critical/{id}/attempts      log an attempt
//	POST   /api/critical/{id}/handoff       {"to": coordinator}
//	POST   /api/critical/{id}/close         close (rules CR3, documentation)
//	POST   /api/critical/{id}/ack-link      send an acknowledgement link {"contact_id"} or {"name", "email", ...}
//	GET    /api/critical/contacts           ?facility=&department=
//	POST   /api/critical/contacts           create (coordinator, admin)
//	GET    /api/critical/contacts/{cid}
//	PUT    /api/critical/contacts/{cid}     update (coordinator, admin)
//	DELETE /api/critical/contacts/{cid}     delete (coordinator, admin)
//	GET    /api/critical/coverage           ?facility=
//	POST   /api/critical/coverage           create (coordinator, admin)
//	DELETE /api/critical/coverage/{cid}     delete (coordinator, admin)
//	GET    /ack/{token}                     public confirmation page
//	POST   /ack/{token}                     public confirmation (form field "name", optional "role")

func (h *Critical) Routes(mux Mux) {
	mux.HandleFunc("POST /api/critical", h.with(h.open, critReader))
	mux.HandleFunc("GET /api/critical/board", h.with(h.board, critReader))
	mux.HandleFunc("GET /api/critical/compliance", h.with(h.compliance, critCoordinator))
	mux.HandleFunc("GET /api/critical/compliance.csv", h.with(h.compliance, critCoordinator))
	mux.HandleFunc("GET /api/critical/{id}", h.with(h.get, critReader))
	mux.HandleFunc("POST /api/critical/{id}/attempts", h.with(h.attempt, critReader))
	mux.HandleFunc("POST /api/critical/{id}/handoff", h.with(h.handoff, critReader))
	mux.HandleFunc("POST /api/critical/{id}/close", h.with(h.close, critReader))
	mux.HandleFunc("POST /api/critical/{id}/ack-link", h.with(h.ackLink, critReader))
	mux.HandleFunc("GET /api/critical/contacts", h.with(h.listContacts, critReader))
	mux.HandleFunc("POST /api/critical/contacts", h.with(h.createContact, critCoordinator))
	mux.HandleFunc("GET /api/critical/contacts/{cid}", h.with(h.getContact, critReader))
	mux.HandleFunc("PUT /api/critical/contacts/{cid}", h.with(h.updateContact, critCoordinator))
	mux.HandleFunc("DELETE /api/critical/contacts/{cid}", h.with(h.deleteContact, critCoordinator))
	mux.HandleFunc("GET /api/critical/coverage", h.with(h.listCoverage, critReader))
	mux.HandleFunc("POST /api/critical/coverage", h.with(h.addCoverage, critCoordinator))
	mux.HandleFunc("DELETE /api/critical/coverage/{cid}", h.with(h.deleteCoverage, critCoordinator))
	mux.HandleFunc("GET /ack/{token}", h.ackGet)
	mux.HandleFunc("POST /ack/{token}", h.ackPost)
}

type caller struct {
	critical.Actor
	critical.Scope
	role string
}

const (
	critReader      = 1 // radiologists, coordinators, admins
	critCoordinator = 2 // coordinators, admins
)

func (h *Critical) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Critical) with(fn func(w http.ResponseWriter, r *http.Request, c caller), need int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.Principal == nil {
			httpx.Error(w, http.StatusUnauthorized, "authentication required")
			return
		}
		p, err := h.Principal(r)
		if err != nil || p == nil || p.Username == "" {
			httpx.Error(w, http.StatusUnauthorized, "authentication required")
			return
		}
		user := p.Username
		coord := p.Role == auth.Coordinator || p.Role == auth.Admin
		if !coord && (need == critCoordinator || p.Role != auth.Radiologist) {
			httpx.Error(w, http.StatusForbidden, fmt.Sprintf("role %s may not do this", p.Role))
			return
		}
		c := caller{Actor: critical.Actor{ID: user, Display: user, Coordinator: coord}, Scope: critical.Scope{All: p.All, Facilities: p.Facilities}, role: string(p.Role)}
		if h.DisplayName != nil {
			if d := h.DisplayName(r.Context(), user); d != "" {
				c.Display = d
			}
		}
		fn(w, r, c)
	}
}

func (h *Critical) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, critical.ErrNotFound), errors.Is(err, critical.ErrContactNotFound):
		httpx.Error(w, http.StatusNotFound, err.Error())
	case errors.Is(err, critical.ErrNotHolder), errors.Is(err, critical.ErrForbidden):
		httpx.Error(w, http.StatusForbidden, err.Error())
	case errors.Is(err, critical.ErrClosed), errors.Is(err, critical.ErrConflict):
		httpx.Error(w, http.StatusConflict, err.Error())
	case errors.Is(err, critical.ErrRefused):
		httpx.Error(w, http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, critical.ErrInvalid):
		httpx.Error(w, http.StatusBadRequest, err.Error())
	default:
		h.log().Error("critical request failed", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "internal error")
	}
}

// critInvalid is a refused request (400).
func critInvalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", critical.ErrInvalid, fmt.Sprintf(format, args...))
}

// decodeCritical reads a JSON body strictly (unknown fields are errors).
func decodeCritical(r *http.Request, v any) error {
	if err := httpx.Decode(r, v, 0); err != nil {
		return critInvalid("%v", err)
	}
	return nil
}

// visible loads a loop the caller may see (404 otherwise): one in their
// facility scope, or one they opened or were handed, which stays theirs
// after they sign and the study leaves their worklist.
func (h *Critical) visible(w http.ResponseWriter, r *http.Request, c caller) (critical.Result, bool) {
	res, err := h.Service.Get(r.Context(), r.PathValue("id"))
	return visibleTo(w, h.fail, res, err, func(res critical.Result) bool {
		return c.AllowsRecord(res.FacilityID, c.ID == res.Communicator || c.ID == res.HandedOffTo)
	}, critical.ErrNotFound)
}

func (h *Critical) open(w http.ResponseWriter, r *http.Request, c caller) {
	var req critical.OpenRequest
	if err := decodeCritical(r, &req); err != nil {
		h.fail(w, err)
		return
	}
	if req.FacilityID != "" && !c.AllowsFacility(req.FacilityID) {
		h.fail(w, critical.ErrNotFound)
		return
	}
	req.By, req.Allowed = c.Actor, c.AllowsFacility
	res, err := h.Service.Open(r.Context(), req)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, res)
}

func (h *Critical) board(w http.ResponseWriter, r *http.Request, c caller) {
	mine := ""
	if r.URL.Query().Get("mine") == "1" || !c.Coordinator {
		mine = c.ID
	}
	items, err := h.Service.Board(r.Context(), c.Scope, mine)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"now": h.Service.Now().UTC(), "items": items})
}

// period reads ?month=YYYY-MM or ?from=YYYY-MM-DD&to=YYYY-MM-DD (UTC, to
// exclusive); default the current month.
func (h *Critical) period(r *http.Request) (time.Time, time.Time, error) {
	q := r.URL.Query()
	if m := q.Get("month"); m != "" {
		t, err := time.Parse("2006-01", m)
		if err != nil {
			return t, t, critInvalid("month must be YYYY-MM")
		}
		return t, t.AddDate(0, 1, 0), nil
	}
	now := h.Service.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				if t, err = time.Parse(time.RFC3339, v); err != nil {
					return from, to, critInvalid("%s must be YYYY-MM-DD or RFC 3339", p.name)
				}
			}
			*p.dst = t
		}
	}
	return from, to, nil
}

func (h *Critical) compliance(w http.ResponseWriter, r *http.Request, c caller) {
	from, to, err := h.period(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	sc := c.Scope
	if f := r.URL.Query().Get("facility"); f != "" {
		if !sc.AllowsFacility(f) {
			h.fail(w, critical.ErrNotFound)
			return
		}
		sc = critical.Scope{Facilities: []string{f}}
	}
	rows, err := h.Service.Compliance(r.Context(), sc, from, to)
	if err != nil {
		h.fail(w, err)
		return
	}
	if strings.HasSuffix(r.URL.Path, ".csv") {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="critical-compliance-%s.csv"`, from.Format("2006-01-02")))
		if err := critical.WriteComplianceCSV(w, rows); err != nil {
			h.log().Warn("compliance csv", "err", err)
		}
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "rows": rows})
}

func (h *Critical) get(w http.ResponseWriter, r *http.Request, c caller) {
	if res, ok := h.visible(w, r, c); ok {
		httpx.JSON(w, http.StatusOK, res)
	}
}

func (h *Critical) attempt(w http.ResponseWriter, r *http.Request, c caller) {
	var a critical.Attempt
	if err := decodeCritical(r, &a); err != nil {
		h.fail(w, err)
		return
	}
	if _, ok := h.visible(w, r, c); !ok {
		return
	}
	a.By = c.Actor
	res, err := h.Service.LogAttempt(r.Context(), r.PathValue("id"), a)
	h.reply(w, res, err)
}

func (h *Critical) handoff(w http.ResponseWriter, r *http.Request, c caller) {
	var body struct {
		To string `json:"to"`
	}
	if err := decodeCritical(r, &body); err != nil {
		h.fail(w, err)
		return
	}
	if _, ok := h.visible(w, r, c); !ok {
		return
	}
	res, err := h.Service.HandOff(r.Context(), r.PathValue("id"), body.To, c.Actor)
	h.reply(w, res, err)
}

func (h *Critical) close(w http.ResponseWriter, r *http.Request, c caller) {
	if _, ok := h.visible(w, r, c); !ok {
		return
	}
	res, err := h.Service.Close(r.Context(), r.PathValue("id"), c.Actor)
	h.reply(w, res, err)
}

func (h *Critical) ackLink(w http.ResponseWriter, r *http.Request, c caller) {
	var to critical.Contact
	if err := decodeCritical(r, &to); err != nil {
		h.fail(w, err)
		return
	}
	res, ok := h.visible(w, r, c)
	if !ok {
		return
	}
	if to.ID != "" {
		ct, err := h.Service.Directory().Get(r.Context(), to.ID)
		if to, ok = visibleTo(w, h.fail, ct, err, func(ct critical.Contact) bool { return ct.FacilityID == res.FacilityID }, critical.ErrContactNotFound); !ok {
			return
		}
	}
	if strings.TrimSpace(to.Name) == "" {
		h.fail(w, critInvalid("recipient name or contact id required"))
		return
	}
	if _, err := h.Service.SendAckLink(r.Context(), res.ID, to, c.Actor); err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
}

func (h *Critical) listContacts(w http.ResponseWriter, r *http.Request, c caller) {
	f := r.URL.Query().Get("facility")
	if f == "" || !c.AllowsFacility(f) {
		h.fail(w, critInvalid("facility required (one you see)"))
		return
	}
	out, err := h.Service.Directory().List(r.Context(), f, r.URL.Query().Get("department"))
	replyList(w, h.fail, out, err)
}

func (h *Critical) contact(w http.ResponseWriter, r *http.Request, c caller) (critical.Contact, bool) {
	ct, err := h.Service.Directory().Get(r.Context(), r.PathValue("cid"))
	return visibleTo(w, h.fail, ct, err, func(ct critical.Contact) bool { return c.AllowsFacility(ct.FacilityID) }, critical.ErrContactNotFound)
}

func (h *Critical) getContact(w http.ResponseWriter, r *http.Request, c caller) {
	if ct, ok := h.contact(w, r, c); ok {
		httpx.JSON(w, http.StatusOK, ct)
	}
}

func (h *Critical) createContact(w http.ResponseWriter, r *http.Request, c caller) {
	createInFacility(h, w, r, c, func(ct critical.Contact) string { return ct.FacilityID }, h.Service.Directory().Create)
}

// createInFacility decodes a directory entry and stores it (201) when its
// facility is one the caller sees: contacts and coverage are kept per
// facility.
func createInFacility[T any](h *Critical, w http.ResponseWriter, r *http.Request, c caller, facility func(T) string, create func(context.Context, T) (T, error)) {
	var v T
	if err := decodeCritical(r, &v); err != nil {
		h.fail(w, err)
		return
	}
	if !c.AllowsFacility(facility(v)) {
		h.fail(w, critInvalid("facility_id required (one you see)"))
		return
	}
	out, err := create(r.Context(), v)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, out)
}

func (h *Critical) updateContact(w http.ResponseWriter, r *http.Request, c caller) {
	old, ok := h.contact(w, r, c)
	if !ok {
		return
	}
	var ct critical.Contact
	if err := decodeCritical(r, &ct); err != nil {
		h.fail(w, err)
		return
	}
	ct.ID, ct.FacilityID = old.ID, old.FacilityID
	out, err := h.Service.Directory().Update(r.Context(), ct)
	h.reply(w, out, err)
}

func (h *Critical) deleteContact(w http.ResponseWriter, r *http.Request, c caller) {
	if _, ok := h.contact(w, r, c); !ok {
		return
	}
	if err := h.Service.Directory().Delete(r.Context(), r.PathValue("cid")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Critical) listCoverage(w http.ResponseWriter, r *http.Request, c caller) {
	f := r.URL.Query().Get("facility")
	if f == "" || !c.AllowsFacility(f) {
		h.fail(w, critInvalid("facility required (one you see)"))
		return
	}
	out, err := h.Service.Directory().ListCoverage(r.Context(), f)
	h.reply(w, out, err)
}

func (h *Critical) addCoverage(w http.ResponseWriter, r *http.Request, c caller) {
	createInFacility(h, w, r, c, func(cv critical.Coverage) string { return cv.FacilityID }, h.Service.Directory().AddCoverage)
}

func (h *Critical) deleteCoverage(w http.ResponseWriter, r *http.Request, c caller) {
	fac, err := h.Service.Directory().CoverageFacility(r.Context(), r.PathValue("cid"))
	if err != nil || !c.AllowsFacility(fac) {
		h.fail(w, critical.ErrContactNotFound)
		return
	}
	if err := h.Service.Directory().DeleteCoverage(r.Context(), r.PathValue("cid")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Critical) ackGet(w http.ResponseWriter, r *http.Request) {
	v, err := h.Service.PeekAck(r.Context(), r.PathValue("token"))
	if err != nil {
		ackError(w, err)
		return
	}
	renderAck(w, http.StatusOK, ackPageData{Title: "Confirm receipt of a critical result",
		Message: "A radiologist has identified a critical result for a patient in your care. Please review it in your clinical system and confirm receipt below.",
		View:    &v, Form: true})
}

func (h *Critical) ackPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		renderAck(w, http.StatusBadRequest, ackPageData{Title: "Confirmation not recorded", Message: "The form could not be read. Nothing was changed."})
		return
	}
	tok := r.PathValue("token")
	res, err := h.Service.ConfirmAck(r.Context(), tok, r.PostForm.Get("name"), r.PostForm.Get("role"))
	if errors.Is(err, critical.ErrInvalid) {
		v, perr := h.Service.PeekAck(r.Context(), tok)
		if perr != nil {
			ackError(w, perr)
			return
		}
		renderAck(w, http.StatusBadRequest, ackPageData{Title: "Confirm receipt of a critical result",
			Message: "Please type your full name to confirm. Nothing was recorded yet.", View: &v, Form: true})
		return
	}
	if err != nil {
		if !errors.Is(err, critical.ErrTokenInvalid) && !errors.Is(err, critical.ErrTokenUsed) && !errors.Is(err, critical.ErrTokenExpired) && !errors.Is(err, critical.ErrClosed) {
			h.log().Error("acknowledgement failed", "err", err)
		}
		ackError(w, err)
		return
	}
	msg := "Your confirmation has been recorded. Thank you."
	if res.State != critical.StateClosed && res.Verbal {
		msg += " This category also requires a direct conversation: the radiologist will call you to read the result back."
	}
	renderAck(w, http.StatusOK, ackPageData{Title: "Receipt confirmed", Message: msg})
}

// reply answers v (200) or the error.
func (h *Critical) reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}
