package fhir

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/facility"
	"lightbox/internal/httpx"
	"lightbox/internal/opt"
	"lightbox/internal/order"
	"lightbox/internal/report"
	"lightbox/internal/scope"
)

// ContentType is the FHIR JSON media type.
const ContentType = "application/fhir+json"

// Handler serves Lightbox's FHIR endpoints. Mount its methods on routes
// (see Routes), behind authentication.
type Handler struct {
	Orders *order.Service
	// Reports serves DiagnosticReport (nil: not served, and not listed in
	// the CapabilityStatement).
	Reports *report.Service
	// PDFURL is the presentedForm URL of a report in search results
	// (default "/api/reports/studies/{uid}/pdf"); a read embeds the PDF.
	PDFURL func(studyUID string) string
	// Audit serves AuditEvent to administrators (nil: not served); SiteID
	// is the audit source in the events.
	Audit  *audit.Logger
	SiteID string
	// Principal is the authenticated caller (AuditEvent needs who asks).
	Principal func(r *http.Request) (*auth.Principal, error)
	// Scope returns what the request may see and act on (the one access
	// rule, package scope). An error answers 403.
	Scope func(r *http.Request) (scope.Scope, error)
	// Base is the URL prefix of the FHIR endpoints, e.g. "/fhir" (default).
	Base    string
	Version string       // software version for metadata
	Logger  *slog.Logger // default: discard
	Now     func() time.Time

	routes []string // what Routes registered: the CapabilityStatement lists exactly these
}

// Routes registers the handlers on mux under Base (Go 1.22 patterns).
// Mux is where routes are registered (an *http.ServeMux, or a recorder
// that also lists them).
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

func (h *Handler) Routes(mux Mux) {
	b := h.base()
	h.routes = nil
	handle := func(method, path string, fn http.HandlerFunc) {
		h.routes = append(h.routes, method+" "+path)
		mux.HandleFunc(method+" "+b+"/"+path, fn)
	}
	handle("POST", "ServiceRequest", h.CreateServiceRequest)
	handle("GET", "ServiceRequest", h.SearchServiceRequest)
	handle("GET", "ServiceRequest/{id}", h.ReadServiceRequest)
	handle("GET", "Patient", h.SearchPatient)
	handle("GET", "Patient/{id}", h.ReadPatient)
	handle("GET", "ImagingStudy", h.SearchImagingStudy)
	handle("GET", "ImagingStudy/{id}", h.ReadImagingStudy)
	if h.Reports != nil {
		handle("GET", "DiagnosticReport", h.SearchDiagnosticReport)
		handle("GET", "DiagnosticReport/{id}", h.ReadDiagnosticReport)
	}
	if h.Audit != nil {
		handle("GET", "AuditEvent", h.SearchAuditEvent)
	}
	mux.HandleFunc("GET "+b+"/metadata", h.Metadata)
}

func (h *Handler) base() string {
	if h.Base == "" {
		return "/fhir"
	}
	return strings.TrimSuffix(h.Base, "/")
}

func (h *Handler) log() *slog.Logger {
	return opt.Logger(h.Logger)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	httpx.JSONAs(w, status, ContentType+"; charset=utf-8", v)
}

func writeOutcome(w http.ResponseWriter, status int, code, expr, msg string) {
	writeJSON(w, status, Outcome(code, expr, msg))
}

// scope is the caller's scope; false when the request was answered 403.
func (h *Handler) scope(w http.ResponseWriter, r *http.Request) (scope.Scope, bool) {
	if h.Scope == nil {
		writeOutcome(w, http.StatusForbidden, "forbidden", "", "no access scope configured")
		return scope.Scope{}, false
	}
	sc, err := h.Scope(r)
	if err != nil {
		writeOutcome(w, http.StatusForbidden, "forbidden", "", "access denied")
		return scope.Scope{}, false
	}
	return sc, true
}

