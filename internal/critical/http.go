package critical

import (
	"context"
	"errors"
	"fmt"
	"lightbox/internal/httpx"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// PrincipalFunc authenticates a request: the user, their role (e.g.
// "radiologist", "coordinator", "admin"), the facilities they see and
// whether they see all.
type PrincipalFunc func(*http.Request) (user, role string, facilities []string, all bool, err error)

// Handler serves the JSON API and the public acknowledgement pages.
type Handler struct {
	Service   *Service
	Principal PrincipalFunc
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
//
// Mux is where routes are registered (an *http.ServeMux, or a recorder
// that also lists them).
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

func (h *Handler) Routes(mux Mux) {
	mux.HandleFunc("POST /api/critical", h.with(h.open, roleReader))
	mux.HandleFunc("GET /api/critical/board", h.with(h.board, roleReader))
	mux.HandleFunc("GET /api/critical/compliance", h.with(h.compliance, roleCoordinator))
	mux.HandleFunc("GET /api/critical/compliance.csv", h.with(h.compliance, roleCoordinator))
	mux.HandleFunc("GET /api/critical/{id}", h.with(h.get, roleReader))
	mux.HandleFunc("POST /api/critical/{id}/attempts", h.with(h.attempt, roleReader))
	mux.HandleFunc("POST /api/critical/{id}/handoff", h.with(h.handoff, roleReader))
	mux.HandleFunc("POST /api/critical/{id}/close", h.with(h.close, roleReader))
	mux.HandleFunc("POST /api/critical/{id}/ack-link", h.with(h.ackLink, roleReader))
	mux.HandleFunc("GET /api/critical/contacts", h.with(h.listContacts, roleReader))
	mux.HandleFunc("POST /api/critical/contacts", h.with(h.createContact, roleCoordinator))
	mux.HandleFunc("GET /api/critical/contacts/{cid}", h.with(h.getContact, roleReader))
	mux.HandleFunc("PUT /api/critical/contacts/{cid}", h.with(h.updateContact, roleCoordinator))
	mux.HandleFunc("DELETE /api/critical/contacts/{cid}", h.with(h.deleteContact, roleCoordinator))
	mux.HandleFunc("GET /api/critical/coverage", h.with(h.listCoverage, roleReader))
	mux.HandleFunc("POST /api/critical/coverage", h.with(h.addCoverage, roleCoordinator))
	mux.HandleFunc("DELETE /api/critical/coverage/{cid}", h.with(h.deleteCoverage, roleCoordinator))
	mux.HandleFunc("GET /ack/{token}", h.ackGet)
	mux.HandleFunc("POST /ack/{token}", h.ackPost)
}

type caller struct {
	Actor
	Scope
	role string
}

const (
	roleReader      = 1 // radiologists, coordinators, admins
	roleCoordinator = 2 // coordinators, admins
)

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handler) with(fn func(w http.ResponseWriter, r *http.Request, c caller), need int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.Principal == nil {
			httpx.Error(w, http.StatusUnauthorized, "authentication required")
			return
		}
		user, role, facs, all, err := h.Principal(r)
		if err != nil || user == "" {
			httpx.Error(w, http.StatusUnauthorized, "authentication required")
			return
		}
		coord := role == "coordinator" || role == "admin"
		if !coord && (need == roleCoordinator || role != "radiologist") {
			httpx.Error(w, http.StatusForbidden, fmt.Sprintf("role %s may not do this", role))
			return
		}
		c := caller{Actor: Actor{ID: user, Display: user, Coordinator: coord}, Scope: Scope{All: all, Facilities: facs}, role: role}
		if h.DisplayName != nil {
			if d := h.DisplayName(r.Context(), user); d != "" {
				c.Display = d
			}
		}
		fn(w, r, c)
	}
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrContactNotFound):
		httpx.Error(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrNotHolder), errors.Is(err, ErrForbidden):
		httpx.Error(w, http.StatusForbidden, err.Error())
	case errors.Is(err, ErrClosed), errors.Is(err, ErrConflict):
		httpx.Error(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrRefused):
		httpx.Error(w, http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, ErrInvalid):
		httpx.Error(w, http.StatusBadRequest, err.Error())
	default:
		h.log().Error("critical request failed", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "internal error")
	}
}

