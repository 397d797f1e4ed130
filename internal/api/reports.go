package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/model"
	"lightbox/internal/opt"
	"lightbox/internal/report"
)

func isReader(p *auth.Principal) bool { return p.Role == auth.Radiologist }

// Reports is the report JSON API for readers and staff (/api/reports). Role rules:
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
type Reports struct {
	Service    *report.Service
	Principal  func(r *http.Request) (*auth.Principal, error)
	RecentAuth func(r *http.Request) error
	// Granted, when set, reports a single-study grant of p to study
	// (internal/grants: break glass, consult, tumor board): such a grant
	// lets its holder read that study's signed report, as it lets them
	// read its images over DICOMweb.
	Granted func(ctx context.Context, p *auth.Principal, study string) bool
	// Prefix of the routes (default "/api/reports").
	Prefix string
	Logger *slog.Logger
}

// Routes registers the API on mux (Go 1.22 patterns).
func (a *Reports) Routes(mux Mux) {
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
	mux.HandleFunc("GET "+p+"/productivity", a.with(shown(a.prod)))
	mux.HandleFunc("GET "+p+"/productivity.csv", a.with(a.productivityCSV))
}

func (a *Reports) log() *slog.Logger {
	return opt.Logger(a.Logger)
}

type reportError struct {
	Error string       `json:"error"`
	Code  string       `json:"code,omitempty"`
	Codes []model.Code `json:"codes,omitempty"`
}

func (a *Reports) fail(w http.ResponseWriter, err error) {
	var ie *report.IneligibleError
	switch {
	case errors.As(err, &ie):
		httpx.JSON(w, http.StatusForbidden, reportError{Error: ie.Error(), Code: "ineligible", Codes: ie.Codes()})
	case errors.Is(err, report.ErrUnknownStudy), errors.Is(err, report.ErrNotFound):
		httpx.JSON(w, http.StatusNotFound, reportError{Error: err.Error(), Code: "not_found"})
	case errors.Is(err, report.ErrReauth):
		httpx.JSON(w, http.StatusUnauthorized, reportError{Error: err.Error(), Code: "reauth_required"})
	case errors.Is(err, report.ErrNotAuthor), errors.Is(err, report.ErrUnknownReader):
		httpx.JSON(w, http.StatusForbidden, reportError{Error: err.Error(), Code: "forbidden"})
	case errors.Is(err, report.ErrSigned), errors.Is(err, report.ErrNotSigned), errors.Is(err, report.ErrConflict):
		httpx.JSON(w, http.StatusConflict, reportError{Error: err.Error(), Code: "conflict"})
	case errors.Is(err, report.ErrEmptyImpression), errors.Is(err, report.ErrInvalid), errors.Is(err, report.ErrReasonRequired):
		httpx.JSON(w, http.StatusUnprocessableEntity, reportError{Error: err.Error(), Code: "invalid"})
	default:
		a.log().Error("report: api failure", "error", err)
		httpx.JSON(w, http.StatusInternalServerError, reportError{Error: "internal error"})
	}
}

func denyReport(w http.ResponseWriter, msg string) {
	httpx.JSON(w, http.StatusForbidden, reportError{Error: msg, Code: "forbidden"})
}

// decode decodes the JSON request body into v; when it cannot, it answers
// as for report.ErrInvalid and returns false, and the handler returns.
func (a *Reports) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := httpx.Decode(r, v, 0); err != nil {
		a.fail(w, fmt.Errorf("%w: body: %v", report.ErrInvalid, err))
		return false
	}
	return true
}

// readerBody is decode for a handler only readers may call: anyone else is
// refused before the body is read.
func (a *Reports) readerBody(w http.ResponseWriter, r *http.Request, p *auth.Principal, v any) bool {
	if !isReader(p) {
		denyReport(w, "readers only")
		return false
	}
	return a.decode(w, r, v)
}

// reportHandler is the API's authenticated handler, behind the reports' own checks.
type reportHandler = authedHandler

func (a *Reports) with(h reportHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.Principal == nil {
			httpx.JSON(w, http.StatusUnauthorized, reportError{Error: "authentication required"})
			return
		}
		p, err := a.Principal(r)
		if err != nil || p == nil || p.Username == "" {
			httpx.JSON(w, http.StatusUnauthorized, reportError{Error: "authentication required"})
			return
		}
		h(w, r, p)
	}
}

