package report

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/httpx"
	"lightbox/internal/model"
)

// Principal is the authenticated caller as the API needs it.
type Principal struct {
	Username   string   // = the reader ID for radiologists
	Role       string   // admin | coordinator | radiologist | technologist | clinician | integration
	Facilities []string // facilities the caller may see
	All        bool     // sees every facility
	// Clinician, for a referring clinician, is the ordering-clinician ID:
	// they see only reports of studies they ordered.
	Clinician string
}

func (p Principal) sees(facilityID string) bool {
	return p.All || slices.Contains(p.Facilities, facilityID)
}
func (p Principal) reader() bool { return p.Role == "radiologist" }
func (p Principal) staff() bool  { return p.Role == "admin" || p.Role == "coordinator" }

// API is the JSON API for readers and staff. Role rules:
//   - radiologist: templates, own macros, drafts, sign, addendum, correct,
//     reports and PDFs of facilities in scope, own productivity;
//   - admin, coordinator: read reports, versions, deliveries and PDFs,
//     productivity of everyone, group macros (admin);
//   - technologist, clinician, integration: signed versions and PDFs of
//     their facility only (no drafts).
//
// Signing, addenda and corrections need a recent re-authentication:
// RecentAuth must return nil (wire auth.Service.RequireRecentAuth); when
// RecentAuth is nil they are refused.
type API struct {
	Service    *Service
	Principal  func(r *http.Request) (Principal, error)
	RecentAuth func(r *http.Request) error
	// Prefix of the routes (default "/api/reports").
	Prefix string
	Logger *slog.Logger
}

// Routes registers the API on mux (Go 1.22 patterns).
// Mux is where routes are registered (an *http.ServeMux, or a recorder
// that also lists them).
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

func (a *API) Routes(mux Mux) {
	p := a.Prefix
	if p == "" {
		p = "/api/reports"
	}
	p = strings.TrimSuffix(p, "/")
	mux.HandleFunc("GET "+p+"/templates", a.with(a.listTemplates))
	mux.HandleFunc("GET "+p+"/templates/{id}", a.with(a.getTemplate))
	mux.HandleFunc("GET "+p+"/macros", a.with(a.listMacros))
	mux.HandleFunc("PUT "+p+"/macros/{name}", a.with(a.putMacro))
	mux.HandleFunc("POST "+p+"/macros/expand", a.with(a.expand))
	mux.HandleFunc("GET "+p+"/studies/{uid}", a.with(a.getReport))
	mux.HandleFunc("GET "+p+"/studies/{uid}/draft", a.with(a.getDraft))
	mux.HandleFunc("PUT "+p+"/studies/{uid}/draft", a.with(a.putDraft))
	mux.HandleFunc("POST "+p+"/studies/{uid}/sign", a.with(a.sign))
	mux.HandleFunc("POST "+p+"/studies/{uid}/addendum", a.with(a.addendum))
	mux.HandleFunc("POST "+p+"/studies/{uid}/correct", a.with(a.correct))
	mux.HandleFunc("GET "+p+"/studies/{uid}/pdf", a.with(a.pdf))
	mux.HandleFunc("GET "+p+"/studies/{uid}/deliveries", a.with(a.deliveries))
	mux.HandleFunc("GET "+p+"/productivity", a.with(a.productivity))
	mux.HandleFunc("GET "+p+"/productivity.csv", a.with(a.productivityCSV))
}

func (a *API) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}

type apiError struct {
	Error string       `json:"error"`
	Code  string       `json:"code,omitempty"`
	Codes []model.Code `json:"codes,omitempty"`
}

