package fhir

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/order"
	"lightbox/internal/scope"
)

const validSR = `{
  "resourceType": "ServiceRequest",
  "contained": [{"resourceType": "Patient", "id": "p1", "identifier": [{"system": "HOSPA", "value": "MRN77"}],
    "name": [{"family": "Doe", "given": ["Jane"]}], "gender": "female", "birthDate": "1970-01-01", "address": [{"state": "nm"}]}],
  "identifier": [
    {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN"}]}, "value": "FA100",
     "assigner": {"identifier": {"value": "fac-a"}}},
    {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC"}]}, "value": "PL-FA100"}],
  "status": "active",
  "intent": "order",
  "priority": "stat",
  "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "70450", "display": "CT head wo contrast"}]},
  "subject": {"reference": "#p1"},
  "authoredOn": "2026-11-22T08:00:00Z",
  "occurrenceDateTime": "2026-11-22T09:00:00Z",
  "requester": {"display": "Smith^John", "identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567890"}},
  "reasonCode": [{"text": "headache"}],
  "extension": [{"url": "https://lightbox.dev/fhir/StructureDefinition/activation", "valueCode": "stroke"}]
}`

func setup(t *testing.T, d *db.DB) *httptest.Server {
	ctx := context.Background()
	if _, err := d.Exec(ctx, "INSERT INTO facility (id, name, state, created_at) VALUES ('fac-a', 'A', 'TX', ?), ('fac-b', 'B', 'CA', ?)", db.Now(time.Now()), db.Now(time.Now())); err != nil {
		t.Fatal(err)
	}
	h := &Handler{Orders: &order.Service{DB: d}, Scope: func(r *http.Request) (scope.Scope, error) {
		switch r.Header.Get("X-Test-Scope") {
		case "all":
			return scope.Scope{All: true}, nil
		case "b":
			return scope.Scope{Facilities: []string{"fac-b"}}, nil
		}
		return scope.Scope{Facilities: []string{"fac-a"}}, nil
	}}
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url, scope, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("X-Test-Scope", scope)
	req.Header.Set("Content-Type", ContentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: body not JSON: %v", method, url, err)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, ContentType) {
		t.Fatalf("content type %q", ct)
	}
	return res.StatusCode, res.Header, m
}

