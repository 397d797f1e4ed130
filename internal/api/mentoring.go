package api

import (
	"fmt"
	"net/http"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/mentor"
	"lightbox/internal/notify"
)

// Mentored reading (internal/mentor); over-reads are assigned when a new
// reader signs (the report-signing hook, internal/server):
//
//	GET  /api/mentoring/policy                      -> mentor.Policy
//	PUT  /api/mentoring/policy                      (staff)
//	PUT  /api/mentoring/readers/{id}                {"started_on":"2026-06-01"} (staff)
//	GET  /api/mentoring/overreads?with=USER         -> the caller's over-reads (as author or mentor)
//	POST /api/mentoring/overreads/{id}/comment      {"comment"} (the mentor) -> returns to the author

func (a *API) mentoring() mentor.Store { return mentor.Store{DB: a.db, Now: a.now} }

func (a *API) mentorPolicy(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	servePolicy(a, w, r, a.mentoring(), mentor.ErrInvalid, mentor.ErrNotFound)
}

type putMentorStartBody struct {
	StartedOn string `json:"started_on"`
}

func (a *API) putMentorStart(w http.ResponseWriter, r *http.Request, p *auth.Principal, req putMentorStartBody) {
	if err := a.mentoring().SetStart(r.Context(), r.PathValue("id"), req.StartedOn); err != nil {
		a.domainFail(w, err, mentor.ErrInvalid, mentor.ErrNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) overReads(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	h, err := a.mentoring().History(r.Context(), p.Username, r.URL.Query().Get("with"))
	a.reply(w, http.StatusOK, h, err)
}

func (a *API) commentOverRead(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var req struct {
		Comment string `json:"comment"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	o, err := a.mentoring().Comment(r.Context(), id, p.Username, req.Comment)
	if err != nil {
		a.domainFail(w, err, mentor.ErrInvalid, mentor.ErrNotFound)
		return
	}
	a.tell(r.Context(), notify.Message{Event: notify.Mentoring, Key: fmt.Sprintf("overread/%d/comment", o.ID),
		Subject: "Your mentor commented on one of your reports", Text: "A senior colleague over-read one of your reports; the comment is on the mentoring page.",
		Link: "/mentoring"}, o.Author)
	httpx.JSON(w, http.StatusOK, o)
}