func (a *API) fail(w http.ResponseWriter, err error) {
	var ie *IneligibleError
	switch {
	case errors.As(err, &ie):
		httpx.JSON(w, http.StatusForbidden, apiError{Error: ie.Error(), Code: "ineligible", Codes: ie.Codes()})
	case errors.Is(err, ErrUnknownStudy), errors.Is(err, ErrNotFound):
		httpx.JSON(w, http.StatusNotFound, apiError{Error: err.Error(), Code: "not_found"})
	case errors.Is(err, ErrReauth):
		httpx.JSON(w, http.StatusUnauthorized, apiError{Error: err.Error(), Code: "reauth_required"})
	case errors.Is(err, ErrNotAuthor), errors.Is(err, ErrUnknownReader):
		httpx.JSON(w, http.StatusForbidden, apiError{Error: err.Error(), Code: "forbidden"})
	case errors.Is(err, ErrSigned), errors.Is(err, ErrNotSigned), errors.Is(err, ErrConflict):
		httpx.JSON(w, http.StatusConflict, apiError{Error: err.Error(), Code: "conflict"})
	case errors.Is(err, ErrEmptyImpression), errors.Is(err, ErrInvalid), errors.Is(err, ErrReasonRequired):
		httpx.JSON(w, http.StatusUnprocessableEntity, apiError{Error: err.Error(), Code: "invalid"})
	default:
		a.log().Error("report: api failure", "error", err)
		httpx.JSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
	}
}

func deny(w http.ResponseWriter, msg string) {
	httpx.JSON(w, http.StatusForbidden, apiError{Error: msg, Code: "forbidden"})
}

func decode(r *http.Request, v any) error {
	if err := httpx.Decode(r, v, 0); err != nil {
		return fmt.Errorf("%w: body: %v", ErrInvalid, err)
	}
	return nil
}

type handler func(w http.ResponseWriter, r *http.Request, p Principal)

func (a *API) with(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.Principal == nil {
			httpx.JSON(w, http.StatusUnauthorized, apiError{Error: "authentication required"})
			return
		}
		p, err := a.Principal(r)
		if err != nil || p.Username == "" {
			httpx.JSON(w, http.StatusUnauthorized, apiError{Error: "authentication required"})
			return
		}
		h(w, r, p)
	}
}

// studyScope returns the study's facility if the caller sees it.
func (a *API) studyScope(w http.ResponseWriter, r *http.Request, p Principal) (string, bool) {
	uid := r.PathValue("uid")
	var fac string
	var acc string
	err := a.Service.db.QueryRow(r.Context(), "SELECT facility_id, accession FROM study WHERE study_uid = ?", uid).Scan(&fac, &acc)
	if err == nil && p.Clinician != "" {
		var n int
		err = a.Service.db.QueryRow(r.Context(), "SELECT COUNT(*) FROM orders WHERE facility_id = ? AND accession = ? AND ordering_id = ?", fac, acc, p.Clinician).Scan(&n)
		if err == nil && (n == 0 || acc == "") {
			err = sql.ErrNoRows // not their patient: as if it did not exist
		}
	}
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.sees(fac)) {
		a.fail(w, ErrUnknownStudy)
		return "", false
	}
	if err != nil {
		a.fail(w, err)
		return "", false
	}
	return uid, true
}

func (a *API) reauth(r *http.Request) bool {
	return a.RecentAuth != nil && a.RecentAuth(r) == nil
}

func (a *API) listTemplates(w http.ResponseWriter, r *http.Request, p Principal) {
	ts := a.Service.opt.Templates
	q := r.URL.Query()
	if cpt, mod := q.Get("cpt"), q.Get("modality"); cpt != "" || mod != "" {
		t, ok := ts.Choose(cpt, mod)
		if !ok {
			httpx.JSON(w, http.StatusOK, []Template{})
			return
		}
		httpx.JSON(w, http.StatusOK, []Template{t})
		return
	}
	httpx.JSON(w, http.StatusOK, ts.List())
}

func (a *API) getTemplate(w http.ResponseWriter, r *http.Request, p Principal) {
	t, ok := a.Service.opt.Templates.Get(r.PathValue("id"))
	if !ok {
		httpx.JSON(w, http.StatusNotFound, apiError{Error: "no such template", Code: "not_found"})
		return
	}
	httpx.JSON(w, http.StatusOK, t)
}

func (a *API) listMacros(w http.ResponseWriter, r *http.Request, p Principal) {
	if !p.reader() && !p.staff() {
		deny(w, "readers only")
		return
	}
	ms, err := a.Service.Macros(r.Context(), p.Username)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, ms)
}

