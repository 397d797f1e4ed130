package api

import (
	"fmt"
	"net/http"
	"slices"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/notify"
	"lightbox/internal/tumorboard"
)

// Tumor boards (internal/tumorboard):
//
//	GET  /api/tumor-boards                       -> the caller's boards (staff: all)
//	POST /api/tumor-boards                       tumorboard.Board (staff, radiologists) -> the board
//	GET  /api/tumor-boards/{id}                  -> board with cases and grants (participants, staff)
//	POST /api/tumor-boards/{id}/cases            {"study_uid","notes"} -> {"case","grants"}
//	PUT  /api/tumor-boards/{id}/cases/{case}     {"notes","recommendation"}
//
// Adding a case needs the study in the caller's scope; participants without
// privileges at its facility get a grant to that study until the board ends
// (plus tumorboard.Grace). The scope rule honours the grants (internal/grants,
// and the server's DICOMweb scope); the audit middleware records each call,
// and each grantee is told.

func (a *API) boards() tumorboard.Store { return tumorboard.Store{DB: a.db, Now: a.now} }

func (a *API) listBoards(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	bs, err := a.boards().List(r.Context(), ownOrAll(p))
	a.reply(w, http.StatusOK, bs, err)
}

func (a *API) createBoard(w http.ResponseWriter, r *http.Request, p *auth.Principal, b tumorboard.Board) {
	b, err := a.boards().Create(r.Context(), p.Username, b)
	if err != nil {
		a.domainFail(w, err, tumorboard.ErrInvalid, tumorboard.ErrNotFound)
		return
	}
	httpx.JSON(w, http.StatusCreated, b)
}

// board loads a board the caller takes part in (or any, for staff).
func (a *API) board(w http.ResponseWriter, r *http.Request, p *auth.Principal) (tumorboard.Board, bool) {
	return byPathID(a, w, r, a.boards().Get, func(b tumorboard.Board) bool {
		return isStaff(p) || slices.Contains(b.Participants, p.Username)
	}, tumorboard.ErrInvalid, tumorboard.ErrNotFound)
}

func (a *API) getBoard(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	b, ok := a.board(w, r, p)
	if !ok {
		return
	}
	grants, err := a.boards().Grants(r.Context(), b.ID)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"board": b, "grants": grants})
}

type addBoardCaseBody struct {
	StudyUID string `json:"study_uid"`
	Notes    string `json:"notes"`
}

func (a *API) addBoardCase(w http.ResponseWriter, r *http.Request, p *auth.Principal, b tumorboard.Board, req addBoardCaseBody) {
	ctx := r.Context()
	fac, ok := a.studyInScope(w, r, p, req.StudyUID)
	if !ok {
		return
	}
	rs, err := a.roster.Readers(ctx)
	if err != nil {
		a.fail(w, err)
		return
	}
	c, grants, err := a.boards().AddCase(ctx, b.ID, tumorboard.Case{StudyUID: req.StudyUID, FacilityID: fac, Presenter: p.Username, Notes: req.Notes},
		func(user, facility string) bool { return privileged(rs, user, facility) })
	if err != nil {
		a.domainFail(w, err, tumorboard.ErrInvalid, tumorboard.ErrNotFound)
		return
	}
	for _, g := range grants {
		a.tell(ctx, notify.Message{Event: notify.TumorBoard, Key: fmt.Sprintf("tumor-board-grant/%d", g.ID),
			Subject: "Temporary access for tumor board " + b.Title,
			Text:    fmt.Sprintf("You may open a case of the board until %s. Every access is audited.", g.ExpiresAt),
			Link:    fmt.Sprintf("/tumor-boards/%d", b.ID)}, g.Username)
	}
	httpx.JSON(w, http.StatusCreated, map[string]any{"case": c, "grants": orEmpty(grants)})
}

func (a *API) updateBoardCase(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	b, ok := a.board(w, r, p)
	if !ok {
		return
	}
	caseID, ok := pathID(w, r, "case")
	if !ok {
		return
	}
	var req struct {
		Notes          string `json:"notes"`
		Recommendation string `json:"recommendation"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	c, err := a.boards().UpdateCase(r.Context(), b.ID, caseID, req.Notes, req.Recommendation)
	if err != nil {
		a.domainFail(w, err, tumorboard.ErrInvalid, tumorboard.ErrNotFound)
		return
	}
	httpx.JSON(w, http.StatusOK, c)
}
