package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/httpx"
)

// auditor records every access to patient data that reaches the node over
// HTTP, and the security events of authentication. Repeated reads of one
// study by one user (a viewer fetching frame after frame) are recorded
// once per window, so the trail stays readable and the database is not
// written per frame; queries and changes are always recorded.
type auditor struct {
	log    *audit.Logger
	logErr func(msg string, args ...any)
	window time.Duration
	// breakGlass reports a study reached through an emergency grant (nil: none).
	breakGlass func(ctx context.Context, p *auth.Principal, study string) bool
	// boardGrant reports a study reached through a tumor-board grant (nil: none).
	boardGrant func(ctx context.Context, p *auth.Principal, study string) bool

	mu   sync.Mutex
	seen map[string]time.Time
}

func newAuditor(l *audit.Logger, logErr func(string, ...any)) *auditor {
	return &auditor{log: l, logErr: logErr, window: 5 * time.Minute, seen: map[string]time.Time{}}
}

func (a *auditor) record(ctx context.Context, ev audit.Event) {
	if err := a.log.Record(ctx, ev); err != nil {
		a.logErr("audit record failed", "event", string(ev.EventID), "err", err)
	}
}

// recent reports whether key was recorded within the window, and marks it.
func (a *auditor) recent(key string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t, ok := a.seen[key]; ok && now.Sub(t) < a.window {
		return true
	}
	if len(a.seen) > 100000 {
		a.seen = map[string]time.Time{} // bounded memory; at worst a duplicate row
	}
	a.seen[key] = now
	return false
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// classify names the audit event of an HTTP request, or ok=false when the
// route touches no patient data.
func classify(r *http.Request) (id audit.EventID, action audit.Action, object string, ok bool) {
	p := r.URL.Path
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	// readOrUpdate is the action of a route whose GETs read a record and
	// whose other methods change it.
	readOrUpdate := audit.Update
	if read {
		readOrUpdate = audit.Read
	}
	study := r.PathValue("study")
	switch {
	case strings.HasPrefix(p, "/dicomweb/"):
		switch {
		case !read:
			return audit.InstancesTransferred, audit.Create, "study", true
		case study == "" || strings.HasSuffix(p, "/series") || strings.HasSuffix(p, "/instances"):
			return audit.Query, audit.Execute, "study", true
		}
		return audit.InstancesAccessed, audit.Read, "study", true
	case strings.HasPrefix(p, "/fhir/"):
		switch {
		case strings.HasSuffix(p, "/metadata"):
			return "", "", "", false
		case !read:
			return audit.OrderRecord, audit.Create, "order", true
		case strings.HasPrefix(p, "/fhir/Patient/"):
			return audit.PatientRecord, audit.Read, "patient", true
		case strings.HasPrefix(p, "/fhir/ServiceRequest/"):
			return audit.OrderRecord, audit.Read, "order", true
		}
		return audit.Query, audit.Execute, "fhir", true
	case strings.HasPrefix(p, "/api/worklist"):
		if read && study == "" {
			return audit.Query, audit.Execute, "worklist", true
		}
		return audit.ProcedureRecord, readOrUpdate, "assignment", true
	case strings.HasPrefix(p, "/api/orders"), strings.HasPrefix(p, "/api/reconciliation"):
		return audit.OrderRecord, readOrUpdate, "order", true
	case strings.HasPrefix(p, "/api/hl7/dead-letters"):
		return audit.PatientRecord, audit.Read, "hl7-message", true
	case strings.HasPrefix(p, "/api/studies/") && (strings.Contains(p, "/consults") || strings.Contains(p, "/visits")), strings.HasPrefix(p, "/api/consults"):
		// second opinions, their thread and live session, clinic visits
		return audit.PatientRecord, readOrUpdate, "consult", true
	case p == "/api/break-glass": // the privacy officer's list of grants
		return audit.PatientRecord, audit.Read, "break-glass", true
	case strings.HasSuffix(p, "/break-glass"):
		return audit.SecurityAlert, audit.Execute, "study", true
	case strings.HasPrefix(p, "/api/studies/") && strings.HasSuffix(p, "/priors"): // the priors fetched for a study
		return audit.InstancesAccessed, audit.Read, "priors", true
	case strings.HasPrefix(p, "/api/studies/"): // key images and annotations
		return audit.InstancesAccessed, readOrUpdate, "key-image", true
	case strings.HasPrefix(p, "/api/tumor-boards"), strings.HasPrefix(p, "/api/ir-consults"),
		strings.HasPrefix(p, "/api/peer-review"), strings.HasPrefix(p, "/api/mentoring/overreads"):
		// Quality and collaboration records name studies (issue #20).
		return audit.PatientRecord, readOrUpdate, "collaboration", true
	case strings.HasPrefix(p, "/api/reports"), strings.HasPrefix(p, "/api/critical"):
		return audit.PatientRecord, readOrUpdate, "report", true
	}
	return "", "", "", false
}

// middleware audits requests after they are served (the outcome is part of
// the record). It sits inside the authentication middleware, so it sees the
// principal, and around the mux, so it sees the matched path values.
func (a *auditor) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		id, action, object, ok := classify(r)
		if !ok {
			return
		}
		p := auth.PrincipalFrom(r.Context())
		if p == nil {
			return // refused before authentication; the auth events cover it
		}
		ev := audit.Event{EventID: id, Action: action, UserID: p.Username, UserRole: string(p.Role), UserIsRequestor: true,
			NetworkAddr: httpx.RemoteHost(r), Interface: audit.HTTP, ObjectType: object, Outcome: outcomeOf(rec.code),
			Detail: requestLine(r)}
		if s := r.PathValue("study"); s != "" {
			ev.StudyUIDs = []string{s}
		} else if s := r.PathValue("uid"); s != "" && strings.HasPrefix(r.URL.Path, "/api/reports/") {
			ev.StudyUIDs = []string{s} // the report routes name the study {uid}
		}
		switch {
		case id == audit.SecurityAlert:
			ev.EventType, ev.Detail = audit.EmergencyOverrideStarted, "break-glass grant: "+ev.Detail
		case len(ev.StudyUIDs) > 0 && ev.Outcome == audit.Success && a.breakGlass != nil && a.breakGlass(context.WithoutCancel(r.Context()), p, ev.StudyUIDs[0]):
			// Every use under a grant is recorded: no deduplication window.
			ev.EventType, ev.Detail = audit.UseOfRestrictedFunction, "break-glass: "+ev.Detail
			a.record(context.WithoutCancel(r.Context()), ev)
			return
		case len(ev.StudyUIDs) > 0 && ev.Outcome == audit.Success && a.boardGrant != nil && a.boardGrant(context.WithoutCancel(r.Context()), p, ev.StudyUIDs[0]):
			ev.EventType, ev.Detail = audit.UseOfRestrictedFunction, "tumor-board grant: "+ev.Detail
			a.record(context.WithoutCancel(r.Context()), ev)
			return
		}
		if action == audit.Read && ev.Outcome == audit.Success && len(ev.StudyUIDs) > 0 &&
			a.recent(p.Username+"|"+string(id)+"|"+ev.StudyUIDs[0], time.Now()) {
			return
		}
		if action == audit.Read || id == audit.Query {
			// A read's record is queued: the end of the response does not
			// wait for its commit (internal/audit/batch.go).
			if err := a.log.Submit(context.WithoutCancel(r.Context()), ev); err != nil {
				a.logErr("audit record failed", "event", string(ev.EventID), "err", err)
			}
			return
		}
		a.record(context.WithoutCancel(r.Context()), ev)
	})
}