// CreateServiceRequest handles POST [base]/ServiceRequest: 201 with Location
// for a new order, 200 for a re-sent identical one, 400 for unreadable
// input, 422 for an invalid resource, 409 for an accession already in use.
// The facility is the accession identifier's assigner
// (identifier[ACSN].assigner.identifier.value) or, when absent, the
// caller's only facility.
func (h *Handler) CreateServiceRequest(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil || len(body) > 1<<20 {
		writeOutcome(w, http.StatusBadRequest, "too-costly", "", "request body unreadable or larger than 1 MiB")
		return
	}
	var probe struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		writeOutcome(w, http.StatusBadRequest, "structure", "", "body is not JSON")
		return
	}
	if probe.ResourceType != "ServiceRequest" {
		writeOutcome(w, http.StatusBadRequest, "invalid", "resourceType", "resourceType must be ServiceRequest")
		return
	}
	var sr ServiceRequest
	if err := json.Unmarshal(body, &sr); err != nil {
		writeOutcome(w, http.StatusBadRequest, "structure", "ServiceRequest", "body does not match the ServiceRequest structure")
		return
	}
	if oo := sr.Validate(); oo != nil {
		writeJSON(w, http.StatusUnprocessableEntity, oo)
		return
	}
	fac := sr.AssignedFacility()
	if fac == "" {
		if scope.All || len(scope.Facilities) != 1 {
			writeOutcome(w, http.StatusUnprocessableEntity, "required", "ServiceRequest.identifier.assigner",
				"name the facility in the accession identifier's assigner.identifier.value")
			return
		}
		fac = scope.Facilities[0]
	}
	if !scope.AllowsFacility(fac) {
		writeOutcome(w, http.StatusForbidden, "forbidden", "ServiceRequest.identifier.assigner", "facility not in your scope")
		return
	}
	o, err := sr.ToOrder(fac)
	if err != nil {
		writeOutcome(w, http.StatusUnprocessableEntity, "invalid", "ServiceRequest.subject", "subject has no patient identifier")
		return
	}
	if o.Patient.Issuer == "" {
		o.Patient.Issuer = fac
	}
	if err := archive.CheckPatientNamespace(r.Context(), h.Orders.DB, fac, o.Patient.Issuer, o.Patient.ID); errors.Is(err, archive.ErrForeignPatient) {
		writeOutcome(w, http.StatusForbidden, "forbidden", "ServiceRequest.subject.identifier.system", "the patient's identifier system belongs to another facility")
		return
	} else if err != nil {
		h.log().Error("fhir: patient namespace", "error", err)
		writeOutcome(w, http.StatusInternalServerError, "exception", "", "internal error")
		return
	}
	if o.LocationState == "" {
		if f, err := facility.Get(r.Context(), h.Orders.DB, fac); err == nil {
			o.LocationState = f.State
		}
	}
	stored, created, err := h.Orders.Intake(r.Context(), o)
	var ve *order.ValidationError
	switch {
	case errors.As(err, &ve):
		writeOutcome(w, http.StatusUnprocessableEntity, "required", "ServiceRequest", ve.Error())
		return
	case errors.Is(err, order.ErrDuplicate):
		writeOutcome(w, http.StatusConflict, "duplicate", "ServiceRequest.identifier", "accession number already used by another order")
		return
	case err != nil:
		h.log().Error("fhir: create ServiceRequest failed", "error", err)
		writeOutcome(w, http.StatusInternalServerError, "exception", "", "internal error")
		return
	}
	w.Header().Set("Location", h.base()+"/ServiceRequest/"+stored.ID)
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	h.log().Info("fhir: ServiceRequest received", "order_id", stored.ID, "created", created)
	writeJSON(w, status, FromOrder(stored))
}

// ReadServiceRequest handles GET [base]/ServiceRequest/{id}. Orders outside
// the caller's scope are reported as not found.
func (h *Handler) ReadServiceRequest(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if id == "" {
		id = r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	}
	o, err := h.Orders.Get(r.Context(), id)
	if errors.Is(err, order.ErrNotFound) || (err == nil && !scope.AllowsFacility(o.FacilityID)) {
		writeOutcome(w, http.StatusNotFound, "not-found", "", "ServiceRequest not found")
		return
	}
	if err != nil {
		h.log().Error("fhir: read ServiceRequest failed", "error", err)
		writeOutcome(w, http.StatusInternalServerError, "exception", "", "internal error")
		return
	}
	writeJSON(w, http.StatusOK, FromOrder(o))
}

// tokenValue splits a token search value "system|value".
func tokenValue(s string) (system, value string) {
	if i := strings.IndexByte(s, '|'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return "", s
}

// SearchServiceRequest handles GET [base]/ServiceRequest with identifier
// (accession, [system|]value), patient (Patient/<id> or <id>), status
// (active, on-hold, completed, revoked) and _count.
func (h *Handler) SearchServiceRequest(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	q := order.Query{FacilityIDs: scope.FacilityIDs()}
	v := r.URL.Query()
	for k := range v {
		switch k {
		case "identifier", "patient", "status", "_count", "_format":
		default:
			writeOutcome(w, http.StatusBadRequest, "not-supported", k, "unsupported search parameter")
			return
		}
	}
	if s := v.Get("identifier"); s != "" {
		_, q.Accession = tokenValue(s)
	}
	if s := v.Get("patient"); s != "" {
		pk, err := strconv.ParseInt(strings.TrimPrefix(s, "Patient/"), 10, 64)
		if err != nil {
			writeOutcome(w, http.StatusBadRequest, "value", "patient", "patient must be a Patient id")
			return
		}
		q.PatientPK = pk
	}
	if s := v.Get("status"); s != "" {
		for _, one := range strings.Split(s, ",") {
			st, ok := statusesFromFHIR(one)
			if !ok {
				writeOutcome(w, http.StatusBadRequest, "code-invalid", "status", "unsupported status value")
				return
			}
			q.Status = append(q.Status, st...)
		}
	}
	if s := v.Get("_count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeOutcome(w, http.StatusBadRequest, "value", "_count", "_count must be a non-negative integer")
			return
		}
		q.Limit = min(n, 500)
	}
	os, err := h.Orders.Find(r.Context(), q)
	searchset(h, w, r, "ServiceRequest", os, err, true, func(o order.Order) (string, any, error) { return o.ID, FromOrder(o), nil })
}