// putMacro: PUT …/macros/{name} {"body": "..."}; ?group=1 (admin) edits
// the group macro.
func (a *API) putMacro(w http.ResponseWriter, r *http.Request, p Principal) {
	owner := p.Username
	if r.URL.Query().Get("group") != "" {
		if p.Role != "admin" {
			deny(w, "only an administrator edits group macros")
			return
		}
		owner = ""
	} else if !p.reader() {
		deny(w, "readers only")
		return
	}
	var body struct {
		Body string `json:"body"`
	}
	if err := decode(r, &body); err != nil {
		a.fail(w, err)
		return
	}
	if err := a.Service.PutMacro(r.Context(), owner, r.PathValue("name"), body.Body); err != nil {
		a.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) expand(w http.ResponseWriter, r *http.Request, p Principal) {
	if !p.reader() {
		deny(w, "readers only")
		return
	}
	var body struct {
		Text string `json:"text"`
	}
	if err := decode(r, &body); err != nil {
		a.fail(w, err)
		return
	}
	t, err := a.Service.Expand(r.Context(), p.Username, body.Text)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]string{"text": t})
}

type reportView struct {
	Report   Report    `json:"report"`
	Versions []Version `json:"versions"`
}

func (a *API) getReport(w http.ResponseWriter, r *http.Request, p Principal) {
	uid, ok := a.studyScope(w, r, p)
	if !ok {
		return
	}
	rep, err := a.Service.Get(r.Context(), uid)
	if err != nil {
		a.fail(w, err)
		return
	}
	vs, err := loadVersions(r.Context(), a.Service.db, rep.ID)
	if err != nil {
		a.fail(w, err)
		return
	}
	if !p.reader() && !p.staff() {
		rep.Draft = nil
		vs = slices.DeleteFunc(vs, func(v Version) bool { return !v.Kind.Signed() })
	}
	httpx.JSON(w, http.StatusOK, reportView{Report: rep, Versions: vs})
}

func (a *API) getDraft(w http.ResponseWriter, r *http.Request, p Principal) {
	if !p.reader() {
		deny(w, "readers only")
		return
	}
	uid, ok := a.studyScope(w, r, p)
	if !ok {
		return
	}
	rep, err := a.Service.Get(r.Context(), uid)
	if errors.Is(err, ErrNotFound) || (err == nil && rep.Draft == nil) {
		httpx.JSON(w, http.StatusNotFound, apiError{Error: "no draft", Code: "not_found"})
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, rep.Draft)
}

