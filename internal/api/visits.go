package api

import (
	"context"
	"net/http"
	"strconv"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/consult"
	"lightbox/internal/httpx"
	"lightbox/internal/query"
)

// Virtual clinic visits: a physician invites a patient by a single-use,
// expiring link; the patient joins without an account, gives consent, and
// sees only what the physician shares (frames of the viewer, the call).
//
//	POST /api/studies/{study}/visits               -> {"visit", "link"} (the link's token shown once)
//	GET  /api/studies/{study}/visits/{id}          -> the visit (who joined, when, consent)
//	POST /api/studies/{study}/visits/{id}/signal   consult.Event to the patient
//	GET  /api/studies/{study}/visits/{id}/events   SSE from the patient
//	POST /api/studies/{study}/visits/{id}/end      -> the ended visit
//	POST /api/visit/join    {"token", "name", "consent"} (no account) -> sets the visit cookie
//	GET  /api/visit/events  SSE from the physician (visit cookie)
//	POST /api/visit/signal  consult.Event to the physician (visit cookie)
//
// The patient's routes are public paths (internal/server); the visit
// cookie, HttpOnly and SameSite=Strict, is their only credential.

// VisitCookie holds a joined patient's visit key.
const VisitCookie = "lb_visit"

func visitTopic(id int64) string { return "visit:" + strconv.FormatInt(id, 10) }

func (a *API) inviteVisit(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	study, ok := a.seesStudy(w, r, p)
	if !ok {
		return
	}
	fac, _, _ := query.New(a.db).StudyFacility(r.Context(), study)
	v, tok, err := a.consults.Invite(r.Context(), consult.Visit{StudyUID: study, FacilityID: fac, Physician: p.Username}, a.visitTTL)
	if a.consultErr(w, err) {
		return
	}
	// The token travels in the fragment, which browsers never send to a
	// server, so it stays out of access logs.
	httpx.JSON(w, http.StatusCreated, map[string]any{"visit": v, "link": "/visit#" + tok})
}

func (a *API) visitFor(w http.ResponseWriter, r *http.Request, p *auth.Principal) (consult.Visit, bool) {
	v, ok := pathItem(a, w, r, "visit", a.consults.GetVisit)
	if !ok {
		return v, false
	}
	if v.Physician != p.Username {
		writeError(w, http.StatusForbidden, "only the visit's physician")
		return v, false
	}
	return v, true
}

func (a *API) signalVisit(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if v, ok := a.visitFor(w, r, p); ok {
		a.relay(w, r, visitTopic(v.ID), p.Username)
	}
}

func (a *API) visitEvents(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if v, ok := a.visitFor(w, r, p); ok {
		a.stream(w, r, visitTopic(v.ID), p.Username)
	}
}

func (a *API) endVisit(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	v, ok := a.visitFor(w, r, p)
	if !ok {
		return
	}
	v, err := a.consults.End(r.Context(), v)
	if a.consultErr(w, err) {
		return
	}
	a.hub.Publish(visitTopic(v.ID), consult.Event{Kind: "hangup", From: p.Username})
	httpx.JSON(w, http.StatusOK, v)
}

func (a *API) joinVisit(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Token   string `json:"token"`
		Name    string `json:"name"`
		Consent bool   `json:"consent"`
	}
	if !decodeBody(w, r, &b) {
		return
	}
	v, key, err := a.consults.Join(r.Context(), b.Token, b.Name, b.Consent)
	if a.consultErr(w, err) {
		return
	}
	a.auditVisit(r, v, "clinic visit joined with consent")
	http.SetCookie(w, &http.Cookie{Name: VisitCookie, Value: key, Path: "/api/visit/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	httpx.JSON(w, http.StatusOK, map[string]any{"physician": v.Physician, "joined_at": v.JoinedAt, "consent": v.Consent, "ice_servers": a.iceList("visit-" + strconv.FormatInt(v.ID, 10))})
}

func (a *API) guest(w http.ResponseWriter, r *http.Request) (consult.Visit, bool) {
	c, err := r.Cookie(VisitCookie)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "join the visit by its link first")
		return consult.Visit{}, false
	}
	v, err := a.consults.ByKey(r.Context(), c.Value)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "the visit has ended")
		return v, false
	}
	return v, true
}

func (a *API) guestEvents(w http.ResponseWriter, r *http.Request) {
	if v, ok := a.guest(w, r); ok {
		a.stream(w, r, visitTopic(v.ID), consult.Guest)
	}
}

func (a *API) guestSignal(w http.ResponseWriter, r *http.Request) {
	if v, ok := a.guest(w, r); ok {
		a.relay(w, r, visitTopic(v.ID), consult.Guest)
	}
}

// auditVisit records what a patient did in a visit (the audit middleware
// sees no principal on these public routes).
func (a *API) auditVisit(r *http.Request, v consult.Visit, detail string) {
	if a.audit == nil {
		return
	}
	ev := audit.Event{EventID: audit.PatientRecord, Action: audit.Execute, UserID: "visit-patient:" + strconv.FormatInt(v.ID, 10), UserRole: "patient",
		UserIsRequestor: true, NetworkAddr: r.RemoteAddr, Interface: audit.HTTP, ObjectType: "clinic-visit", Outcome: audit.Success,
		Detail: detail, StudyUIDs: []string{v.StudyUID}, FacilityID: v.FacilityID}
	if err := a.audit.Record(context.WithoutCancel(r.Context()), ev); err != nil {
		a.log.Error("audit", "err", err)
	}
}
