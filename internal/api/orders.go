package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/order"
)

func (a *API) listProtocols(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !p.Sees(r.PathValue("id")) {
		writeError(w, http.StatusNotFound, "no such facility")
		return
	}
	ps, err := a.orders.Protocols(r.Context(), r.PathValue("id"))
	a.reply(w, http.StatusOK, ps, err)
}

func (a *API) putProtocols(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var ps []order.LibraryProtocol
	if !decodeBody(w, r, &ps) {
		return
	}
	a.setupDone(w, r, a.setup.PutProtocols(r.Context(), actor(r, p), r.PathValue("id"), ps), ps)
}

func scopeIDs(p *auth.Principal) []string {
	if p.All {
		return nil // every facility
	}
	return append([]string{}, p.Facilities...) // non-nil: an empty scope sees nothing
}

func (a *API) protocolQueue(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	os, err := a.orders.ProtocolQueue(r.Context(), scopeIDs(p))
	replyList(w, a.fail, os, err)
}

// visibleOrder loads an order the caller may see (404 otherwise, so that
// another facility's order IDs reveal nothing).
func (a *API) visibleOrder(w http.ResponseWriter, r *http.Request, p *auth.Principal) (order.Order, bool) {
	o, err := a.orders.Get(r.Context(), r.PathValue("id"))
	if err != nil || !p.Sees(o.FacilityID) {
		writeError(w, http.StatusNotFound, "no such order")
		return o, false
	}
	return o, true
}

type protocolBody struct {
	Code        string    `json:"code"`
	Text        string    `json:"text"`
	Contrast    string    `json:"contrast,omitempty"`
	Modality    string    `json:"modality,omitempty"`
	StationAE   string    `json:"station_ae,omitempty"`
	ScheduledAt time.Time `json:"scheduled_at,omitzero"`
}

// approveOrder: the radiologist approves the order with a protocol; it is
// scheduled and appears on the modality worklist.
func (a *API) approveOrder(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ord, ok := a.visibleOrder(w, r, p)
	if !ok {
		return
	}
	var b protocolBody
	if !decodeBody(w, r, &b) {
		return
	}
	if b.Code == "" && b.Text == "" {
		writeError(w, http.StatusBadRequest, "a protocol code or text is required")
		return
	}
	// A code picks from the facility's protocol library (text, modality and
	// contrast filled in); free text stays possible.
	proto, err := a.orders.FromLibrary(r.Context(), ord.FacilityID, order.Protocol{Code: b.Code, Text: b.Text, Contrast: b.Contrast,
		Modality: b.Modality, StationAE: b.StationAE, ScheduledAt: b.ScheduledAt})
	if err != nil {
		a.orderResult(w, ord, err)
		return
	}
	o, err := a.orders.Approve(r.Context(), r.PathValue("id"), proto, p.Username)
	a.orderResult(w, o, err)
}

func (a *API) rejectOrder(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.reasonAction(w, r, p, a.orders.Reject)
}

func (a *API) returnOrder(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.reasonAction(w, r, p, a.orders.Return)
}

func (a *API) reasonAction(w http.ResponseWriter, r *http.Request, p *auth.Principal, act func(ctx contextT, id, reason, actor string) (order.Order, error)) {
	if _, ok := a.visibleOrder(w, r, p); !ok {
		return
	}
	var b reasonBody
	if !decodeBody(w, r, &b) {
		return
	}
	if b.Reason == "" {
		writeError(w, http.StatusBadRequest, "a reason is required")
		return
	}
	o, err := act(r.Context(), r.PathValue("id"), b.Reason, p.Username)
	a.orderResult(w, o, err)
}

func (a *API) orderResult(w http.ResponseWriter, o order.Order, err error) {
	var ve *order.ValidationError
	switch {
	case err == nil:
		httpx.JSON(w, http.StatusOK, o)
	case errors.Is(err, order.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such order")
	case errors.Is(err, order.ErrTransition):
		writeError(w, http.StatusConflict, "%v", err)
	case errors.As(err, &ve):
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
	default:
		a.fail(w, err)
	}
}

func (a *API) unmatched(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	us, err := a.orders.Unmatched(r.Context(), scopeIDs(p))
	replyList(w, a.fail, us, err)
}

type attachBody struct {
	OrderID string `json:"order_id"`
}

func (a *API) attach(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "id must be a number")
		return
	}
	var b attachBody
	if !decodeBody(w, r, &b) {
		return
	}
	if o, err := a.orders.Get(r.Context(), b.OrderID); err != nil || !p.Sees(o.FacilityID) {
		writeError(w, http.StatusNotFound, "no such order")
		return
	}
	err = a.orders.Attach(r.Context(), id, b.OrderID, p.Username)
	switch {
	case err == nil:
		httpx.JSON(w, http.StatusOK, map[string]string{"status": "attached"})
	case errors.Is(err, order.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such reconciliation row")
	default:
		writeError(w, http.StatusConflict, "%v", err)
	}
}

func (a *API) deadLetters(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rows, err := a.orders.DeadLetters(r.Context(), 200)
	a.reply(w, http.StatusOK, rows, err)
}
