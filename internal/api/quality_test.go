package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/archive/archivetest"
	"lightbox/internal/auth"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
	"lightbox/internal/gen"
	"lightbox/internal/grants"
	"lightbox/internal/report"
	"lightbox/internal/roster"
	"lightbox/internal/tumorboard"
)

// qualityEnv is an API over an archive holding one small generated CT
// study of facility SGH; callers are named by X-Test-User, X-Test-Role and
// X-Test-Facilities headers.
func qualityEnv(t *testing.T, d *db.DB) (http.Handler, string, *time.Time) {
	t.Helper()
	ar := archivetest.New(t, d)
	study := ""
	err := gen.Each(context.Background(), gen.Options{Modality: "CT", Slices: 2, Patients: 1, Rows: 32, Columns: 32, Facility: "SGH", Seed: 9}, func(inst *gen.Instance) error {
		study = inst.Dataset.Str(0x0020000D)
		var buf bytes.Buffer
		if err := dcm.WriteFile(&buf, inst.Dataset, inst.TransferSyntax, ""); err != nil {
			return err
		}
		_, err := ar.Store(context.Background(), &buf, archive.Source{Facility: "SGH"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	mux := apiMux(Options{DB: d, Archive: ar, Now: func() time.Time { return now }})
	if err := (roster.Store{DB: d}).SetOnCall(context.Background(), "ir", now.Add(-time.Hour), now.Add(time.Hour), []roster.OnCall{{ReaderID: "dr.ir"}}); err != nil {
		t.Fatal(err)
	}
	return mux, study, &now
}

func call(t *testing.T, h http.Handler, c qcaller, method, path, body string, want int) map[string]any {
	t.Helper()
	ctype := ""
	if body != "" {
		ctype = "application/json"
	}
	w := send(h, c, method, path, ctype, body)
	if w.Code != want {
		t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, c.user, w.Code, want, w.Body.String())
	}
	var m map[string]any
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/") && strings.Contains(w.Header().Get("Content-Type"), "json") {
		_ = json.Unmarshal(w.Body.Bytes(), &m)
	}
	if m == nil {
		m = map[string]any{"body": w.Body.String(), "type": w.Header().Get("Content-Type")}
	}
	return m
}

var (
	reader   = qcaller{"dr.reader", "radiologist", "SGH"}
	ir       = qcaller{"dr.ir", "radiologist", "SGH"}
	outsider = qcaller{"dr.out", "radiologist", "RMI"}
)

// An IR consult over HTTP: requested from a report, routed to the IR on
// call, accepted, recommended, closed with a transfer, exported as FHIR;
// nobody outside the facility can request one on the study.
func TestIRConsultOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h, study, _ := qualityEnv(t, d)
		call(t, h, outsider, "POST", "/api/ir-consults", `{"study_uid":"`+study+`","source":"report","indication":"high-risk PE","question":"Catheter-directed therapy?","urgency":"emergent"}`, 404)
		call(t, h, reader, "POST", "/api/ir-consults", `{"study_uid":"`+study+`","source":"report","indication":"high-risk PE","question":"Catheter-directed therapy?","urgency":"emergent","report_id":"r1"}`, 422)
		reports := report.New(d, report.Options{})
		if _, err := reports.SaveDraft(context.Background(), study, "dr.reader", report.Content{Impression: "Saddle PE with RV strain"}); err != nil {
			t.Fatal(err)
		}
		rep, err := reports.Get(context.Background(), study)
		if err != nil {
			t.Fatal(err)
		}
		reportID := rep.ID
		c := call(t, h, reader, "POST", "/api/ir-consults", `{"study_uid":"`+study+`","source":"report","indication":"high-risk PE","question":"Catheter-directed therapy?","urgency":"emergent","report_id":"`+reportID+`"}`, 201)
		if c["consultant"] != "dr.ir" || c["facility_id"] != "SGH" {
			t.Fatalf("consult: %v", c)
		}
		id := "/api/ir-consults/" + jsonNum(c["id"])
		call(t, h, reader, "POST", id+"/accept", "", 409)
		call(t, h, ir, "POST", id+"/accept", "", 200)
		call(t, h, ir, "POST", id+"/recommend", `{"imaging_reviewed":"CTPA","recommendation":"Catheter-directed thrombolysis"}`, 200)
		done := call(t, h, ir, "POST", id+"/close", `{"decision":"transfer","receiving_centre":"Regional PE centre"}`, 200)
		if done["status"] != "closed" || done["closed_at"] == "" {
			t.Fatalf("closed: %v", done)
		}
		fh := call(t, h, reader, "GET", id+"/fhir", "", 200)
		b, _ := json.Marshal(fh)
		for _, want := range []string{`"ServiceRequest"`, `"completed"`, `"DocumentReference"`, `"11488-4"`, `"DiagnosticReport/` + reportID + `"`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("FHIR bundle lacks %s", want)
			}
		}
		call(t, h, outsider, "GET", id, "", 404)
	})
}