// decode reads a JSON body strictly (unknown fields are errors).
func decode(r *http.Request, v any) error {
	if err := httpx.Decode(r, v, 0); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// visible loads a loop the caller may see (404 otherwise): one in their
// facility scope, or one they opened or were handed, which stays theirs
// after they sign and the study leaves their worklist.
func (h *Handler) visible(w http.ResponseWriter, r *http.Request, c caller) (Result, bool) {
	res, err := h.Service.Get(r.Context(), r.PathValue("id"))
	if err == nil && !c.AllowsRecord(res.FacilityID, c.ID == res.Communicator || c.ID == res.HandedOffTo) {
		err = ErrNotFound
	}
	if err != nil {
		h.fail(w, err)
		return res, false
	}
	return res, true
}

func (h *Handler) open(w http.ResponseWriter, r *http.Request, c caller) {
	var req OpenRequest
	if err := decode(r, &req); err != nil {
		h.fail(w, err)
		return
	}
	if req.FacilityID != "" && !c.AllowsFacility(req.FacilityID) {
		h.fail(w, ErrNotFound)
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

func (h *Handler) board(w http.ResponseWriter, r *http.Request, c caller) {
	mine := ""
	if r.URL.Query().Get("mine") == "1" || !c.Coordinator {
		mine = c.ID
	}
	items, err := h.Service.Board(r.Context(), c.Scope, mine)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"now": h.Service.now().UTC(), "items": items})
}

// period reads ?month=YYYY-MM or ?from=YYYY-MM-DD&to=YYYY-MM-DD (UTC, to
// exclusive); default the current month.
func (h *Handler) period(r *http.Request) (time.Time, time.Time, error) {
	q := r.URL.Query()
	if m := q.Get("month"); m != "" {
		t, err := time.Parse("2006-01", m)
		if err != nil {
			return t, t, invalid("month must be YYYY-MM")
		}
		return t, t.AddDate(0, 1, 0), nil
	}
	now := h.Service.now().UTC()
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
					return from, to, invalid("%s must be YYYY-MM-DD or RFC 3339", p.name)
				}
			}
			*p.dst = t
		}
	}
	return from, to, nil
}

func (h *Handler) compliance(w http.ResponseWriter, r *http.Request, c caller) {
	from, to, err := h.period(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	sc := c.Scope
	if f := r.URL.Query().Get("facility"); f != "" {
		if !sc.AllowsFacility(f) {
			h.fail(w, ErrNotFound)
			return
		}
		sc = Scope{Facilities: []string{f}}
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
		if err := WriteComplianceCSV(w, rows); err != nil {
			h.log().Warn("compliance csv", "err", err)
		}
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "rows": rows})
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, c caller) {
	if res, ok := h.visible(w, r, c); ok {
		httpx.JSON(w, http.StatusOK, res)
	}
}

func (h *Handler) attempt(w http.ResponseWriter, r *http.Request, c caller) {
	var a Attempt
	if err := decode(r, &a); err != nil {
		h.fail(w, err)
		return
	}
	if _, ok := h.visible(w, r, c); !ok {
		return
	}
	a.By = c.Actor
	res, err := h.Service.LogAttempt(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, res)
}

func (h *Handler) handoff(w http.ResponseWriter, r *http.Request, c caller) {
	var body struct {
		To string `json:"to"`
	}
	if err := decode(r, &body); err != nil {
		h.fail(w, err)
		return
	}
	if _, ok := h.visible(w, r, c); !ok {
		return
	}
	res, err := h.Service.HandOff(r.Context(), r.PathValue("id"), body.To, c.Actor)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, res)
}

func (h *Handler) close(w http.ResponseWriter, r *http.Request, c caller) {
	if _, ok := h.visible(w, r, c); !ok {
		return
	}
	res, err := h.Service.Close(r.Context(), r.PathValue("id"), c.Actor)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, res)
}

func (h *Handler) ackLink(w http.ResponseWriter, r *http.Request, c caller) {
	var to Contact
	if err := decode(r, &to); err != nil {
		h.fail(w, err)
		return
	}
	res, ok := h.visible(w, r, c)
	if !ok {
		return
	}
	if to.ID != "" {
		ct, err := h.Service.dir.Get(r.Context(), to.ID)
		if err == nil && ct.FacilityID != res.FacilityID {
			err = ErrContactNotFound
		}
		if err != nil {
			h.fail(w, err)
			return
		}
		to = ct
	}
	if strings.TrimSpace(to.Name) == "" {
		h.fail(w, invalid("recipient name or contact id required"))
		return
	}
	if _, err := h.Service.SendAckLink(r.Context(), res.ID, to, c.Actor); err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
}