// requireR4 checks R4 required elements of the resources Lightbox returns.
func requireR4(t *testing.T, m map[string]any) {
	t.Helper()
	req := map[string][]string{
		"ServiceRequest":      {"status", "intent", "subject"},
		"Patient":             {},
		"OperationOutcome":    {"issue"},
		"Bundle":              {"type"},
		"CapabilityStatement": {"status", "date", "kind", "fhirVersion", "format"},
	}
	rt, _ := m["resourceType"].(string)
	fields, ok := req[rt]
	if !ok {
		t.Fatalf("unexpected resourceType %q", rt)
	}
	for _, f := range fields {
		if _, ok := m[f]; !ok {
			t.Fatalf("%s lacks required %s", rt, f)
		}
	}
	if rt == "OperationOutcome" {
		for _, is := range m["issue"].([]any) {
			im := is.(map[string]any)
			if im["severity"] == nil || im["code"] == nil {
				t.Fatalf("issue lacks severity/code: %v", im)
			}
		}
	}
	if rt == "Bundle" {
		for _, e := range asList(m["entry"]) {
			requireR4(t, e.(map[string]any)["resource"].(map[string]any))
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func TestServiceRequestCreateReadSearch(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		srv := setup(t, d)
		code, hdr, m := do(t, "POST", srv.URL+"/fhir/ServiceRequest", "a", validSR)
		if code != http.StatusCreated {
			t.Fatalf("create: %d %v", code, m)
		}
		requireR4(t, m)
		loc := hdr.Get("Location")
		if !strings.HasPrefix(loc, "/fhir/ServiceRequest/ord_") {
			t.Fatalf("Location %q", loc)
		}
		code, _, m = do(t, "GET", srv.URL+loc, "a", "")
		if code != 200 || m["status"] != "active" || m["priority"] != "stat" || m["id"] != strings.TrimPrefix(loc, "/fhir/ServiceRequest/") {
			t.Fatalf("read: %d %v", code, m)
		}
		requireR4(t, m)
		o, err := (&order.Service{DB: d}).ByAccession(context.Background(), "fac-a", "FA100")
		if err != nil {
			t.Fatal(err)
		}
		if o.Patient.Issuer != "HOSPA" || o.Patient.Name != "Doe^Jane" || o.Patient.BirthDate != "19700101" || o.Patient.Sex != "F" || !o.Stroke ||
			o.Ordering.IDType != "NPI" || o.ProcedureSystem != "CPT" || o.LocationState != "NM" || o.Status != order.StatusProtocolPending ||
			!o.OrderedAt.Equal(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)) {
			t.Fatalf("order %+v", o)
		}
		// Other facility's user cannot read it.
		if code, _, _ := do(t, "GET", srv.URL+loc, "b", ""); code != 404 {
			t.Fatalf("cross-scope read %d", code)
		}
		// Re-post: 200; same accession, other patient: 409.
		if code, _, _ := do(t, "POST", srv.URL+"/fhir/ServiceRequest", "a", validSR); code != 200 {
			t.Fatalf("repost %d", code)
		}
		other := strings.Replace(validSR, "MRN77", "MRN78", 1)
		if code, _, m := do(t, "POST", srv.URL+"/fhir/ServiceRequest", "a", other); code != 409 {
			t.Fatalf("conflict %d %v", code, m)
		}
		// Facility outside scope: 403.
		if code, _, _ := do(t, "POST", srv.URL+"/fhir/ServiceRequest", "b", validSR); code != 403 {
			t.Fatalf("out of scope %d", code)
		}
		// Searches.
		search := func(q, scope string) int {
			t.Helper()
			code, _, m := do(t, "GET", srv.URL+"/fhir/ServiceRequest?"+q, scope, "")
			if code != 200 || m["type"] != "searchset" {
				t.Fatalf("search %s: %d %v", q, code, m)
			}
			requireR4(t, m)
			return len(asList(m["entry"]))
		}
		pk := o.PatientPK
		for q, want := range map[string]int{"identifier=FA100": 1, "identifier=x|FA100": 1, "identifier=NOPE": 0, "status=active": 1,
			"status=completed": 0, "patient=Patient/" + itoa(pk): 1, "patient=99999": 0, "": 1} {
			if got := search(q, "a"); got != want {
				t.Fatalf("search %q: %d, want %d", q, got, want)
			}
		}
		if got := search("identifier=FA100", "b"); got != 0 {
			t.Fatalf("scope b sees %d", got)
		}
		if code, _, _ := do(t, "GET", srv.URL+"/fhir/ServiceRequest?status=bogus", "a", ""); code != 400 {
			t.Fatalf("bad status %d", code)
		}
		code, _, m = do(t, "GET", srv.URL+"/fhir/Patient?identifier=HOSPA|MRN77", "a", "")
		if code != 200 || len(asList(m["entry"])) != 1 {
			t.Fatalf("patient search %d %v", code, m)
		}
		requireR4(t, m)
		p := asList(m["entry"])[0].(map[string]any)["resource"].(map[string]any)
		if p["birthDate"] != "1970-01-01" || p["gender"] != "female" {
			t.Fatalf("patient %v", p)
		}
		if _, _, m := do(t, "GET", srv.URL+"/fhir/Patient?identifier=HOSPA|MRN77", "b", ""); len(asList(m["entry"])) != 0 {
			t.Fatalf("patient visible out of scope")
		}
		code, _, m = do(t, "GET", srv.URL+"/fhir/metadata", "", "")
		if code != 200 || m["fhirVersion"] != "4.0.1" {
			t.Fatalf("metadata %d %v", code, m)
		}
		requireR4(t, m)
	})
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestServiceRequestInvalid(t *testing.T) {
	srv := setup(t, dbtest.SQLite(t))
	cases := []struct {
		name, body string
		code       int
		expr       string
	}{
		{"not json", "{", 400, ""},
		{"wrong type", `{"resourceType":"Patient"}`, 400, "resourceType"},
		{"no status", strings.Replace(validSR, `"status": "active",`, "", 1), 422, "ServiceRequest.status"},
		{"bad intent", strings.Replace(validSR, `"intent": "order"`, `"intent": "wish"`, 1), 422, "ServiceRequest.intent"},
		{"no subject", strings.Replace(validSR, `"subject": {"reference": "#p1"},`, "", 1), 422, "ServiceRequest.subject"},
		{"bad priority", strings.Replace(validSR, `"priority": "stat"`, `"priority": "now"`, 1), 422, "ServiceRequest.priority"},
		{"no accession", strings.Replace(validSR, `"code": "ACSN"`, `"code": "XX"`, 1), 422, "ServiceRequest.identifier"},
		{"no code", strings.Replace(validSR, `"code": "70450", `, "", 1), 422, "ServiceRequest.code"},
		{"bad gender", strings.Replace(validSR, `"female"`, `"f"`, 1), 422, "Patient.gender"},
	}
	for _, tc := range cases {
		code, _, m := do(t, "POST", srv.URL+"/fhir/ServiceRequest", "a", tc.body)
		if code != tc.code || m["resourceType"] != "OperationOutcome" {
			t.Fatalf("%s: %d %v", tc.name, code, m)
		}
		requireR4(t, m)
		if tc.expr != "" {
			found := false
			for _, is := range asList(m["issue"]) {
				for _, e := range asList(is.(map[string]any)["expression"]) {
					found = found || e == tc.expr
				}
			}
			if !found {
				t.Fatalf("%s: no issue at %s: %v", tc.name, tc.expr, m)
			}
		}
	}
}