// A tumor board over HTTP: a participant outside the facility opens the
// case's key images through the board's grant, and no longer after it.
func TestTumorBoardGrantOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h, study, now := qualityEnv(t, d)
		start := now.Add(-10 * time.Minute).UTC().Format(time.RFC3339)
		end := now.Add(50 * time.Minute).UTC().Format(time.RFC3339)
		b := call(t, h, reader, "POST", "/api/tumor-boards", `{"title":"Neuro-oncology","starts_at":"`+start+`","ends_at":"`+end+`","disciplines":["radiology"],"participants":["dr.out"]}`, 201)
		path := "/api/tumor-boards/" + jsonNum(b["id"])
		call(t, h, outsider, "GET", "/api/studies/"+study+"/key-images", "", 404)
		call(t, h, outsider, "POST", path+"/cases", `{"study_uid":"`+study+`"}`, 404) // not in their scope
		added := call(t, h, reader, "POST", path+"/cases", `{"study_uid":"`+study+`","notes":"GBM follow-up"}`, 201)
		if gs := added["grants"].([]any); len(gs) != 2 { // dr.out and dr.reader: no roster privileges in this test
			t.Fatalf("grants: %v", gs)
		}
		call(t, h, outsider, "GET", "/api/studies/"+study+"/key-images", "", 200)
		cs := call(t, h, outsider, "GET", path, "", 200)["board"].(map[string]any)["cases"].([]any)
		caseID := jsonNum(cs[0].(map[string]any)["id"])
		call(t, h, outsider, "PUT", path+"/cases/"+caseID, `{"notes":"GBM follow-up","recommendation":"Re-resection"}`, 200)
		call(t, h, qcaller{"dr.nobody", "radiologist", "SGH"}, "GET", path, "", 404)
		// The case's report too, through the same grant (internal/grants),
		// signed versions only: the draft stays with the case's readers.
		reports := reportsWithGrants(t, d, study, now)
		rp := "/api/reports/studies/" + study
		call(t, reports, qcaller{"dr.nobody", "radiologist", "RMI"}, "GET", rp, "", 404)
		if got := call(t, reports, outsider, "GET", rp, "", 200)["report"].(map[string]any); got["draft"] != nil {
			t.Fatalf("a board participant saw the draft: %v", got)
		}
		if got := call(t, reports, reader, "GET", rp, "", 200)["report"].(map[string]any); got["draft"] == nil {
			t.Fatalf("the facility's reader lost the draft: %v", got)
		}
		*now = now.Add(2 * time.Hour)
		call(t, h, outsider, "GET", "/api/studies/"+study+"/key-images", "", 404)
		call(t, reports, outsider, "GET", rp, "", 404)
	})
}

// reportsWithGrants is the report API with a draft on the test study,
// honouring tumor-board grants as the server wires it.
func reportsWithGrants(t *testing.T, d *db.DB, study string, now *time.Time) http.Handler {
	t.Helper()
	clock := func() time.Time { return *now }
	svc := report.New(d, report.Options{Now: clock})
	if _, err := svc.SaveDraft(context.Background(), study, "dr.reader", report.Content{Findings: "Enhancing lesion", Impression: "Progression"}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&Reports{Service: svc, Principal: testPrincipal, Granted: func(ctx context.Context, p *auth.Principal, study string) bool {
		return grants.Sources{Boards: &tumorboard.Store{DB: d, Now: clock}}.Allows(ctx, p.Username, p.Role == auth.Radiologist, study)
	}}).Routes(mux)
	return mux
}

// Sharing into the teaching file over HTTP stores an anonymised copy.
func TestTeachingShareOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h, study, _ := qualityEnv(t, d)
		call(t, h, outsider, "POST", "/api/studies/"+study+"/teaching", `{"subspecialty":"neuro","finding":"glioma","note":"x"}`, 404)
		c := call(t, h, reader, "POST", "/api/studies/"+study+"/teaching", `{"subspecialty":"neuro","finding":"Glioblastoma","note":"Ring enhancement crossing the corpus callosum."}`, 201)
		if c["study_uid"] == study || jsonNum(c["instances"]) != "2" {
			t.Fatalf("teaching case: %v", c)
		}
		w := send(h, qcaller{"coord", "coordinator", ""}, "GET", "/api/teaching?subspecialty=neuro&finding=glio", "", "")
		if !strings.Contains(w.Body.String(), "Glioblastoma") {
			t.Fatalf("browse: %s", w.Body.String())
		}
		inst := call(t, h, reader, "GET", "/api/teaching/"+jsonNum(c["id"])+"/instances/1", "", 200)
		if inst["type"] != "application/dicom" {
			t.Fatalf("instance: %v", inst["type"])
		}
		f, err := dcm.ReadFile(strings.NewReader(inst["body"].(string)), dcm.ReadOptions{})
		if err != nil || f.Dataset.Str(0x0020000D) == study || f.Dataset.Str(0x00120062) != "YES" {
			t.Fatalf("anonymised instance: %v", err)
		}
	})
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