func (h *Handler) listContacts(w http.ResponseWriter, r *http.Request, c caller) {
	f := r.URL.Query().Get("facility")
	if f == "" || !c.AllowsFacility(f) {
		h.fail(w, invalid("facility required (one you see)"))
		return
	}
	out, err := h.Service.dir.List(r.Context(), f, r.URL.Query().Get("department"))
	if err != nil {
		h.fail(w, err)
		return
	}
	if out == nil {
		out = []Contact{}
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (h *Handler) contact(w http.ResponseWriter, r *http.Request, c caller) (Contact, bool) {
	ct, err := h.Service.dir.Get(r.Context(), r.PathValue("cid"))
	if err == nil && !c.AllowsFacility(ct.FacilityID) {
		err = ErrContactNotFound
	}
	if err != nil {
		h.fail(w, err)
		return ct, false
	}
	return ct, true
}

func (h *Handler) getContact(w http.ResponseWriter, r *http.Request, c caller) {
	if ct, ok := h.contact(w, r, c); ok {
		httpx.JSON(w, http.StatusOK, ct)
	}
}

func (h *Handler) createContact(w http.ResponseWriter, r *http.Request, c caller) {
	var ct Contact
	if err := decode(r, &ct); err != nil {
		h.fail(w, err)
		return
	}
	if !c.AllowsFacility(ct.FacilityID) {
		h.fail(w, invalid("facility_id required (one you see)"))
		return
	}
	out, err := h.Service.dir.Create(r.Context(), ct)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, out)
}

func (h *Handler) updateContact(w http.ResponseWriter, r *http.Request, c caller) {
	old, ok := h.contact(w, r, c)
	if !ok {
		return
	}
	var ct Contact
	if err := decode(r, &ct); err != nil {
		h.fail(w, err)
		return
	}
	ct.ID, ct.FacilityID = old.ID, old.FacilityID
	out, err := h.Service.dir.Update(r.Context(), ct)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (h *Handler) deleteContact(w http.ResponseWriter, r *http.Request, c caller) {
	if _, ok := h.contact(w, r, c); !ok {
		return
	}
	if err := h.Service.dir.Delete(r.Context(), r.PathValue("cid")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) listCoverage(w http.ResponseWriter, r *http.Request, c caller) {
	f := r.URL.Query().Get("facility")
	if f == "" || !c.AllowsFacility(f) {
		h.fail(w, invalid("facility required (one you see)"))
		return
	}
	out, err := h.Service.dir.ListCoverage(r.Context(), f)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (h *Handler) addCoverage(w http.ResponseWriter, r *http.Request, c caller) {
	var cv Coverage
	if err := decode(r, &cv); err != nil {
		h.fail(w, err)
		return
	}
	if !c.AllowsFacility(cv.FacilityID) {
		h.fail(w, invalid("facility_id required (one you see)"))
		return
	}
	out, err := h.Service.dir.AddCoverage(r.Context(), cv)
	if err != nil {
		h.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusCreated, out)
}

func (h *Handler) deleteCoverage(w http.ResponseWriter, r *http.Request, c caller) {
	var fac string
	err := h.Service.db.QueryRow(r.Context(), "SELECT facility_id FROM crit_coverage WHERE id = ?", r.PathValue("cid")).Scan(&fac)
	if err != nil || !c.AllowsFacility(fac) {
		h.fail(w, ErrContactNotFound)
		return
	}
	if err := h.Service.dir.DeleteCoverage(r.Context(), r.PathValue("cid")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) ackGet(w http.ResponseWriter, r *http.Request) {
	v, err := h.Service.PeekAck(r.Context(), r.PathValue("token"))
	if err != nil {
		ackError(w, err)
		return
	}
	renderAck(w, http.StatusOK, ackPageData{Title: "Confirm receipt of a critical result",
		Message: "A radiologist has identified a critical result for a patient in your care. Please review it in your clinical system and confirm receipt below.",
		View:    &v, Form: true})
}

func (h *Handler) ackPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		renderAck(w, http.StatusBadRequest, ackPageData{Title: "Confirmation not recorded", Message: "The form could not be read. Nothing was changed."})
		return
	}
	tok := r.PathValue("token")
	res, err := h.Service.ConfirmAck(r.Context(), tok, r.PostForm.Get("name"), r.PostForm.Get("role"))
	if errors.Is(err, ErrInvalid) {
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
		if !errors.Is(err, ErrTokenInvalid) && !errors.Is(err, ErrTokenUsed) && !errors.Is(err, ErrTokenExpired) && !errors.Is(err, ErrClosed) {
			h.log().Error("acknowledgement failed", "err", err)
		}
		ackError(w, err)
		return
	}
	msg := "Your confirmation has been recorded. Thank you."
	if res.State != StateClosed && res.Verbal {
		msg += " This category also requires a direct conversation: the radiologist will call you to read the result back."
	}
	renderAck(w, http.StatusOK, ackPageData{Title: "Receipt confirmed", Message: msg})
}
