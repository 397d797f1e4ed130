package report_test

// The report's edges: the JSON API (internal/api) and FHIR DiagnosticReport
// (internal/fhir) over the report service.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lightbox/internal/api"
	"lightbox/internal/auth"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/fhir"
	"lightbox/internal/hl7report"
	"lightbox/internal/report"
	"lightbox/internal/scope"
)

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLifecycle signs, amends and delivers reports (package report), then
// reads the result as FHIR DiagnosticReport.
func TestLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := report.Lifecycle(t, d, hl7report.Outbox)
		diagnosticReports(t, s)
	})
}

func diagnosticReports(t *testing.T, s *report.Service) {
	// FHIR handlers.
	fh := &fhir.Handler{Reports: s, Scope: func(*http.Request) (scope.Scope, error) { return scope.Scope{Facilities: []string{"fac-a"}}, nil }}
	mux := http.NewServeMux()
	fh.Routes(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/fhir/DiagnosticReport?identifier=ACC1&status=amended,final", nil))
	var b struct {
		Total int
		Entry []struct {
			Resource struct{ ID, Status, Conclusion string }
		}
	}
	mustOK(t, json.Unmarshal(rec.Body.Bytes(), &b))
	if rec.Code != 200 || b.Total != 1 || b.Entry[0].Resource.Status != "amended" || !strings.Contains(b.Entry[0].Resource.Conclusion, "4 mm") {
		t.Fatalf("search: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/fhir/DiagnosticReport/"+b.Entry[0].Resource.ID, nil))
	var dr struct {
		BasedOn       []struct{ Reference string }
		PresentedForm []struct{ Data []byte }
	}
	mustOK(t, json.Unmarshal(rec.Body.Bytes(), &dr))
	if rec.Code != 200 || len(dr.BasedOn) != 1 || !strings.HasPrefix(dr.BasedOn[0].Reference, "ServiceRequest/ord_") || !bytes.HasPrefix(dr.PresentedForm[0].Data, []byte("%PDF")) {
		t.Fatalf("read: %d", rec.Code)
	}
	fh.Scope = func(*http.Request) (scope.Scope, error) { return scope.Scope{Facilities: []string{"fac-m"}}, nil }
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/fhir/DiagnosticReport/"+b.Entry[0].Resource.ID, nil))
	if rec.Code != 404 {
		t.Fatalf("out of scope read: %d", rec.Code)
	}

}

func TestAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := report.Fixture(t, d, hl7report.Outbox)
		as := map[string]*auth.Principal{
			"b":   {Username: "breader", Role: auth.Radiologist, Facilities: []string{"fac-a"}},
			"cl":  {Username: "doc", Role: auth.Clinician, Facilities: []string{"fac-a"}},
			"adm": {Username: "boss", Role: auth.Admin, All: true},
		}
		reauthed := false
		h := &api.Reports{Service: s,
			Principal:  func(r *http.Request) (*auth.Principal, error) { return as[r.Header.Get("X-Who")], nil },
			RecentAuth: func(*http.Request) error { return map[bool]error{true: nil, false: errors.New("stale")}[reauthed] }}
		mux := http.NewServeMux()
		h.Routes(mux)
		call := func(who, method, path, body string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("X-Who", who)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			return rec
		}
		if r := call("b", "GET", "/api/reports/templates?cpt=77067", ""); r.Code != 200 || !strings.Contains(r.Body.String(), "mammo-screen") {
			t.Fatalf("templates: %d %s", r.Code, r.Body)
		}
		if r := call("b", "PUT", "/api/reports/macros/mine", `{"body":"My normal text."}`); r.Code != 204 {
			t.Fatalf("macro: %d %s", r.Code, r.Body)
		}
		if r := call("b", "POST", "/api/reports/macros/expand", `{"text":"Lungs: .normalcxr .mine ok."}`); !strings.Contains(r.Body.String(), "The lungs are clear.") || !strings.Contains(r.Body.String(), "My normal text. ok.") {
			t.Fatalf("expand: %s", r.Body)
		}
		if r := call("b", "PUT", "/api/reports/studies/1.2.3.1/draft", `{"findings":"f","impression":"Normal head CT."}`); r.Code != 200 {
			t.Fatalf("draft: %d %s", r.Code, r.Body)
		}
		if r := call("cl", "PUT", "/api/reports/studies/1.2.3.1/draft", `{"impression":"x"}`); r.Code != 403 {
			t.Fatalf("clinician draft: %d", r.Code)
		}
		if r := call("b", "POST", "/api/reports/studies/1.2.3.1/sign", `{"kind":"final"}`); r.Code != 401 {
			t.Fatalf("sign without reauth: %d %s", r.Code, r.Body)
		}
		reauthed = true
		if r := call("b", "POST", "/api/reports/studies/1.2.3.3/sign", `{"kind":"final"}`); r.Code != 404 {
			t.Fatalf("out of scope: %d", r.Code)
		}
		if r := call("b", "POST", "/api/reports/studies/1.2.3.1/sign", `{"kind":"final","location":{"country":"US","state":"TX"}}`); r.Code != 200 {
			t.Fatalf("sign: %d %s", r.Code, r.Body)
		}
		if r := call("cl", "GET", "/api/reports/studies/1.2.3.1", ""); r.Code != 200 || strings.Contains(r.Body.String(), `"draft"`) {
			t.Fatalf("clinician view: %d %s", r.Code, r.Body)
		}
		if r := call("cl", "GET", "/api/reports/studies/1.2.3.1/pdf", ""); r.Code != 200 || !strings.HasPrefix(r.Body.String(), "%PDF") {
			t.Fatalf("pdf: %d", r.Code)
		}
		if r := call("b", "POST", "/api/reports/studies/1.2.3.1/correct", `{"content":{"impression":"Changed."}}`); r.Code != 422 {
			t.Fatalf("correct without reason: %d %s", r.Code, r.Body)
		}
		if r := call("cl", "GET", "/api/reports/productivity", ""); r.Code != 403 {
			t.Fatalf("clinician productivity: %d", r.Code)
		}
		if r := call("adm", "GET", "/api/reports/productivity.csv?from=2026-03-10&to=2026-03-11", ""); r.Code != 200 || !strings.Contains(r.Body.String(), "breader,2026-03-10") {
			t.Fatalf("csv: %d %s", r.Code, r.Body)
		}
	})
}
