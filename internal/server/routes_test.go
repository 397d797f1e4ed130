package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/auth"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/gen"
	"lightbox/internal/order"
)

// TestEveryRouteDeniesStrangers enumerates every HTTP route the node serves
// and calls each one (1) without credentials: 401, except health, login and
// acknowledgement links; and (2) as each of three strangers — a
// technologist and a radiologist of another facility, and a referring
// clinician of the same facility who did not order the study: the answer
// never contains anything of the first facility's patient, study or order,
// whatever the status. A route added without the shared checks fails here.
func TestEveryRouteDeniesStrangers(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		data := t.TempDir()
		s := testNode(t, Config{DB: dbURL, Data: data})
		seedFacilities(t, s)
		// Facility SGH's secrets: a study and an order.
		sgh := storeCT(t, s, "SGH", 0)
		study, series, sop, patientID, patientName, accession := sgh.Study, sgh.Series, sgh.SOP, sgh.PatientID, sgh.PatientName, sgh.Accession
		var hbiInstance []byte
		// HBI's sender tries to attach a study to SGH's patient (the probe's
		// cross-link): refused, so no HBI study can reveal the patient.
		err := gen.Each(ctx, gen.Options{Modality: "CR", Slices: 1, Patients: 1, Rows: 16, Columns: 16, Facility: "SGH", Seed: 99}, func(inst *gen.Instance) error {
			var b bytes.Buffer
			_, _ = inst.WriteTo(&b)
			hbiInstance = b.Bytes()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Storage.Archive.Store(ctx, bytes.NewReader(hbiInstance), archive.Source{Facility: "HBI", AETitle: "HBI_CT1"}); !errors.Is(err, archive.ErrForeignPatient) {
			t.Fatalf("HBI filed a study under SGH's patient: %v", err)
		}
		var patientPK string
		if err := s.Storage.DB.QueryRow(ctx, "SELECT CAST(pk AS TEXT) FROM patient WHERE patient_id = ?", patientID).Scan(&patientPK); err != nil {
			t.Fatal(err)
		}
		o, _, err := s.Orders.Intake(ctx, order.Order{FacilityID: "SGH", Accession: "SECRET-ACC", Patient: order.Patient{Issuer: "SGH", ID: "SECRET-MRN", Name: "SECRET^PATIENT"},
			ProcedureCode: "71250", ProcedureSystem: "CPT", Priority: order.PriorityRoutine})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Auth.AddUser(ctx, auth.User{Username: "tech.hbi", Role: auth.Technologist, FacilityID: "HBI"}, "technologist-password"); err != nil {
			t.Fatal(err)
		}
		if err := s.Auth.AddUser(ctx, auth.User{Username: "dr.hbi", Role: auth.Radiologist, Facilities: []string{"HBI"}}, "radiologist-password"); err != nil {
			t.Fatal(err)
		}
		// A clinician of the same facility who did not order the study.
		if err := s.Auth.AddUser(ctx, auth.User{Username: "dr.notmine", Role: auth.Clinician, FacilityID: "SGH", ClinicianID: "NPI-OTHER"}, "clinician-password"); err != nil {
			t.Fatal(err)
		}
		var strangers []string
		for _, u := range []string{"tech.hbi", "dr.hbi", "dr.notmine"} {
			tok, err := s.Auth.CreateToken(ctx, u, "test", 3600e9)
			if err != nil {
				t.Fatal(err)
			}
			strangers = append(strangers, tok)
		}
		secrets := []string{study, patientID, patientName, accession, "SECRET-ACC", "SECRET-MRN", "SECRET^PATIENT"}
		values := map[string]string{"study": study, "series": series, "instance": sop, "id": o.ID, "frames": "1", "tag": "7FE00010", "token": "x"}
		param := regexp.MustCompile(`\{([a-z]+)\.*\}`)
		public := map[string]bool{"/healthz": true, "/readyz": true, "/api/login": true, "/api/login/enrol": true, "/api/login/enrol/confirm": true,
			"/api/visit/join": true} // a patient's visit link carries its own single-use token
		routes := s.Routes()
		if len(routes) < 40 {
			t.Fatalf("only %d routes enumerated: %v", len(routes), routes)
		}
		h := s.Handler()
		for _, pattern := range routes {
			method, path, ok := strings.Cut(pattern, " ")
			if !ok {
				continue // a prefix mount; its routes are listed individually
			}
			path = param.ReplaceAllStringFunc(path, func(m string) string {
				name := param.FindStringSubmatch(m)[1]
				if v, ok := values[name]; ok {
					return v
				}
				return "1"
			})
			call := func(token string) (int, string) {
				var body io.Reader
				if method != http.MethodGet && method != http.MethodHead && method != http.MethodDelete {
					body = strings.NewReader("{}")
				}
				// Streams (SSE) run until the client leaves: leave after a moment.
				cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
				defer cancel()
				r := httptest.NewRequest(method, path, body).WithContext(cctx)
				r.RemoteAddr = "127.0.0.1:1234"
				if body != nil {
					r.Header.Set("Content-Type", "application/json")
				}
				if token != "" {
					r.Header.Set("Authorization", "Bearer "+token)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w.Code, w.Body.String()
			}
			if path == "/fhir/Patient/"+o.ID {
				// Patient-level: the SGH patient's own resource id.
				path = "/fhir/Patient/" + patientPK
			}
			t.Run(pattern, func(t *testing.T) {
				code, _ := call("")
				switch {
				case public[path] || strings.HasPrefix(path, "/ack/"):
				case code != http.StatusUnauthorized:
					t.Errorf("without credentials: %d, want 401", code)
				}
				for i, tok := range strangers {
					code, body := call(tok)
					for _, sec := range secrets {
						if sec != "" && strings.Contains(body, sec) {
							t.Errorf("stranger %d got %q (status %d)", i, sec, code)
						}
					}
				}
			})
		}
		// Patient-level searches by the patient's identifiers, as a stranger
		// who knows them would try.
		for _, path := range []string{
			"/fhir/Patient?identifier=" + patientID, "/fhir/Patient?identifier=SGH-MRN|" + patientID, "/fhir/Patient?identifier=SGH|SECRET-MRN",
			"/fhir/ImagingStudy?patient=Patient/" + patientPK, "/fhir/ServiceRequest?patient=Patient/" + patientPK,
			"/dicomweb/studies?PatientID=" + patientID, "/dicomweb/studies?PatientName=" + strings.Split(patientName, "^")[0] + "*",
			"/dicomweb/series?PatientID=" + patientID, "/dicomweb/instances?PatientID=" + patientID,
		} {
			t.Run("patient-level "+path, func(t *testing.T) {
				for i, tok := range strangers {
					r := httptest.NewRequest(http.MethodGet, path, nil)
					r.RemoteAddr = "127.0.0.1:1234"
					r.Header.Set("Authorization", "Bearer "+tok)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					for _, sec := range secrets {
						if sec != "" && strings.Contains(w.Body.String(), sec) {
							t.Errorf("stranger %d got %q (status %d)", i, sec, w.Code)
						}
					}
				}
			})
		}
	})
}