// SearchPatient handles GET [base]/Patient?identifier=[system|]value; only
// patients with an order or study in the caller's scope are returned.
func (h *Handler) SearchPatient(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	s := r.URL.Query().Get("identifier")
	sys, val := tokenValue(s)
	if val == "" {
		writeOutcome(w, http.StatusBadRequest, "required", "identifier", "identifier is required")
		return
	}
	ps, err := h.Orders.FindPatients(r.Context(), sys, val, scope.FacilityIDs())
	searchset(h, w, r, "Patient", ps, err, false, func(p order.PatientRecord) (string, any, error) {
		fp := PatientFromRecord(p)
		return fp.ID, fp, nil
	})
}

// searchset answers a search's matches as a searchset Bundle (FHIR R4
// Bundle.type, RESTful search): each entry with its full URL and search
// mode match, the request as the self link when self is set. entry maps a
// match to its resource's id and resource. A failed search or mapping is
// logged and answered 500.
func searchset[T any](h *Handler, w http.ResponseWriter, r *http.Request, typ string, matches []T, err error, self bool, entry func(T) (id string, res any, err error)) {
	b := Bundle{ResourceType: "Bundle", Type: "searchset", Total: len(matches)}
	if self {
		b.Link = []BundleLink{{Relation: "self", URL: r.URL.RequestURI()}}
	}
	for _, m := range matches {
		if err != nil {
			break
		}
		var id string
		var res any
		if id, res, err = entry(m); err == nil {
			b.Entry = append(b.Entry, BundleEntry{FullURL: h.base() + "/" + typ + "/" + id, Resource: res, Search: &EntrySearch{Mode: "match"}})
		}
	}
	if err != nil {
		h.log().Error("fhir: search failed", "resource", typ, "error", err)
		writeOutcome(w, http.StatusInternalServerError, "exception", "", "internal error")
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// searchParams are the search parameters each resource's search-type
// interaction supports.
var searchParams = map[string][]SearchParam{
	"ServiceRequest":   {{Name: "identifier", Type: "token"}, {Name: "patient", Type: "reference"}, {Name: "status", Type: "token"}},
	"Patient":          {{Name: "identifier", Type: "token"}},
	"ImagingStudy":     {{Name: "patient", Type: "reference"}, {Name: "identifier", Type: "token"}, {Name: "date", Type: "date"}, {Name: "status", Type: "token"}},
	"DiagnosticReport": {{Name: "patient", Type: "reference"}, {Name: "identifier", Type: "token"}, {Name: "status", Type: "token"}},
	"AuditEvent":       {{Name: "patient", Type: "reference"}},
}

// capabilities lists the resources and interactions of the registered
// routes, in registration order: POST X = create, GET X = search-type,
// GET X/{id} = read.
func (h *Handler) capabilities() []RestResource {
	var out []RestResource
	idx := map[string]int{}
	for _, rt := range h.routes {
		method, path, _ := strings.Cut(rt, " ")
		typ, rest, _ := strings.Cut(path, "/")
		i, ok := idx[typ]
		if !ok {
			i = len(out)
			idx[typ] = i
			out = append(out, RestResource{Type: typ})
		}
		code := "search-type"
		switch {
		case method == "POST":
			code = "create"
		case rest != "":
			code = "read"
		default:
			out[i].SearchParam = searchParams[typ]
		}
		out[i].Interaction = append(out[i].Interaction, Interaction{Code: code})
	}
	return out
}

// Metadata handles GET [base]/metadata (no scope needed): the
// CapabilityStatement, generated from the routes Routes registered.
func (h *Handler) Metadata(w http.ResponseWriter, r *http.Request) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	writeJSON(w, http.StatusOK, CapabilityStatement{
		ResourceType: "CapabilityStatement", Status: "active", Date: now().UTC().Format("2006-01-02"), Kind: "instance",
		Software: &Software{Name: "Lightbox", Version: h.Version}, FHIRVersion: "4.0.1", Format: []string{"json"},
		Rest: []RestServer{{Mode: "server", Resource: h.capabilities()}},
	})
}
