package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/db"
)

// The privacy officer's question, who accessed this patient: POST with the
// patient in the body (identifiers stay out of access logs) and GET for
// scripts, a date range, administrators only.
func TestPatientAccesses(t *testing.T) {
	var l *audit.Logger
	eachAPI(t, func(d *db.DB) Options { l = &audit.Logger{DB: d}; return Options{Audit: l} }, func(t *testing.T, d *db.DB, mux http.Handler) {
		day := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
		for _, e := range []audit.Event{
			{Time: day("2026-11-02T10:00:00Z"), EventID: audit.InstancesAccessed, Action: audit.Read, UserID: "dr.a", UserRole: "radiologist",
				NetworkAddr: "10.1.2.3", Interface: audit.HTTP, PatientIssuer: "SGH-MRN", PatientID: "P1", StudyUIDs: []string{"1.2.3"}, ObjectType: "study"},
			{Time: day("2026-11-20T23:59:00Z"), EventID: audit.PatientRecord, Action: audit.Update, UserID: "dr.b", UserRole: "radiologist",
				NetworkAddr: "10.1.2.4", Interface: audit.HTTP, PatientIssuer: "SGH-MRN", PatientID: "P1", StudyUIDs: []string{"1.2.3"}, ObjectType: "report"},
			{Time: day("2026-11-21T08:00:00Z"), EventID: audit.InstancesAccessed, Action: audit.Read, UserID: "dr.c", UserRole: "radiologist",
				NetworkAddr: "10.1.2.5", Interface: audit.HTTP, PatientIssuer: "SGH-MRN", PatientID: "P2", ObjectType: "study"},
		} {
			if err := l.Record(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
		admin, coord := as(auth.Admin), as(auth.Coordinator)
		for _, c := range []struct {
			name         string
			caller       qcaller
			method, path string
			body         string
			status       int
			users        []string
		}{
			{"post, range", admin, "POST", "/api/audit/patient", `{"issuer":"SGH-MRN","patient_id":"P1","since":"2026-11-01","until":"2026-11-30"}`, 200, []string{"dr.a", "dr.b"}},
			{"until is inclusive of its day", admin, "POST", "/api/audit/patient", `{"issuer":"SGH-MRN","patient_id":"P1","since":"2026-11-01","until":"2026-11-20"}`, 200, []string{"dr.a", "dr.b"}},
			{"since cuts", admin, "POST", "/api/audit/patient", `{"issuer":"SGH-MRN","patient_id":"P1","since":"2026-11-03","until":"2026-11-30"}`, 200, []string{"dr.b"}},
			{"other patient", admin, "POST", "/api/audit/patient", `{"issuer":"SGH-MRN","patient_id":"P2","since":"2026-11-01"}`, 200, []string{"dr.c"}},
			{"get for scripts", admin, "GET", "/api/audit/patient?issuer=SGH-MRN&patient_id=P2&since=2026-11-01", "", 200, []string{"dr.c"}},
			{"since after until", admin, "POST", "/api/audit/patient", `{"issuer":"SGH-MRN","patient_id":"P1","since":"2026-11-30","until":"2026-11-01"}`, 400, nil},
			{"bad date", admin, "POST", "/api/audit/patient", `{"issuer":"SGH-MRN","patient_id":"P1","until":"30/11/2026"}`, 400, nil},
			{"no patient", admin, "POST", "/api/audit/patient", `{"issuer":"SGH-MRN"}`, 400, nil},
			{"unknown field", admin, "POST", "/api/audit/patient", `{"issuer":"SGH-MRN","patient_id":"P1","name":"x"}`, 400, nil},
			{"admins only", coord, "POST", "/api/audit/patient", `{"issuer":"SGH-MRN","patient_id":"P1"}`, 403, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				ctype := ""
				if c.body != "" {
					ctype = "application/json"
				}
				rec := send(mux, c.caller, c.method, c.path, ctype, c.body)
				if rec.Code != c.status {
					t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
				}
				if c.status != 200 {
					return
				}
				var rows []accessRow
				if err := json.Unmarshal(rec.Body.Bytes(), &rows); err != nil {
					t.Fatal(err)
				}
				var users []string
				for _, r := range rows {
					if r.Event != audit.AuditLogUsed { // earlier officer queries are accesses too
						users = append(users, r.User)
					}
				}
				if strings.Join(users, ",") != strings.Join(c.users, ",") {
					t.Errorf("users %v, want %v", users, c.users)
				}
				if c.name == "post, range" && (rows[0].From != "10.1.2.3" || rows[0].EventName != "DICOM Instances Accessed" || rows[0].StudyUIDs[0] != "1.2.3") {
					t.Errorf("row %+v", rows[0])
				}
			})
		}
	})
}
