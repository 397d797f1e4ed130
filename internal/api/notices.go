package api

import (
	"errors"
	"net/http"
	"sort"
	"strconv"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/notify"
)

// Notifications: a user's in-app notices (staff also see the coverage
// desk's and the medical-staff office's), how each recipient wants to be
// told, and the delivery log for administrators.

// inboxes are the recipients whose in-app notices p reads.
func inboxes(p *auth.Principal) []string {
	out := []string{p.Username}
	if p.Role == auth.Admin || p.Role == auth.Coordinator {
		out = append(out, notify.Coordinators, notify.MedicalStaff)
	}
	if p.Role == auth.Admin {
		out = append(out, notify.PrivacyOfficer)
	}
	return out
}

func (a *API) notices(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var all []notify.Delivery
	for _, box := range inboxes(p) {
		l, err := a.notify.Log(r.Context(), box, notify.InApp, 200)
		if err != nil {
			a.fail(w, err)
			return
		}
		for _, d := range l {
			if r.URL.Query().Get("unread") == "" || d.ReadAt == "" {
				all = append(all, d)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID > all[j].ID })
	httpx.JSON(w, http.StatusOK, orEmpty(all))
}

func (a *API) readNotice(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad notice id")
		return
	}
	for _, box := range inboxes(p) {
		if a.notify.MarkRead(r.Context(), box, id) == nil {
			httpx.JSON(w, http.StatusOK, map[string]string{"status": "read"})
			return
		}
	}
	writeError(w, http.StatusNotFound, "no such notice")
}

// mayEditPref: a user sets their own preference; administrators set
// anyone's, including the group recipients and facility contacts.
func mayEditPref(p *auth.Principal, recipient string) bool {
	return p.Role == auth.Admin || p.Username == recipient
}

func (a *API) getPref(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rc := r.PathValue("recipient")
	if !mayEditPref(p, rc) {
		writeError(w, http.StatusForbidden, "only administrators read another recipient's preference")
		return
	}
	pref, _, err := a.notify.GetPref(r.Context(), rc)
	if err != nil {
		a.fail(w, err)
		return
	}
	if pref.WebhookSecret != "" {
		pref.WebhookSecret = "(set)"
	}
	if pref.Channels == nil {
		pref.Channels = []string{notify.InApp}
	}
	httpx.JSON(w, http.StatusOK, pref)
}

func (a *API) putPref(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rc := r.PathValue("recipient")
	if !mayEditPref(p, rc) {
		writeError(w, http.StatusForbidden, "only administrators set another recipient's preference")
		return
	}
	var pref notify.Pref
	if !decodeBody(w, r, &pref) {
		return
	}
	pref.Recipient = rc
	if err := a.notify.SetPref(r.Context(), pref); err != nil {
		if errors.Is(err, notify.ErrInvalid) {
			httpx.JSON(w, http.StatusUnprocessableEntity, map[string]string{"error": err.Error(), "code": "invalid"})
			return
		}
		a.fail(w, err)
		return
	}
	pref.WebhookSecret = ""
	httpx.JSON(w, http.StatusOK, pref)
}

func (a *API) notifyLog(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	l, err := a.notify.Log(r.Context(), q.Get("recipient"), q.Get("channel"), limit)
	a.reply(w, http.StatusOK, l, err)
}