// requestLine is the request's method and the route pattern served (no
// identifiers: path values stay out). A pattern names its method before a
// space ("GET /dicomweb/..."); that part is dropped so the detail never
// reads "GET GET /...".
func requestLine(r *http.Request) string {
	route := r.Pattern
	if _, rest, ok := strings.Cut(route, " "); ok {
		route = rest
	}
	return r.Method + " " + route
}

func outcomeOf(code int) audit.Outcome {
	switch {
	case code < 400:
		return audit.Success
	case code < 500:
		return audit.SeriousFailure
	}
	return audit.MajorFailure
}

// authEvent turns authentication events into 110114 records.
func (a *auditor) authEvent(ctx context.Context, e auth.Event) {
	actor := audit.Actor{UserID: e.Username, NetworkAddr: e.RemoteIP, Interface: audit.HTTP}
	if actor.UserID == "" {
		actor.UserID = "unknown"
	}
	switch e.Type {
	case "login", "reauth":
		a.record(ctx, audit.LoginEvent(actor, audit.Success, e.Type))
	case "login-failed", "reauth-failed", "rate-limited":
		a.record(ctx, audit.LoginEvent(actor, audit.SeriousFailure, e.Type))
	case "logout", "session-expired":
		a.record(ctx, audit.LogoutEvent(actor, e.Type))
	case "totp-enrolled", "totp-confirmed", "totp-reset":
		a.record(ctx, audit.SecurityAlertEvent(actor, audit.SecurityRolesChanged, e.Type))
	}
}
