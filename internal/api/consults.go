package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"lightbox/internal/auth"
	"lightbox/internal/consult"
	"lightbox/internal/dispatch"
	"lightbox/internal/httpx"
	"lightbox/internal/model"
	"lightbox/internal/notify"
)

// Second opinions on a study, their chat thread, and the live session
// (shared viewing, WebRTC signalling) relayed between the participants:
//
//	POST /api/studies/{study}/consults               {"consultant"|"subspecialty", "question"} -> 201 consult + candidates; 409 none eligible, with every candidate's reasons
//	GET  /api/studies/{study}/consults               -> the consults the caller may see
//	GET  /api/studies/{study}/consults/{id}          -> consult + messages
//	POST /api/studies/{study}/consults/{id}/messages {"body"} -> consult.Message
//	POST /api/studies/{study}/consults/{id}/opinion  {"opinion"} (the consultant) -> consult
//	POST /api/studies/{study}/consults/{id}/signal   consult.Event (view, pointer, control, offer, answer, ice, hangup) relayed live
//	GET  /api/studies/{study}/consults/{id}/events   SSE of the above
//	GET  /api/consults                               -> the caller's consults (asked or asked of them)
//	GET  /api/rtc                                    -> the ICE servers browsers use (none by default)
//
// A consult and its thread are seen by its participants and by the
// study's reader of record; anyone else is refused (403). The study path
// puts the study on every audit record (internal/server).

func consultTopic(id int64) string { return "consult:" + strconv.FormatInt(id, 10) }

// studyDoc returns the study as the engine holds it (read_item's document)
// with its facility, and its reader of record.
func (a *API) studyDoc(ctx context.Context, study string) (*model.Study, string, error) {
	it, err := dispatch.ItemOf(ctx, a.db, study)
	if err != nil {
		return nil, "", err
	}
	st, err := it.Study()
	if err != nil {
		return nil, "", err
	}
	reader := it.ReaderID
	fs, err := a.roster.Facilities(ctx)
	if err != nil {
		return nil, "", err
	}
	for _, f := range fs {
		if f.ID == st.FacilityID {
			st.Facility = f
		}
	}
	return st, reader, nil
}

type askConsultBody struct {
	Consultant   string `json:"consultant"`
	Subspecialty string `json:"subspecialty"`
	Question     string `json:"question"`
}

func (a *API) askConsult(w http.ResponseWriter, r *http.Request, p *auth.Principal, study string, b askConsultBody) {
	ctx := r.Context()
	st, _, err := a.studyDoc(ctx, study)
	if err != nil {
		writeError(w, http.StatusConflict, "the study is not on the worklist, so no eligibility can be checked")
		return
	}
	rs, statuses, err := a.readersInRoom(ctx)
	if err != nil {
		a.fail(w, err)
		return
	}
	chosen, cands := consult.Route(consult.Ask{Requester: p.Username, Consultant: b.Consultant, Subspecialty: b.Subspecialty}, rs, st, a.dispatch.ShiftStates(), statuses, a.now())
	if chosen == "" {
		msg := "no colleague can give this second opinion now"
		if b.Consultant != "" {
			msg = b.Consultant + " cannot give this second opinion now"
		} else if b.Subspecialty != "" {
			msg = "no " + b.Subspecialty + " reader can give this second opinion now"
		}
		httpx.JSON(w, http.StatusConflict, map[string]any{"error": msg, "code": "no_consultant", "candidates": cands})
		return
	}
	c, err := a.consults.Create(ctx, consult.Consult{StudyUID: study, FacilityID: st.FacilityID, Requester: p.Username, Consultant: chosen,
		Subspecialty: b.Subspecialty, Question: b.Question, RVUCredit: a.consultRVU})
	if a.consultErr(w, err) {
		return
	}
	if a.notify != nil {
		m := notify.Message{Event: notify.ConsultRequested, Key: fmt.Sprintf("consult/%d", c.ID),
			Subject: "Second opinion requested by " + p.Username,
			Text:    p.Username + " asks for your opinion on a study at facility " + c.FacilityID + ". Open the link to see the case and the thread.",
			Link:    fmt.Sprintf("/case/%s?consult=%d", study, c.ID)}
		if err := a.notify.Send(context.WithoutCancel(ctx), m, notify.Recipient{ID: chosen}); err != nil {
			a.log.Warn("notify", "event", notify.ConsultRequested, "err", err)
		}
	}
	httpx.JSON(w, http.StatusCreated, map[string]any{"consult": c, "candidates": cands})
}

// pathItem loads the path's {id} of {study} with get, answering 404 for an
// id that is not a number and as consultErr for get's errors.
func pathItem[T any](a *API, w http.ResponseWriter, r *http.Request, what string, get func(context.Context, string, int64) (T, error)) (T, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "no such %s", what)
		var zero T
		return zero, false
	}
	v, err := get(r.Context(), r.PathValue("study"), id)
	return v, !a.consultErr(w, err)
}

