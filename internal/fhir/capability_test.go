package fhir

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/report"
)

// The CapabilityStatement lists exactly the resources the routes serve,
// each with the interactions registered, and the responses are FHIR JSON
// that is never cached.
func TestCapabilityStatementFromRoutes(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *Handler
		want []string
	}{
		{"orders only", &Handler{}, []string{"ServiceRequest", "Patient", "ImagingStudy"}},
		{"with reports and audit", &Handler{Reports: &report.Service{}, Audit: &audit.Logger{}},
			[]string{"ServiceRequest", "Patient", "ImagingStudy", "DiagnosticReport", "AuditEvent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			tc.h.Routes(mux)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", "/fhir/metadata", nil))
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, ContentType) || rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("headers %v", rec.Header())
			}
			var cs CapabilityStatement
			if err := json.Unmarshal(rec.Body.Bytes(), &cs); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range cs.Rest[0].Resource {
				got = append(got, r.Type)
				for _, i := range r.Interaction {
					pattern := "GET /fhir/" + r.Type
					switch i.Code {
					case "create":
						pattern = "POST /fhir/" + r.Type
					case "read":
						pattern += "/1"
					}
					method, path, _ := strings.Cut(pattern, " ")
					if _, p := mux.Handler(httptest.NewRequest(method, path, nil)); p == "" {
						t.Errorf("%s %s listed but not served", r.Type, i.Code)
					}
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("resources %v, want %v", got, tc.want)
			}
		})
	}
}

// AuditEvent keeps the FHIR media type (it was once overwritten with
// application/json) and is for administrators only.
func TestAuditEventMediaType(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		role := auth.Admin
		h := &Handler{Audit: &audit.Logger{DB: d}, Principal: func(*http.Request) (*auth.Principal, error) {
			return &auth.Principal{Username: "po", Role: role, All: true}, nil
		}}
		mux := http.NewServeMux()
		h.Routes(mux)
		for _, tc := range []struct {
			role   auth.Role
			status int
		}{{auth.Admin, 200}, {auth.Coordinator, 403}} {
			role = tc.role
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", "/fhir/AuditEvent?patient=SGH-MRN|1", nil))
			if rec.Code != tc.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), ContentType) || rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("%s: %d %v %s", tc.role, rec.Code, rec.Header(), rec.Body)
			}
		}
	})
}