// readerStudy is studyScope for a radiologist; anyone else is refused
// with msg.
func (a *Reports) readerStudy(w http.ResponseWriter, r *http.Request, p *auth.Principal, msg string) (string, bool) {
	if !isReader(p) {
		denyReport(w, msg)
		return "", false
	}
	return a.studyScope(w, r, p)
}

// studyScope returns the study UID if the caller sees the study.
func (a *Reports) studyScope(w http.ResponseWriter, r *http.Request, p *auth.Principal) (string, bool) {
	uid := r.PathValue("uid")
	if _, err := a.Service.StudyFacility(r.Context(), uid, p.Scope()); err != nil {
		a.fail(w, err)
		return "", false
	}
	return uid, true
}

// readScope is studyScope for reading a report, which a single-study grant
// also allows; granted reports that access came through a grant only, which
// shows signed versions alone (a draft stays with its case's readers).
func (a *Reports) readScope(w http.ResponseWriter, r *http.Request, p *auth.Principal) (uid string, granted, ok bool) {
	uid = r.PathValue("uid")
	_, err := a.Service.StudyFacility(r.Context(), uid, p.Scope())
	if err == nil {
		return uid, false, true
	}
	if errors.Is(err, report.ErrUnknownStudy) && a.Granted != nil && a.Granted(r.Context(), p, uid) {
		return uid, true, true
	}
	a.fail(w, err)
	return "", false, false
}

func (a *Reports) reauth(r *http.Request) bool {
	return a.RecentAuth != nil && a.RecentAuth(r) == nil
}

func (a *Reports) listTemplates(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ts := a.Service.Templates()
	q := r.URL.Query()
	if cpt, mod := q.Get("cpt"), q.Get("modality"); cpt != "" || mod != "" {
		t, ok := ts.Choose(cpt, mod)
		if !ok {
			httpx.JSON(w, http.StatusOK, []report.Template{})
			return
		}
		httpx.JSON(w, http.StatusOK, []report.Template{t})
		return
	}
	httpx.JSON(w, http.StatusOK, ts.List())
}

func (a *Reports) getTemplate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	t, ok := a.Service.Templates().Get(r.PathValue("id"))
	if !ok {
		httpx.JSON(w, http.StatusNotFound, reportError{Error: "no such template", Code: "not_found"})
		return
	}
	httpx.JSON(w, http.StatusOK, t)
}

func (a *Reports) listMacros(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !isReader(p) && !isStaff(p) {
		denyReport(w, "readers only")
		return
	}
	ms, err := a.Service.Macros(r.Context(), p.Username)
	a.reply(w, ms, err)
}

