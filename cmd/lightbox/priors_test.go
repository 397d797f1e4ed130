package main

// Priors from the facility's PACS (#18 point 3) against a real PACS:
// Orthanc, started here, holds three earlier studies of a patient; a new
// CT chest of that patient reaches Lightbox; Lightbox finds the earlier
// studies in Orthanc (C-FIND by issuer + patient ID), ranks them (same
// modality, then same body part, then recency), pulls the best two with
// C-MOVE before the case is assigned, and the viewer's priors lists show
// them.

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/blob"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dicomsvc"
	"lightbox/internal/facility"
	"lightbox/internal/gen"
	"lightbox/internal/priors"
)

func TestPriorsFromOrthanc(t *testing.T) {
	needOrthanc(t)
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	// One roster patient (not one of the demo's) at SGH: the current CT
	// chest and, in the PACS, a CT chest, a CT head and a (more recent) MR.
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 10, 0, 0, 0, time.UTC) }
	studies := []struct {
		name, proc string
		date       time.Time
	}{
		{"current", "CT_CHEST", day(2026, 12, 1)},
		{"ct-chest", "CT_CHEST", day(2025, 11, 3)},
		{"ct-head", "CT_HEAD", day(2026, 3, 2)},
		{"mr-brain", "MR_BRAIN", day(2026, 6, 1)},
	}
	uid := map[string]string{}
	dir := map[string]string{}
	for i, st := range studies {
		dir[st.name] = filepath.Join(tmp, st.name)
		sum, err := gen.WriteDir(context.Background(), dir[st.name], gen.Options{Procedure: st.proc, FirstPatient: 9, Patients: 1, Slices: 2,
			Rows: 32, Columns: 32, Facility: "SGH", Seed: int64(50 + i), StudyDate: st.date})
		if err != nil {
			t.Fatal(err)
		}
		uid[st.name] = sum.StudyUIDs[0]
	}
	patient := gen.Roster(9)

	pw := filepath.Join(tmp, "pw")
	_ = os.WriteFile(pw, []byte("priors-test-password\n"), 0o600)
	if _, e, code := run(t, "user", "add", "--data", data, "--username", "root", "--role", "admin", "--password-file", pw); code != 0 {
		t.Fatalf("user add: %s", e)
	}
	s := startServer(t, "serve", "--data", data, "--quiet", "1s")
	defer s.stop(t)
	lbHost, lbPort := hostPort(s.addrs["dicom"].(string))
	o := startOrthanc(t, map[string][2]string{"LIGHTBOX": {lbHost, lbPort}})
	for _, name := range []string{"ct-chest", "ct-head", "mr-brain"} {
		o.upload(t, dir[name])
	}
	// Through the JSON API: SGH (its patient IDs issued by SGH-MRN, as gen
	// writes them), its modality's AE, and its PACS (Orthanc).
	admin := apiClient{t: t, base: s.http, token: token(t, data, "root")}
	for _, c := range []struct {
		path string
		body any
	}{
		{"/api/facilities/SGH", map[string]any{"id": "SGH", "name": "Springfield General Hospital", "state": "IL", "timezone": "America/Chicago",
			"issuer_of_patient_id": "SGH-MRN"}},
		{"/api/aes/SGH_CT1", map[string]any{"host": "127.0.0.1", "port": 104, "facility_id": "SGH"}},
		{"/api/facilities/SGH/pacs", map[string]any{"ae_title": "ORTHANC", "host": "127.0.0.1", "port": mustAtoi(t, o.dicomPort), "wait_seconds": 30}},
	} {
		if code := admin.do("PUT", c.path, c.body, nil); code != 200 {
			t.Fatalf("PUT %s: %d", c.path, code)
		}
	}

	// The modality sends the new study.
	sent := time.Now()
	if out, e, code := run(t, "dicom", "send", "--host", lbHost, "--port", lbPort, "--aet", "SGH_CT1", "--aec", "LIGHTBOX", dir["current"]); code != 0 {
		t.Fatalf("dicom send: %s %s", out, e)
	}

	// Wait for the case to be assigned.
	type item struct {
		StudyUID  string `json:"study_uid"`
		Status    string `json:"status"`
		ReaderID  string `json:"reader_id"`
		UpdatedAt string `json:"updated_at"`
		Note      string `json:"note"`
	}
	var got item
	deadline := time.Now().Add(30 * time.Second)
	for got.Status == "" {
		var board struct{ Items []item }
		admin.do("GET", "/api/worklist?board=1", nil, &board)
		for _, it := range board.Items {
			if it.StudyUID == uid["current"] {
				got = it
			}
			if it.StudyUID == uid["ct-chest"] || it.StudyUID == uid["ct-head"] {
				t.Errorf("a retrieved prior became reading work: %+v", it)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the study never reached the worklist\n%s", s.logText())
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("on the worklist (%s %q %s) %.1fs after sending", got.Status, got.ReaderID, got.Note, time.Since(sent).Seconds())

	// The fetch ended before the case was put on the worklist, with the two
	// most relevant priors retrieved, in rank order.
	var f struct {
		Status     string
		MatchedBy  string `json:"matched_by"`
		Found      int
		Retrieved  int
		FinishedAt string `json:"finished_at"`
		Priors     []struct {
			StudyUID string `json:"study_uid"`
			Rank     int
			Status   string
		}
	}
	admin.do("GET", "/api/studies/"+uid["current"]+"/priors", nil, &f)
	if f.Status != "done" || f.MatchedBy != "id" || f.Found != 3 || f.Retrieved != 2 {
		t.Fatalf("prior fetch: %+v", f)
	}
	var order []string
	for _, p := range f.Priors {
		order = append(order, p.StudyUID)
		if p.Status != "retrieved" {
			t.Errorf("prior %s: %s", p.StudyUID, p.Status)
		}
	}
	if want := []string{uid["ct-chest"], uid["ct-head"]}; !slices.Equal(order, want) {
		t.Fatalf("priors %v, want the CT chest then the CT head %v", order, want)
	}
	if f.FinishedAt == "" || f.FinishedAt > got.UpdatedAt {
		t.Errorf("fetch finished at %s, after the case was put on the worklist at %s", f.FinishedAt, got.UpdatedAt)
	}

	// The viewer's priors list (QIDO-RS by patient ID, in the caller's
	// scope) holds them; the MR stayed in the PACS.
	code, body := admin.doRaw("GET", "/dicomweb/studies?PatientID="+url.QueryEscape(patient.ID))
	if code != 200 {
		t.Fatalf("QIDO: %d %s", code, body)
	}
	for name, want := range map[string]bool{"current": true, "ct-chest": true, "ct-head": true, "mr-brain": false} {
		if has := strings.Contains(body, uid[name]); has != want {
			t.Errorf("QIDO by patient: %s present %v, want %v", name, has, want)
		}
	}
}

func needOrthanc(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(orthancBin); err != nil {
		t.Skip("Orthanc not installed (apt-get install orthanc)")
	}
}

// TestFacilityPACSCLI: the CLI registers a facility's PACS (refusals and
// removal are covered in internal/setup's TestFacilityPACS).
func TestFacilityPACSCLI(t *testing.T) {
	data := t.TempDir()
	addFacility(t, data, "SGH")
	if _, e, code := run(t, "facility", "pacs", "add", "--data", data, "--facility", "SGH", "--aet", "SGH_PACS", "--host", "10.1.2.3",
		"--port", "11112", "--priors", "3", "--retrieve", "get"); code != 0 {
		t.Fatalf("facility pacs add: %s", e)
	}
	out, e, code := run(t, "facility", "pacs", "list", "--data", data, "--json")
	if code != 0 || !strings.Contains(out, `"ae_title": "SGH_PACS"`) || !strings.Contains(out, `"max_priors": 3`) || !strings.Contains(out, `"retrieve": "get"`) {
		t.Fatalf("facility pacs list: %d %s %s", code, out, e)
	}
}

// TestPriorRetrieveByCGet: the priors' C-GET retrieval (dicomsvc.PACS with
// retrieve "get") pulls a study out of Orthanc on the query association
// into an archive, attributed to the PACS's facility.
func TestPriorRetrieveByCGet(t *testing.T) {
	needOrthanc(t)
	tmp := t.TempDir()
	study := filepath.Join(tmp, "study")
	sum, err := gen.WriteDir(context.Background(), study, gen.Options{Procedure: "CT_HEAD", FirstPatient: 11, Patients: 1, Slices: 3,
		Rows: 32, Columns: 32, Facility: "SGH", Seed: 61})
	if err != nil {
		t.Fatal(err)
	}
	o := startOrthanc(t, map[string][2]string{"LIGHTBOX": {"127.0.0.1", "1"}})
	o.upload(t, study)

	// One Orthanc serves both dialects: C-GET stores into the requesting
	// association, so each archive receives its own copy.
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		blobs, err := blob.OpenDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		arch := archive.New(d, blobs, archive.Options{})
		defer arch.Close()
		if err := facility.Upsert(ctx, d, facility.Facility{ID: "SGH", Name: "SGH", State: "IL", TimeZone: "America/Chicago", IssuerOfPatientID: "SGH-MRN"}); err != nil {
			t.Fatal(err)
		}
		pacs := dicomsvc.New(dicomsvc.Options{AETitle: "LIGHTBOX", Archive: arch}).PACS()
		src := priors.Source{FacilityID: "SGH", AETitle: "ORTHANC", Host: "127.0.0.1", Port: mustAtoi(t, o.dicomPort), Retrieve: priors.Get}
		found, err := pacs.FindStudies(ctx, src, priors.Query{Issuer: "SGH-MRN", PatientID: gen.Roster(11).ID})
		if err != nil || len(found) != 1 || found[0].StudyUID != sum.StudyUIDs[0] || !slices.Contains(found[0].Modalities, "CT") {
			t.Fatalf("C-FIND: %+v %v", found, err)
		}
		n, err := pacs.Retrieve(ctx, src, sum.StudyUIDs[0])
		if err != nil || n != 3 {
			t.Fatalf("C-GET: %d instances, %v", n, err)
		}
		for _, part := range readAll(t, study) {
			_, sop := datasetSHA(t, part)
			ref, err := arch.Held(ctx, sop)
			if err != nil || ref.FacilityID != "SGH" || ref.StudyUID != sum.StudyUIDs[0] {
				t.Errorf("instance after C-GET: %+v %v", ref, err)
			}
		}
	})
}
