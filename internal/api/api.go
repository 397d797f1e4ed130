package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/breakglass"
	"lightbox/internal/consult"
	"lightbox/internal/db"
	"lightbox/internal/dispatch"
	"lightbox/internal/hl7"
	"lightbox/internal/httpx"
	"lightbox/internal/model"
	"lightbox/internal/notify"
	"lightbox/internal/order"
	"lightbox/internal/retention"
	"lightbox/internal/roster"
	"lightbox/internal/setup"
)

// API serves /api/.
type API struct {
	db        *db.DB
	dispatch  *dispatch.Service
	orders    *order.Service
	roster    roster.Store
	setup     *setup.Service
	notify    *notify.Service
	glass     *breakglass.Store
	rvu       *model.RVUTable
	archive   *archive.Archive
	retention *retention.Service
	principal principalFunc
	// second opinions, reading room, visits (internal/consult)
	consults   *consult.Store
	hub        *consult.Hub
	consultRVU float64
	ice        consult.ICE
	visitTTL   time.Duration
	audit      *audit.Logger
	log        *slog.Logger
	now        func() time.Time
}

// Options are the API's dependencies.
type Options struct {
	DB       *db.DB
	Dispatch *dispatch.Service
	Orders   *order.Service // order workflow routes; nil leaves them out
	RVU      *model.RVUTable
	Archive  *archive.Archive // instance warnings; nil leaves them out
	// Setup applies set-up changes (facilities, endpoints, readers, shifts,
	// AEs); without one they fail as unaudited.
	Setup *setup.Service
	// Notify serves in-app notices and notification preferences (nil: off).
	Notify *notify.Service
	// BreakGlass grants readers emergency access (nil leaves the route out).
	BreakGlass *breakglass.Store
	// Retention runs retention and keeps legal holds (nil leaves the routes out).
	Retention *retention.Service
	// Consults keeps the reading room, second opinions and clinic visits;
	// Hub relays their live events (nil Consults leaves the routes out).
	Consults *consult.Store
	Hub      *consult.Hub
	// ConsultRVU is the work-RVU credit a consultant's opinion earns,
	// stored on each consult when asked.
	ConsultRVU float64
	// ICE are the STUN/TURN servers browsers use for calls (none: the
	// same network needs none), with TURN credentials when a secret is set.
	ICE consult.ICE
	// VisitTTL is how long a patient's visit link stays valid.
	VisitTTL time.Duration
	// Audit serves the audit trail to privacy officers and records what
	// patients do in clinic visits (nil leaves the audit routes out).
	Audit *audit.Logger
	// Principal authenticates a request (bearer token or session).
	Principal func(*http.Request) (*auth.Principal, error)
	Logger    *slog.Logger
	Now       func() time.Time
}

// New builds the API.
func New(o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RVU == nil {
		o.RVU = model.DefaultRVU()
	}
	if o.Setup == nil {
		o.Setup = &setup.Service{DB: o.DB, HL7Probe: hl7.Probe}
	}
	if o.Consults != nil && o.Hub == nil {
		o.Hub = &consult.Hub{}
	}
	return &API{consults: o.Consults, hub: o.Hub, consultRVU: o.ConsultRVU, ice: o.ICE, visitTTL: o.VisitTTL, audit: o.Audit, db: o.DB, dispatch: o.Dispatch, orders: o.Orders, roster: roster.Store{DB: o.DB}, setup: o.Setup, notify: o.Notify, glass: o.BreakGlass, rvu: o.RVU, archive: o.Archive, retention: o.Retention, principal: o.Principal, log: o.Logger, now: o.Now}
}

var (
	staff   = []auth.Role{auth.Admin, auth.Coordinator}
	readers = []auth.Role{auth.Radiologist}
)

// Mux is where routes are registered (an *http.ServeMux, or a recorder
// that also lists them).
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	httpx.JSON(w, http.StatusOK, p)
}