// putMacro: PUT …/macros/{name} {"body": "..."}; ?group=1 (admin) edits
// the group macro.
func (a *Reports) putMacro(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	owner := p.Username
	var body struct {
		Body string `json:"body"`
	}
	if r.URL.Query().Get("group") != "" {
		if p.Role != auth.Admin {
			denyReport(w, "only an administrator edits group macros")
			return
		}
		owner = ""
		if !a.decode(w, r, &body) {
			return
		}
	} else if !a.readerBody(w, r, p, &body) {
		return
	}
	if err := a.Service.PutMacro(r.Context(), owner, r.PathValue("name"), body.Body); err != nil {
		a.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *Reports) expand(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var body struct {
		Text string `json:"text"`
	}
	if !a.readerBody(w, r, p, &body) {
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
	Report   report.Report    `json:"report"`
	Versions []report.Version `json:"versions"`
}

func (a *Reports) getReport(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, granted, ok := a.readScope(w, r, p)
	if !ok {
		return
	}
	rep, err := a.Service.Get(r.Context(), uid)
	if err != nil {
		a.fail(w, err)
		return
	}
	vs, err := a.Service.Versions(r.Context(), uid)
	if err != nil {
		a.fail(w, err)
		return
	}
	if granted || !isReader(p) && !isStaff(p) {
		rep.Draft = nil
		vs = slices.DeleteFunc(vs, func(v report.Version) bool { return !v.Kind.Signed() })
	}
	httpx.JSON(w, http.StatusOK, reportView{Report: rep, Versions: vs})
}

func (a *Reports) getDraft(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, ok := a.readerStudy(w, r, p, "readers only")
	if !ok {
		return
	}
	rep, err := a.Service.Get(r.Context(), uid)
	if errors.Is(err, report.ErrNotFound) || (err == nil && rep.Draft == nil) {
		httpx.JSON(w, http.StatusNotFound, reportError{Error: "no draft", Code: "not_found"})
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, rep.Draft)
}

func (a *Reports) putDraft(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, ok := a.readerStudy(w, r, p, "readers only")
	if !ok {
		return
	}
	var c report.Content
	if !a.decode(w, r, &c) {
		return
	}
	v, err := a.Service.SaveDraft(r.Context(), uid, p.Username, c)
	a.reply(w, v, err)
}

type signBody struct {
	Kind         string          `json:"kind"` // prelim | final
	Location     *model.Location `json:"location,omitempty"`
	Display      string          `json:"display,omitempty"`
	Content      *report.Content `json:"content,omitempty"`
	Discrepant   bool            `json:"discrepant,omitempty"`
	Note         string          `json:"note,omitempty"`
	Communicated bool            `json:"communicated,omitempty"`
	Text         string          `json:"text,omitempty"`   // addendum
	Reason       string          `json:"reason,omitempty"` // correction
}

func (b signBody) signer(p *auth.Principal) report.Signer {
	s := report.Signer{ReaderID: p.Username, Display: b.Display}
	if b.Location != nil {
		s.Location = *b.Location
	}
	return s
}

// signing does the checks shared by sign, addendum and correct.
func (a *Reports) signing(w http.ResponseWriter, r *http.Request, p *auth.Principal) (string, signBody, bool) {
	var b signBody
	uid, ok := a.readerStudy(w, r, p, "only a radiologist signs")
	if !ok {
		return "", b, false
	}
	if !a.decode(w, r, &b) {
		return "", b, false
	}
	if !a.reauth(r) {
		a.fail(w, report.ErrReauth)
		return "", b, false
	}
	return uid, b, true
}

func (a *Reports) sign(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
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
		a.fail(w, fmt.Errorf("%w: kind must be prelim or final", report.ErrInvalid))
		return
	}
	v, err := a.Service.Sign(r.Context(), uid, report.SignRequest{Kind: kind, Signer: b.signer(p), Authenticated: true, Content: b.Content,
		Discrepant: b.Discrepant, Note: b.Note, Communicated: b.Communicated})
	a.reply(w, v, err)
}

func (a *Reports) addendum(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, b, ok := a.signing(w, r, p)
	if !ok {
		return
	}
	v, err := a.Service.ReaderAddendum(r.Context(), uid, b.Text, b.signer(p))
	a.reply(w, v, err)
}

func (a *Reports) correct(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, b, ok := a.signing(w, r, p)
	if !ok {
		return
	}
	if b.Content == nil {
		a.fail(w, report.ErrEmptyImpression)
		return
	}
	v, err := a.Service.Correct(r.Context(), uid, *b.Content, b.Reason, b.signer(p))
	a.reply(w, v, err)
}

func (a *Reports) pdf(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	uid, _, ok := a.readScope(w, r, p)
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

func (a *Reports) deliveries(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !isReader(p) && !isStaff(p) {
		denyReport(w, "staff only")
		return
	}
	uid, ok := a.studyScope(w, r, p)
	if !ok {
		return
	}
	ds, err := a.Service.Deliveries(r.Context(), uid)
	a.reply(w, ds, err)
}

// window reads from/to (RFC 3339 or YYYY-MM-DD; default the last 7 days).
func reportWindow(r *http.Request, now time.Time) (time.Time, time.Time, error) {
	parse := func(s string, def time.Time) (time.Time, error) {
		if s == "" {
			return def, nil
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return t, fmt.Errorf("%w: dates are RFC 3339 or YYYY-MM-DD", report.ErrInvalid)
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

func (a *Reports) prod(w http.ResponseWriter, r *http.Request, p *auth.Principal) (*report.Productivity, bool) {
	if !isReader(p) && !isStaff(p) {
		denyReport(w, "staff only")
		return nil, false
	}
	from, to, err := reportWindow(r, a.Service.Now())
	if err != nil {
		a.fail(w, err)
		return nil, false
	}
	pr, err := a.Service.Productivity(r.Context(), from, to)
	if err != nil {
		a.fail(w, err)
		return nil, false
	}
	if !isStaff(p) { // a radiologist sees their own numbers only
		pr.Readers = slices.DeleteFunc(pr.Readers, func(x report.ReaderProductivity) bool { return x.ReaderID != p.Username })
	}
	return pr, true
}

func (a *Reports) productivityCSV(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if pr, ok := a.prod(w, r, p); ok {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="productivity.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		_ = pr.WriteCSV(w)
	}
}

// reply answers v (200) or the error.
func (a *Reports) reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, v)
}