func (a *API) putDraft(w http.ResponseWriter, r *http.Request, p Principal) {
	if !p.reader() {
		deny(w, "readers only")
		return
	}
	uid, ok := a.studyScope(w, r, p)
	if !ok {
		return
	}
	var c Content
	if err := decode(r, &c); err != nil {
		a.fail(w, err)
		return
	}
	v, err := a.Service.SaveDraft(r.Context(), uid, p.Username, c)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

type signBody struct {
	Kind         string          `json:"kind"` // prelim | final
	Location     *model.Location `json:"location,omitempty"`
	Display      string          `json:"display,omitempty"`
	Content      *Content        `json:"content,omitempty"`
	Discrepant   bool            `json:"discrepant,omitempty"`
	Note         string          `json:"note,omitempty"`
	Communicated bool            `json:"communicated,omitempty"`
	Text         string          `json:"text,omitempty"`   // addendum
	Reason       string          `json:"reason,omitempty"` // correction
}

func (b signBody) signer(p Principal) Signer {
	s := Signer{ReaderID: p.Username, Display: b.Display}
	if b.Location != nil {
		s.Location = *b.Location
	}
	return s
}

// signing does the checks shared by sign, addendum and correct.
func (a *API) signing(w http.ResponseWriter, r *http.Request, p Principal) (string, signBody, bool) {
	var b signBody
	if !p.reader() {
		deny(w, "only a radiologist signs")
		return "", b, false
	}
	uid, ok := a.studyScope(w, r, p)
	if !ok {
		return "", b, false
	}
	if err := decode(r, &b); err != nil {
		a.fail(w, err)
		return "", b, false
	}
	if !a.reauth(r) {
		a.fail(w, ErrReauth)
		return "", b, false
	}
	return uid, b, true
}

func (a *API) sign(w http.ResponseWriter, r *http.Request, p Principal) {
	uid, b, ok := a.signing(w, r, p)
	if !ok {
		return
	}
	var kind model.ReadKind
	switch b.Kind {
	case "prelim", "preliminary":
		kind = model.Prelim
	case "final":
		kind = model.Final
	default:
		a.fail(w, fmt.Errorf("%w: kind must be prelim or final", ErrInvalid))
		return
	}
	v, err := a.Service.Sign(r.Context(), uid, SignRequest{Kind: kind, Signer: b.signer(p), Authenticated: true, Content: b.Content,
		Discrepant: b.Discrepant, Note: b.Note, Communicated: b.Communicated})
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

func (a *API) addendum(w http.ResponseWriter, r *http.Request, p Principal) {
	uid, b, ok := a.signing(w, r, p)
	if !ok {
		return
	}
	v, err := a.Service.ReaderAddendum(r.Context(), uid, b.Text, b.signer(p))
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

func (a *API) correct(w http.ResponseWriter, r *http.Request, p Principal) {
	uid, b, ok := a.signing(w, r, p)
	if !ok {
		return
	}
	if b.Content == nil {
		a.fail(w, ErrEmptyImpression)
		return
	}
	v, err := a.Service.Correct(r.Context(), uid, *b.Content, b.Reason, b.signer(p))
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}

func (a *API) pdf(w http.ResponseWriter, r *http.Request, p Principal) {
	uid, ok := a.studyScope(w, r, p)
	if !ok {
		return
	}
	seq, _ := strconv.Atoi(r.URL.Query().Get("version"))
	b, err := a.Service.PDF(r.Context(), uid, seq)
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `inline; filename="report.pdf"`)
	_, _ = w.Write(b)
}

func (a *API) deliveries(w http.ResponseWriter, r *http.Request, p Principal) {
	if !p.reader() && !p.staff() {
		deny(w, "staff only")
		return
	}
	uid, ok := a.studyScope(w, r, p)
	if !ok {
		return
	}
	ds, err := a.Service.Deliveries(r.Context(), uid)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, ds)
}

// window reads from/to (RFC 3339 or YYYY-MM-DD; default the last 7 days).
func window(r *http.Request, now time.Time) (time.Time, time.Time, error) {
	parse := func(s string, def time.Time) (time.Time, error) {
		if s == "" {
			return def, nil
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return t, fmt.Errorf("%w: dates are RFC 3339 or YYYY-MM-DD", ErrInvalid)
		}
		return t, nil
	}
	q := r.URL.Query()
	to, err := parse(q.Get("to"), now)
	if err != nil {
		return to, to, err
	}
	from, err := parse(q.Get("from"), to.AddDate(0, 0, -7))
	return from, to, err
}

func (a *API) prod(w http.ResponseWriter, r *http.Request, p Principal) (*Productivity, bool) {
	if !p.reader() && !p.staff() {
		deny(w, "staff only")
		return nil, false
	}
	from, to, err := window(r, a.Service.opt.Now())
	if err != nil {
		a.fail(w, err)
		return nil, false
	}
	pr, err := a.Service.Productivity(r.Context(), from, to)
	if err != nil {
		a.fail(w, err)
		return nil, false
	}
	if !p.staff() { // a radiologist sees their own numbers only
		pr.Readers = slices.DeleteFunc(pr.Readers, func(x ReaderProductivity) bool { return x.ReaderID != p.Username })
	}
	return pr, true
}

func (a *API) productivity(w http.ResponseWriter, r *http.Request, p Principal) {
	if pr, ok := a.prod(w, r, p); ok {
		httpx.JSON(w, http.StatusOK, pr)
	}
}

func (a *API) productivityCSV(w http.ResponseWriter, r *http.Request, p Principal) {
	if pr, ok := a.prod(w, r, p); ok {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="productivity.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		_ = pr.WriteCSV(w)
	}
}