// Item is one worklist row.
type Item struct {
	StudyUID    string   `json:"study_uid"`
	FacilityID  string   `json:"facility_id"`
	Status      string   `json:"status"`
	ReaderID    string   `json:"reader_id,omitempty"`
	Note        string   `json:"note,omitempty"`
	Priority    string   `json:"priority"`
	Class       string   `json:"class"`
	Modality    string   `json:"modality"`
	CPT         string   `json:"cpt,omitempty"`
	WorkRVU     float64  `json:"work_rvu"`
	Triage      []string `json:"triage,omitempty"`
	Deadline    string   `json:"deadline,omitempty"`
	Accession   string   `json:"accession"`
	PatientName string   `json:"patient_name"`
	PatientID   string   `json:"patient_id"`
	Description string   `json:"description"`
	UpdatedAt   string   `json:"updated_at"`
	PatientSex  string   `json:"patient_sex"`
	BirthDate   string   `json:"birth_date"`
	Priors      int      `json:"priors"` // the patient's other studies in the archive
	Opened      bool     `json:"opened"` // the lease holder has opened it
}

func (a *API) items(ctx context.Context, readerID string) ([]Item, error) {
	rows, err := a.dispatch.OpenItems(ctx, readerID)
	if err != nil {
		return nil, err
	}
	uids := make([]string, len(rows))
	for i, r := range rows {
		uids[i] = r.StudyUID
	}
	studies, err := archive.StudyDisplays(ctx, a.db, uids)
	if err != nil {
		return nil, err
	}
	facs := a.facilityMap(ctx)
	var out []Item
	for _, r := range rows {
		s, ok := studies[r.StudyUID]
		if !ok {
			continue // as the join did: a worklist row whose study is gone is not shown
		}
		it := Item{StudyUID: r.StudyUID, FacilityID: r.FacilityID, Status: r.Status, ReaderID: r.ReaderID, Note: r.Note, UpdatedAt: r.UpdatedAt,
			Accession: s.Accession, PatientName: s.PatientName, PatientID: s.PatientID, Description: s.Description,
			PatientSex: s.PatientSex, BirthDate: s.BirthDate, Priors: s.Priors}
		var l struct {
			Opened bool `json:"opened"`
		}
		if r.Lease != "" && jsonUnmarshal(r.Lease, &l) == nil {
			it.Opened = l.Opened
		}
		var st model.Study
		if err := jsonUnmarshal(r.Doc, &st); err == nil {
			st.Facility = facs[st.FacilityID]
			it.Priority, it.Class, it.Modality, it.CPT, it.WorkRVU, it.Triage = st.Priority.String(), string(st.Class()), st.Modality, st.CPT, st.WorkRVU, st.Triage
			if st.Facility != nil {
				it.Deadline = db.Now(st.Deadline())
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// worklist: a radiologist's own queue in reading order; staff (or ?board=1
// for anyone) get the board of every open study in their scope.
func (a *API) worklist(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ctx := r.Context()
	if p.Role == auth.Radiologist && r.URL.Query().Get("board") == "" {
		items, err := a.items(ctx, p.Username)
		if err != nil {
			a.fail(w, err)
			return
		}
		order := map[string]int{}
		for i, id := range a.dispatch.Queue(p.Username) {
			order[id] = i
		}
		sortBy(items, func(it Item) int { return order[it.StudyUID] })
		httpx.JSON(w, http.StatusOK, map[string]any{"reader": p.Username, "items": orEmpty(items)})
		return
	}
	items, err := a.items(ctx, "")
	if err != nil {
		a.fail(w, err)
		return
	}
	visible := items[:0]
	for _, it := range items {
		if p.Sees(it.FacilityID) || it.ReaderID == p.Username {
			visible = append(visible, it)
		}
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"board": true, "stats": a.dispatch.Stats(), "items": orEmpty(visible)})
}

// events streams worklist changes as Server-Sent Events: a radiologist's
// own changes, or for staff every change (study IDs only; the client
// refetches what it shows).
func (a *API) events(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ch, cancel := a.dispatch.Subscribe(p.Username, p.All)
	defer cancel()
	serveSSE(w, r, ch, 3*time.Second, func(dispatch.Change) string { return "change" })
}

type presenceBody struct {
	Away bool `json:"away"`
}

func (a *API) heartbeat(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var b presenceBody
	if r.ContentLength != 0 {
		if !decodeBody(w, r, &b) {
			return
		}
	}
	if err := a.dispatch.Heartbeat(r.Context(), p.Username, b.Away); err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"status": "ok", "next_heartbeat_seconds": 15})
}

func (a *API) offline(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if err := a.dispatch.Offline(r.Context(), p.Username); err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]string{"status": "offline"})
}

