package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"

	"lightbox/internal/auth"
	"lightbox/internal/consult"
	"lightbox/internal/httpx"
	"lightbox/internal/model"
)

// The virtual reading room: who is on now, by subspecialty and shift, with
// the status each reader sets and shows only if they opt in; and the
// group channel.
//
//	GET  /api/room                -> Room
//	PUT  /api/room/status          consult.RoomStatus -> the saved one
//	POST /api/room/messages        {"body"} -> consult.Message
//	GET  /api/room/events          SSE: "message" and "status" events

const roomTopic = "room:group"

// RoomMember is one colleague in the reading room.
type RoomMember struct {
	Username       string         `json:"username"`
	Name           string         `json:"name"`
	Subspecialties []string       `json:"subspecialties"`
	Presence       string         `json:"presence"` // online, away, offline (heartbeats)
	OnShift        bool           `json:"on_shift"`
	Status         consult.Status `json:"status,omitempty"`
	Since          string         `json:"since,omitempty"`
}

// Room is the reading room as one user sees it.
type Room struct {
	Me       consult.RoomStatus `json:"me"`
	Members  []RoomMember       `json:"members"`
	Messages []consult.Message  `json:"messages"`
}

// readersInRoom loads the group's readers and their reading-room statuses,
// which consult routing and the room view both weigh.
func (a *API) readersInRoom(ctx context.Context) ([]*model.Reader, map[string]consult.RoomStatus, error) {
	rs, err := a.roster.Readers(ctx)
	if err != nil {
		return nil, nil, err
	}
	statuses, err := a.consults.Statuses(ctx)
	return rs, statuses, err
}

func (a *API) room(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ctx := r.Context()
	rs, statuses, err := a.readersInRoom(ctx)
	if err != nil {
		a.fail(w, err)
		return
	}
	states := a.dispatch.ShiftStates()
	out := Room{Me: consult.RoomStatus{Username: p.Username, Status: consult.Reading, Visible: true}, Members: []RoomMember{}}
	if st, ok := statuses[p.Username]; ok {
		out.Me = st
	}
	for _, rd := range rs {
		st, hasStatus := statuses[rd.ID]
		ss := states[rd.ID]
		// Opt-in: a reader shows once they chose to be visible (self always).
		if rd.ID != p.Username && (!hasStatus || !st.Visible) {
			continue
		}
		if ss.Presence == model.Offline && rd.ID != p.Username {
			continue // "who is on now"
		}
		out.Members = append(out.Members, RoomMember{Username: rd.ID, Name: rd.Name, Subspecialties: orEmpty(rd.Subspecialties), Presence: ss.Presence.String(),
			OnShift: ss.OnShift, Status: st.Status, Since: st.UpdatedAt})
	}
	slices.SortFunc(out.Members, func(x, y RoomMember) int {
		if c := cmp.Compare(firstOr(x.Subspecialties), firstOr(y.Subspecialties)); c != 0 {
			return c
		}
		return cmp.Compare(x.Username, y.Username)
	})
	if out.Messages, err = a.consults.Channel(ctx, roomTopic, 100); err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, out)
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return "~" // readers without a subspecialty sort last
	}
	return s[0]
}

func (a *API) setRoomStatus(w http.ResponseWriter, r *http.Request, p *auth.Principal, st consult.RoomStatus) {
	st.Username = p.Username
	st, err := a.consults.SetStatus(r.Context(), st)
	if a.consultErr(w, err) {
		return
	}
	a.hub.Publish(roomTopic, consult.Event{Kind: "status", From: p.Username, Data: mustJSON(st)})
	httpx.JSON(w, http.StatusOK, st)
}

type postRoomBody struct {
	Body string `json:"body"`
}

func (a *API) postRoom(w http.ResponseWriter, r *http.Request, p *auth.Principal, b postRoomBody) {
	m, err := a.consults.Post(r.Context(), roomTopic, p.Username, b.Body)
	if a.consultErr(w, err) {
		return
	}
	a.hub.Publish(roomTopic, consult.Event{Kind: "message", From: p.Username, Data: mustJSON(m)})
	httpx.JSON(w, http.StatusCreated, m)
}

func (a *API) roomEvents(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.stream(w, r, roomTopic, p.Username)
}

// consultErr answers a store error; it reports whether there was one.
func (a *API) consultErr(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, consult.ErrInvalid):
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
	case errors.Is(err, consult.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, consult.ErrLink):
		writeError(w, http.StatusGone, "%v", err)
	default:
		a.fail(w, err)
	}
	return true
}