// consultFor loads the path's consult and checks the caller may see it:
// its participants and the study's reader of record.
func (a *API) consultFor(w http.ResponseWriter, r *http.Request, p *auth.Principal) (consult.Consult, bool) {
	c, ok := pathItem(a, w, r, "consult", a.consults.Get)
	if !ok {
		return c, false
	}
	if !c.Participant(p.Username) && !a.readerOfRecord(r.Context(), p, c.StudyUID) {
		writeError(w, http.StatusForbidden, "only the consult's participants and the case's reader see it")
		return c, false
	}
	return c, true
}

func (a *API) readerOfRecord(ctx context.Context, p *auth.Principal, study string) bool {
	it, err := dispatch.ItemOf(ctx, a.db, study)
	return err == nil && it.ReaderID != "" && it.ReaderID == p.Username
}

func (a *API) listConsults(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	cs, err := a.consults.ForStudy(r.Context(), r.PathValue("study"))
	if err != nil {
		a.fail(w, err)
		return
	}
	rec := a.readerOfRecord(r.Context(), p, r.PathValue("study"))
	out := []consult.Consult{}
	for _, c := range cs {
		if rec || c.Participant(p.Username) {
			out = append(out, c)
		}
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a *API) myConsults(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	cs, err := a.consults.Mine(r.Context(), p.Username, 50)
	a.reply(w, http.StatusOK, cs, err)
}

func (a *API) getConsult(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	c, ok := a.consultFor(w, r, p)
	if !ok {
		return
	}
	msgs, err := a.consults.Thread(r.Context(), c.ID)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"consult": c, "messages": msgs, "present": a.hub.Present(consultTopic(c.ID))})
}

type sayConsultBody struct {
	Body string `json:"body"`
}

func (a *API) sayConsult(w http.ResponseWriter, r *http.Request, p *auth.Principal, c consult.Consult, b sayConsultBody) {
	m, err := a.consults.Say(r.Context(), c.ID, p.Username, b.Body)
	if a.consultErr(w, err) {
		return
	}
	a.hub.Publish(consultTopic(c.ID), consult.Event{Kind: "message", From: p.Username, Data: mustJSON(m)})
	httpx.JSON(w, http.StatusCreated, m)
}

func (a *API) opineConsult(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	c, ok := a.consultFor(w, r, p)
	if !ok {
		return
	}
	if p.Username != c.Consultant {
		writeError(w, http.StatusForbidden, "only the consultant records the opinion")
		return
	}
	var b struct {
		Opinion string `json:"opinion"`
	}
	if !decodeBody(w, r, &b) {
		return
	}
	c, err := a.consults.Opine(r.Context(), c, b.Opinion)
	if a.consultErr(w, err) {
		return
	}
	a.hub.Publish(consultTopic(c.ID), consult.Event{Kind: "opinion", From: p.Username, Data: mustJSON(c)})
	httpx.JSON(w, http.StatusOK, c)
}

// liveKinds are the events a participant may relay: the shared viewing
// session (viewport, pointer, who presents) and WebRTC signalling.
var liveKinds = map[string]bool{"view": true, "pointer": true, "control": true, "frame": true, "offer": true, "answer": true, "ice": true, "hangup": true, "hello": true}

func (a *API) relay(w http.ResponseWriter, r *http.Request, topic, from string) {
	var ev consult.Event
	if !decodeBody(w, r, &ev) {
		return
	}
	if !liveKinds[ev.Kind] {
		writeError(w, http.StatusUnprocessableEntity, "kind must be view, pointer, control, frame, offer, answer, ice, hangup or hello")
		return
	}
	ev.From = from
	a.hub.Publish(topic, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) signalConsult(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	c, ok := a.consultFor(w, r, p)
	if !ok {
		return
	}
	a.relay(w, r, consultTopic(c.ID), p.Username)
}

func (a *API) consultEvents(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	c, ok := a.consultFor(w, r, p)
	if !ok {
		return
	}
	a.stream(w, r, consultTopic(c.ID), p.Username)
}

// stream serves a hub topic as Server-Sent Events ("event: <kind>"); who
// joining and leaving are announced as "join" and "leave".
func (a *API) stream(w http.ResponseWriter, r *http.Request, topic, who string) {
	ch, cancel := a.hub.Subscribe(topic, who)
	defer cancel()
	a.hub.Publish(topic, consult.Event{Kind: "join", From: who})
	defer a.hub.Publish(topic, consult.Event{Kind: "leave", From: who})
	serveSSE(w, r, ch, 2*time.Second, func(ev consult.Event) string { return ev.Kind })
}

func (a *API) rtcConfig(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	httpx.JSON(w, http.StatusOK, map[string]any{"ice_servers": a.iceList(p.Username)})
}

// iceList is the ICE servers (RTCIceServer dictionaries) for who, with
// their own time-limited TURN credential.
func (a *API) iceList(who string) []consult.ICEServer {
	return a.ice.Servers(who, a.now())
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