func (a *API) open(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.result(w, a.dispatch.Open(r.Context(), r.PathValue("study"), p.Username), "opened")
}

type reasonBody struct {
	Reason string `json:"reason"`
	To     string `json:"to,omitempty"`
}

func (a *API) release(w http.ResponseWriter, r *http.Request, p *auth.Principal, b reasonBody) {
	a.result(w, a.dispatch.Release(r.Context(), r.PathValue("study"), p.Username, b.Reason), "released")
}

func (a *API) reassign(w http.ResponseWriter, r *http.Request, p *auth.Principal, b reasonBody) {
	if !a.studyVisible(r.Context(), p, r.PathValue("study")) {
		writeError(w, http.StatusNotFound, "study not on the worklist")
		return
	}
	a.result(w, a.dispatch.Reassign(r.Context(), r.PathValue("study"), b.To, b.Reason, p.Username), "reassigned")
}

func (a *API) result(w http.ResponseWriter, err error, ok string) {
	switch {
	case err == nil:
		httpx.JSON(w, http.StatusOK, map[string]string{"status": ok})
	case errors.Is(err, dispatch.ErrUnknownStudy):
		writeError(w, http.StatusNotFound, "study not on the worklist")
	case errors.Is(err, dispatch.ErrNotHolder):
		writeError(w, http.StatusConflict, "the study is leased to another reader")
	case errors.Is(err, dispatch.ErrReason):
		writeError(w, http.StatusBadRequest, "a reason is required")
	default:
		writeError(w, http.StatusConflict, "%v", err)
	}
}

func (a *API) studyVisible(ctx context.Context, p *auth.Principal, uid string) bool {
	it, err := dispatch.ItemOf(ctx, a.db, uid)
	return err == nil && (p.Sees(it.FacilityID) || it.ReaderID == p.Username)
}

// explain answers "why was this study given to this reader": the logged
// decisions with their reasons, and the engine's current view of every reader.
func (a *API) explain(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid := r.PathValue("study")
	if !a.studyVisible(r.Context(), p, uid) {
		writeError(w, http.StatusNotFound, "study not on the worklist")
		return
	}
	evs, err := dispatch.History(r.Context(), a.db, uid)
	if err != nil {
		a.fail(w, err)
		return
	}
	type event struct {
		At       string  `json:"at"`
		Kind     string  `json:"kind"`
		ReaderID string  `json:"reader_id,omitempty"`
		Code     string  `json:"code,omitempty"`
		Reason   string  `json:"reason,omitempty"`
		By       string  `json:"by,omitempty"`
		Detail   rawJSON `json:"detail,omitempty"`
	}
	var history []event
	for _, e := range evs {
		history = append(history, event{At: e.At, Kind: e.Kind, ReaderID: e.ReaderID, Code: e.Code, Reason: e.Reason, By: e.By, Detail: rawJSON(e.Detail)})
	}
	out := map[string]any{"study_uid": uid, "history": history}
	if cands, err := a.dispatch.Explain(uid); err == nil {
		out["candidates"] = cands
	}
	httpx.JSON(w, http.StatusOK, out)
}

type triageBody struct {
	StudyUID string   `json:"study_uid"`
	Source   string   `json:"source"`
	Priority string   `json:"priority,omitempty"`
	Stroke   bool     `json:"stroke,omitempty"`
	Trauma   bool     `json:"trauma,omitempty"`
	Flags    []string `json:"flags,omitempty"`
}

// triage takes an outside triage result (an AI tool's webhook): it can raise
// priority and flag the study; the flag and its source show on the worklist.
func (a *API) triage(w http.ResponseWriter, r *http.Request, p *auth.Principal, b triageBody) {
	if b.StudyUID == "" || b.Source == "" {
		writeError(w, http.StatusBadRequest, "study_uid and source are required")
		return
	}
	var prio *model.Priority
	if b.Priority != "" {
		pr, err := model.ParsePriority(b.Priority)
		if err != nil {
			writeError(w, http.StatusBadRequest, "priority must be stat, asap or routine")
			return
		}
		prio = &pr
	}
	if !a.studyVisible(r.Context(), p, b.StudyUID) {
		writeError(w, http.StatusNotFound, "study not on the worklist")
		return
	}
	a.result(w, a.dispatch.Triage(r.Context(), b.StudyUID, prio, b.Stroke, b.Trauma, b.Flags, b.Source), "flagged")
}

func (a *API) listReaders(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rs, err := a.roster.Readers(r.Context())
	a.reply(w, http.StatusOK, rs, err)
}

func (a *API) getReader(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if rd, ok := a.ownReader(w, r, p, "credentials"); ok {
		httpx.JSON(w, http.StatusOK, rd)
	}
}

// ownReader loads the reader the path names for that reader or for staff
// (what names the record in the refusal).
func (a *API) ownReader(w http.ResponseWriter, r *http.Request, p *auth.Principal, what string) (*model.Reader, bool) {
	id := r.PathValue("id")
	if !p.All && p.Username != id {
		writeError(w, http.StatusForbidden, "only staff may read another reader's %s", what)
		return nil, false
	}
	rd, err := a.roster.Reader(r.Context(), id)
	switch {
	case errors.Is(err, roster.ErrNotFound):
		writeError(w, http.StatusNotFound, "no reader %s", id)
		return nil, false
	case err != nil:
		a.fail(w, err)
		return nil, false
	}
	return rd, true
}

func (a *API) readersForAlerts(ctx context.Context) ([]model.Reader, error) {
	rs, err := a.roster.Readers(ctx)
	if err != nil {
		return nil, err
	}
	return values(rs), nil
}

func (a *API) expiring(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rs, err := a.readersForAlerts(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	offsets := model.DefaultOffsets()
	if d := r.URL.Query().Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 3650 {
			writeError(w, http.StatusBadRequest, "days must be a whole number from 1 to 3650")
			return
		}
		offsets = []int{n}
	}
	alerts := model.Expiring(rs, a.now(), offsets)
	httpx.JSON(w, http.StatusOK, orEmpty(alerts))
}

func (a *API) readerCalendar(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if rd, ok := a.ownReader(w, r, p, "calendar"); ok {
		a.ics(w, "Lightbox credentials: "+rd.Name, model.ExpiryEvents([]model.Reader{*rd}))
	}
}

func (a *API) groupCalendar(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rs, err := a.readersForAlerts(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	a.ics(w, "Lightbox group credentials", model.ExpiryEvents(rs))
}

func (a *API) ics(w http.ResponseWriter, name string, evs []model.CalEvent) {
	var b bytes.Buffer
	if err := model.WriteICS(&b, name, evs, a.now()); err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

func (a *API) facilities(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	fs, err := a.roster.Facilities(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	out := fs[:0]
	for _, f := range fs {
		if p.Sees(f.ID) {
			out = append(out, f)
		}
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a *API) putContract(w http.ResponseWriter, r *http.Request, p *auth.Principal, c roster.Contract) {
	a.setupDone(w, r, a.setup.PutContract(r.Context(), actor(r, p), r.PathValue("id"), c), c)
}

func (a *API) rvuTable(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	on := model.DateOf(a.now())
	if d := r.URL.Query().Get("date"); d != "" {
		var err error
		if on, err = model.ParseDate(d); err != nil {
			writeError(w, http.StatusBadRequest, "date must be YYYY-MM-DD")
			return
		}
	}
	type row struct {
		CPT         string  `json:"cpt"`
		WorkRVU     float64 `json:"work_rvu"`
		Description string  `json:"description,omitempty"`
		Effective   string  `json:"effective"`
	}
	var out []row
	for _, c := range a.rvu.Codes() {
		if e, ok := a.rvu.Entry(c, on); ok && !e.Deleted {
			out = append(out, row{CPT: e.CPT, WorkRVU: e.WorkRVU, Description: e.Description, Effective: e.Effective.String()})
		}
	}
	httpx.JSON(w, http.StatusOK, out)
}

// fail reports an unexpected error without leaking details to the client.
func (a *API) fail(w http.ResponseWriter, err error) {
	a.log.Error("api", "err", err)
	writeError(w, http.StatusInternalServerError, "internal error")
}
