package main

// The whole order-to-worklist chain against the real binary and real peers:
// an ORM over MLLP, protocol approval through the API, DCMTK findscu -W on
// the Modality Worklist, MPPS (Lightbox's own SCU: DCMTK ships no MPPS SCU),
// DCMTK storescu, and the study reconciled to its order and assigned.
// Then DCMTK findscu, movescu (into storescp) and getscu against the archive,
// and the facility boundary on each.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lightbox/internal/dcm"
	"lightbox/internal/dimse"
	"lightbox/internal/hl7"
)

func needTools(t *testing.T, tools ...string) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (bash .ci/run installs DCMTK)", tool)
		}
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c apiClient) do(method, path string, body any, out any) int {
	c.t.Helper()
	return c.send(jsonRequest(method, "http://"+c.base+path, body), out)
}

// jsonRequest is a request carrying body as JSON (no body when nil).
func jsonRequest(method, url string, body any) *http.Request {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// send authenticates req, sends it and decodes the answer into out.
func (c apiClient) send(req *http.Request, out any) int {
	c.t.Helper()
	code, b := c.roundTrip(req)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", req.Method, req.URL.Path, err, b)
		}
	}
	if code >= 300 {
		c.t.Logf("%s %s -> %d %s", req.Method, req.URL.Path, code, b)
	}
	return code
}

// roundTrip sends req with the client's token and returns the status and
// body.
func (c apiClient) roundTrip(req *http.Request) (int, []byte) {
	c.t.Helper()
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c apiClient) doRaw(method, path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, "http://"+c.base+path, nil)
	code, b := c.roundTrip(req)
	return code, string(b)
}

func token(t *testing.T, data, user string) string {
	out, errOut, code := run(t, "token", "create", "--data", data, "--username", user, "--name", "e2e")
	if code != 0 {
		t.Fatalf("token: %s", errOut)
	}
	return strings.TrimSpace(out)
}

func hostPort(addr string) (string, string) {
	h, p, _ := net.SplitHostPort(addr)
	return h, p
}

func TestOrderToWorklistWithDCMTK(t *testing.T) {
	needTools(t, "findscu", "storescu", "movescu", "getscu", "storescp", "dcmodify", "dcmdump", "echoscu")
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	s := startServer(t, "demo", "--data", data, "--quiet", "2s")
	defer s.stop(t)
	dicomHost, dicomPort := hostPort(s.addrs["dicom"].(string))
	alpha := apiClient{t: t, base: s.http, token: token(t, data, "dr.alpha")}
	coord := apiClient{t: t, base: s.http, token: token(t, data, "coordinator")}

	// 1. The order arrives over MLLP.
	now := time.Now().UTC()
	orm := strings.Join([]string{
		"MSH|^~\\&|EHR|SGH|LIGHTBOX|GROUP|" + now.Format("20060102150405") + "||ORM^O01|E2E0001|P|2.3.1",
		"PID|1||LBX990001^^^SGH-MRN||TESTPATIENT^ECHO||19700101|F|||1 Test St^^Springfield^IL^62701",
		"PV1|1|E",
		"ORC|NW|PLC1|||||^^^^^S||" + now.Format("20060102150405") + "|||1234567890^ORDERING^OLIVIA^^^DR||(217)555-0100",
		"OBR|1|PLC1||71250^CT chest without contrast^C4|S||||||||Shortness of breath|||||ACC-E2E-1",
	}, "\r")
	c := &hl7.Client{Addr: s.addrs["hl7"].(string)}
	if res := sendHL7(t, c, orm); res.Code != hl7.AckAA {
		t.Fatalf("ORM not accepted: %+v", res)
	}

	// 2. A radiologist approves it with a protocol.
	orderID := protocolOrder(t, "ACC-E2E-1", func(path string, out any) { alpha.do("GET", path, nil, out) })
	// ... picking from the facility's protocol library.
	if code := coord.do("PUT", "/api/facilities/SGH/protocols", []map[string]string{
		{"code": "CTCHEST-NC", "text": "CT chest without contrast, 1 mm", "modality": "CT", "contrast": "none"},
		{"code": "CTPE", "text": "CTA chest PE protocol", "modality": "CT", "contrast": "with"}}, nil); code != 200 {
		t.Fatalf("protocol library: %d", code)
	}
	if code := alpha.do("POST", "/api/orders/"+orderID+"/approve", map[string]any{"code": "NOT-IN-LIBRARY"}, nil); code != 422 {
		t.Fatalf("approve with an unknown protocol code: %d", code)
	}
	if code := alpha.do("POST", "/api/orders/"+orderID+"/approve", map[string]any{"code": "CTCHEST-NC",
		"station_ae": "SGH_CT1", "scheduled_at": now.Add(10 * time.Minute)}, nil); code != 200 {
		t.Fatalf("approve: %d", code)
	}

	// 3. The scanner sees it on the Modality Worklist (DCMTK findscu -W).
	wlDir := filepath.Join(tmp, "wl")
	_ = os.MkdirAll(wlDir, 0o750)
	cmd := exec.Command("findscu", "-W", "-X", "-aet", "SGH_CT1", "-aec", "LIGHTBOX",
		"-k", "AccessionNumber", "-k", "PatientName", "-k", "StudyInstanceUID",
		"-k", "ScheduledProcedureStepSequence[0].ScheduledStationAETitle=SGH_CT1",
		"-k", "ScheduledProcedureStepSequence[0].ScheduledProcedureStepDescription",
		"-k", "ScheduledProcedureStepSequence[0].ScheduledProtocolCodeSequence[0].CodeValue",
		dicomHost, dicomPort)
	cmd.Dir = wlDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("findscu -W: %v\n%s", err, out)
	}
	dump, _ := exec.Command("sh", "-c", "dcmdump "+filepath.Join(wlDir, "rsp*.dcm")).CombinedOutput()
	for _, want := range []string{"ACC-E2E-1", "TESTPATIENT^ECHO", "CT chest without contrast, 1 mm", "CTCHEST-NC"} {
		if !bytes.Contains(dump, []byte(want)) {
			t.Fatalf("worklist response lacks %q:\n%s", want, dump)
		}
	}
	studyUID := dumpValue(string(dump), "(0020,000d)")
	if studyUID == "" {
		t.Fatalf("worklist gave no Study Instance UID:\n%s", dump)
	}

	// 4. MPPS IN PROGRESS (Lightbox SCU; DCMTK has no MPPS SCU).
	mppsUID := dcm.NewUID()
	mpps(t, s.addrs["dicom"].(string), dimse.NewNCreateRQ(dimse.ModalityPerformedProcedure, mppsUID, true), "IN PROGRESS", "ACC-E2E-1", studyUID)

	// 5. The images arrive by DCMTK storescu, with the worklist's identifiers.
	studies := filepath.Join(tmp, "studies")
	mustRun(t, "gen", "--out", studies, "--modality", "CT", "--procedure", "CT_CHEST", "--slices", "8", "--patients", "1", "--facility", "SGH", "--rows", "64", "--columns", "64", "--seed", "77")
	files, _ := filepath.Glob(filepath.Join(studies, "*", "*", "*", "*.dcm"))
	if len(files) != 8 {
		t.Fatalf("generated %d files", len(files))
	}
	args := []string{"-nb", "-m", "AccessionNumber=ACC-E2E-1", "-m", "StudyInstanceUID=" + studyUID, "-m", "PatientID=LBX990001",
		"-m", "IssuerOfPatientID=SGH-MRN", "-m", "PatientName=TESTPATIENT^ECHO", "-m", "PatientBirthDate=19700101", "-m", "PatientSex=F"}
	if out, err := exec.Command("dcmodify", append(args, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("dcmodify: %v %s", err, out)
	}
	if out, err := exec.Command("storescu", append([]string{"-aet", "SGH_CT1", "-aec", "LIGHTBOX", dicomHost, dicomPort}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}

	// 6. MPPS COMPLETED: the study is reconciled to its order and goes on the worklist.
	alpha.do("POST", "/api/presence", nil, nil)
	mpps(t, s.addrs["dicom"].(string), dimse.NewNSetRQ(dimse.ModalityPerformedProcedure, mppsUID), "COMPLETED", "", "")
	var ord struct{ Status string }
	alpha.do("GET", "/api/orders/"+orderID, nil, &ord)
	if ord.Status != "completed" {
		t.Fatalf("order status after MPPS COMPLETED: %q", ord.Status)
	}
	var board struct {
		Items []struct {
			StudyUID  string `json:"study_uid"`
			Status    string `json:"status"`
			ReaderID  string `json:"reader_id"`
			Accession string `json:"accession"`
			Priority  string `json:"priority"`
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		coord.do("GET", "/api/worklist", nil, &board)
		found := false
		for _, it := range board.Items {
			if it.StudyUID == studyUID {
				found = true
				if it.Status != "leased" || it.Accession != "ACC-E2E-1" || it.Priority != "stat" {
					t.Fatalf("worklist item %+v", it)
				}
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("study never reached the worklist: %+v", board)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// An outside triage tool's result (HL7 ORU^R01) flags the study; the flag
	// and its source show on the worklist.
	tri := strings.Join([]string{
		"MSH|^~\\&|AIDOC|SGH|LIGHTBOX|GROUP|" + time.Now().UTC().Format("20060102150405") + "||ORU^R01|TRI0001|P|2.5.1",
		"PID|1||LBX990001^^^SGH-MRN",
		"OBR|1||ACC-E2E-1|71250^CT chest^C4|S",
		"OBX|1|ST|TRIAGE^AI triage||Suspected pulmonary embolism||||||F",
	}, "\r")
	if res := sendHL7(t, c, tri); res.Code != hl7.AckAA {
		t.Fatalf("triage ORU not accepted: %+v", res)
	}
	var flagged struct {
		Items []struct {
			StudyUID string   `json:"study_uid"`
			Triage   []string `json:"triage"`
		} `json:"items"`
	}
	coord.do("GET", "/api/worklist", nil, &flagged)
	found := false
	for _, it := range flagged.Items {
		if it.StudyUID == studyUID && len(it.Triage) == 1 && it.Triage[0] == "AIDOC: Suspected pulmonary embolism" {
			found = true
		}
	}
	if !found {
		t.Fatalf("triage flag not on the worklist: %+v", flagged)
	}
	// The ordering clinician joined the facility's contact directory.
	_, contacts := coord.doRaw("GET", "/api/critical/contacts?facility=SGH")
	if !strings.Contains(contacts, "ORDERING") || !strings.Contains(contacts, "555-0100") {
		t.Fatalf("ordering clinician not in the contact directory: %s", contacts)
	}
	var explain struct {
		History []struct {
			Kind     string `json:"kind"`
			ReaderID string `json:"reader_id"`
		} `json:"history"`
	}
	coord.do("GET", "/api/worklist/"+studyUID+"/explain", nil, &explain)
	if len(explain.History) == 0 || explain.History[0].Kind != "assign" {
		t.Fatalf("assignment does not explain itself: %+v", explain)
	}

	// FHIR: the study as ImagingStudy, linked to its order and patient; a
	// technologist of another facility sees none of it, nor through QIDO-RS.
	var bundle struct {
		Total int `json:"total"`
		Entry []struct {
			Resource struct {
				ID      string `json:"id"`
				BasedOn []struct {
					Reference string `json:"reference"`
				} `json:"basedOn"`
				Subject struct {
					Reference string `json:"reference"`
				} `json:"subject"`
			} `json:"resource"`
		} `json:"entry"`
	}
	coord.do("GET", "/fhir/ImagingStudy?identifier=ACC-E2E-1", nil, &bundle)
	if bundle.Total != 1 || len(bundle.Entry[0].Resource.BasedOn) != 1 || bundle.Entry[0].Resource.BasedOn[0].Reference != "ServiceRequest/"+orderID {
		t.Fatalf("ImagingStudy search: %+v", bundle)
	}
	var patient struct {
		ResourceType string `json:"resourceType"`
	}
	if code := coord.do("GET", "/fhir/"+bundle.Entry[0].Resource.Subject.Reference, nil, &patient); code != 200 || patient.ResourceType != "Patient" {
		t.Fatalf("Patient read: %d %+v", code, patient)
	}
	pw := filepath.Join(tmp, "pw")
	_ = os.WriteFile(pw, []byte("technologist-password-1\n"), 0o600)
	mustRun(t, "user", "add", "--data", data, "--username", "tech.hbi", "--role", "technologist", "--facility", "HBI", "--password-file", pw)
	tech := apiClient{t: t, base: s.http, token: token(t, data, "tech.hbi")}
	bundle.Total = -1
	tech.do("GET", "/fhir/ImagingStudy?identifier=ACC-E2E-1", nil, &bundle)
	if bundle.Total != 0 {
		t.Fatalf("another facility's technologist found the study over FHIR: %+v", bundle)
	}
	var qido []map[string]any
	if code := coord.do("GET", "/dicomweb/studies?AccessionNumber=ACC-E2E-1", nil, &qido); code != 200 || len(qido) != 1 {
		t.Fatalf("QIDO-RS: %d %v", code, qido)
	}
	qido = nil
	if code := tech.do("GET", "/dicomweb/studies?AccessionNumber=ACC-E2E-1", nil, &qido); code != 200 || len(qido) != 0 {
		t.Fatalf("QIDO-RS from another facility: %d %v", code, qido)
	}
	if code := (apiClient{t: t, base: s.http}).do("GET", "/dicomweb/studies", nil, nil); code != 401 {
		t.Fatalf("QIDO-RS without credentials: %d", code)
	}

	// 7. Query/retrieve with DCMTK, within the facility's scope.
	out, err := exec.Command("findscu", "-S", "-aet", "SGH_CT1", "-aec", "LIGHTBOX", "-k", "QueryRetrieveLevel=STUDY", "-k", "AccessionNumber=ACC-E2E-1",
		"-k", "StudyInstanceUID", "-k", "PatientName", "-k", "NumberOfStudyRelatedInstances", dicomHost, dicomPort).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte(studyUID)) {
		t.Fatalf("findscu -S from the study's facility: %v\n%s", err, out)
	}
	out, _ = exec.Command("findscu", "-S", "-aet", "HBI_CT1", "-aec", "LIGHTBOX", "-k", "QueryRetrieveLevel=STUDY", "-k", "AccessionNumber=ACC-E2E-1",
		"-k", "StudyInstanceUID", dicomHost, dicomPort).CombinedOutput()
	if bytes.Contains(out, []byte(studyUID)) {
		t.Fatalf("another facility's AE found the study:\n%s", out)
	}
	// C-MOVE into a storescp the test runs.
	scpPort := freePort(t)
	recv := filepath.Join(tmp, "moved")
	_ = os.MkdirAll(recv, 0o750)
	scp := exec.Command("storescp", "-aet", "E2ESCP", "-od", recv, scpPort)
	if err := scp.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = scp.Process.Kill(); _ = scp.Wait() }()
	mustRun(t, "ae", "add", "--data", data, "--aet", "E2ESCP", "--host", "127.0.0.1", "--port", scpPort, "--facility", "SGH")
	time.Sleep(300 * time.Millisecond)
	if out, err := exec.Command("movescu", "-S", "-aet", "SGH_CT1", "-aec", "LIGHTBOX", "-aem", "E2ESCP", "-k", "QueryRetrieveLevel=STUDY",
		"-k", "StudyInstanceUID="+studyUID, dicomHost, dicomPort).CombinedOutput(); err != nil {
		t.Fatalf("movescu: %v\n%s", err, out)
	}
	if got, _ := filepath.Glob(filepath.Join(recv, "*")); len(got) != 8 {
		t.Fatalf("C-MOVE delivered %d of 8 instances", len(got))
	}
	// Another facility's AE cannot move it out.
	hbiRecv := filepath.Join(tmp, "hbi")
	_ = os.MkdirAll(hbiRecv, 0o750)
	_ = exec.Command("movescu", "-S", "-aet", "HBI_CT1", "-aec", "LIGHTBOX", "-aem", "E2ESCP", "-k", "QueryRetrieveLevel=STUDY",
		"-k", "StudyInstanceUID="+studyUID, dicomHost, dicomPort).Run()
	if got, _ := filepath.Glob(filepath.Join(recv, "*")); len(got) != 8 {
		t.Fatalf("another facility's C-MOVE delivered instances: %d files now", len(got))
	}
	// C-GET back over the same association.
	got := filepath.Join(tmp, "got")
	_ = os.MkdirAll(got, 0o750)
	if out, err := exec.Command("getscu", "-S", "-aet", "SGH_CT1", "-aec", "LIGHTBOX", "-od", got, "-k", "QueryRetrieveLevel=STUDY",
		"-k", "StudyInstanceUID="+studyUID, dicomHost, dicomPort).CombinedOutput(); err != nil {
		t.Fatalf("getscu: %v\n%s", err, out)
	}
	if files, _ := filepath.Glob(filepath.Join(got, "*")); len(files) != 8 {
		t.Fatalf("C-GET delivered %d of 8 instances", len(files))
	}
	// A viewer opens the study over WADO-RS (metadata from ingest).
	var meta []map[string]any
	if code := coord.do("GET", "/dicomweb/studies/"+studyUID+"/metadata", nil, &meta); code != 200 || len(meta) != 8 {
		t.Fatalf("WADO-RS metadata: %d, %d instances", code, len(meta))
	}
	// Every access above is in the hash-chained audit trail, findable by patient.
	if out, e, code := run(t, "audit", "verify", "--data", data); code != 0 || !strings.Contains(out, "audit chain intact") {
		t.Fatalf("audit verify: %s %s", out, e)
	}
	who, e, code := run(t, "audit", "who", "--data", data, "--issuer", "SGH-MRN", "--patient-id", "LBX990001")
	if code != 0 {
		t.Fatal(e)
	}
	for _, want := range []string{`"user":"SGH_CT1"`, `"via":"dicom"`, `"via":"http"`, `"event":"110104"`, `"event":"110103"`} {
		if !strings.Contains(who, want) {
			t.Errorf("who-looked lacks %s:\n%s", want, who)
		}
	}
	// The same over HTTP for an administrator (privacy officer), and as FHIR AuditEvent.
	admin := apiClient{t: t, base: s.http, token: token(t, data, "admin")}
	var accesses []map[string]any
	if code := admin.do("GET", "/api/audit/patient?issuer=SGH-MRN&patient_id=LBX990001", nil, &accesses); code != 200 || len(accesses) < 3 {
		t.Fatalf("audit API: %d, %d events", code, len(accesses))
	}
	var aeBundle struct {
		ResourceType string `json:"resourceType"`
		Entry        []any  `json:"entry"`
	}
	if code := admin.do("GET", "/fhir/AuditEvent?patient=SGH-MRN|LBX990001", nil, &aeBundle); code != 200 || aeBundle.ResourceType != "Bundle" || len(aeBundle.Entry) < 3 {
		t.Fatalf("FHIR AuditEvent: %d %+v", code, aeBundle.ResourceType)
	}
	// On-call lists per subspecialty.
	now = time.Now().UTC()
	if code := coord.do("PUT", "/api/oncall/neuro", map[string]any{"start": now.Add(-time.Hour), "end": now.Add(time.Hour),
		"readers": []map[string]any{{"reader_id": "dr.bravo", "rank": 2}, {"reader_id": "dr.alpha", "rank": 1}}}, nil); code != 200 {
		t.Fatalf("PUT on-call: %d", code)
	}
	var oncall []struct {
		ReaderID string `json:"reader_id"`
	}
	alpha.do("GET", "/api/oncall/neuro", nil, &oncall)
	if len(oncall) != 2 || oncall[0].ReaderID != "dr.alpha" {
		t.Fatalf("on-call now: %+v", oncall)
	}
	// A referring clinician sees the study they ordered (ORC-12 ID 1234567890),
	// and nothing else; another clinician of the same facility sees nothing.
	for user, npi := range map[string]string{"dr.ordering": "1234567890", "dr.other": "999"} {
		mustRun(t, "user", "add", "--data", data, "--username", user, "--role", "clinician", "--facility", "SGH", "--clinician-id", npi, "--password-file", pw)
	}
	ordering := apiClient{t: t, base: s.http, token: token(t, data, "dr.ordering")}
	qido = nil
	if code := ordering.do("GET", "/dicomweb/studies", nil, &qido); code != 200 || len(qido) != 1 || !strings.Contains(fmt.Sprint(qido), studyUID) {
		t.Fatalf("ordering clinician QIDO: %d %d studies", code, len(qido))
	}
	other := apiClient{t: t, base: s.http, token: token(t, data, "dr.other")}
	qido = nil
	if code := other.do("GET", "/dicomweb/studies", nil, &qido); code != 200 || len(qido) != 0 {
		t.Fatalf("another clinician QIDO: %d %d studies", code, len(qido))
	}
	for _, path := range []string{"/api/worklist", "/fhir/ImagingStudy?identifier=ACC-E2E-1"} {
		if code := ordering.do("GET", path, nil, nil); code != 403 {
			t.Errorf("clinician %s: %d, want 403", path, code)
		}
	}
	if code := ordering.do("POST", "/dicomweb/studies", map[string]any{}, nil); code != 403 {
		t.Errorf("clinician STOW: %d, want 403", code)
	}
	// An AE registered with an allowed network may not associate from elsewhere.
	mustRun(t, "ae", "add", "--data", data, "--aet", "LOCKED_CT", "--host", "10.9.9.9", "--port", "104", "--facility", "SGH", "--allow-cidr", "10.0.0.0/8")
	if out, err := exec.Command("echoscu", "-aet", "LOCKED_CT", "-aec", "LIGHTBOX", dicomHost, dicomPort).CombinedOutput(); err == nil {
		t.Fatalf("AE associated from outside its allowed network:\n%s", out)
	}
	// Remote AEs over the admin API.
	if code := admin.do("PUT", "/api/aes/NEWPACS", map[string]any{"host": "127.0.0.1", "port": 4242, "facility_id": "SGH"}, nil); code != 200 {
		t.Fatalf("PUT /api/aes: %d", code)
	}
	var aes []struct {
		Title string `json:"ae_title"`
	}
	admin.do("GET", "/api/aes", nil, &aes)
	if !strings.Contains(fmt.Sprint(aes), "NEWPACS") {
		t.Fatalf("AE list %+v", aes)
	}
	if code := admin.do("DELETE", "/api/aes/NEWPACS", nil, nil); code != 200 {
		t.Fatalf("DELETE /api/aes: %d", code)
	}
	if code := coord.do("PUT", "/api/aes/EVIL", map[string]any{"host": "10.0.0.1", "port": 104}, nil); code != 403 {
		t.Fatalf("a coordinator registered an AE: %d", code)
	}
	if code := alpha.do("GET", "/api/audit/patient?issuer=SGH-MRN&patient_id=LBX990001", nil, nil); code != 403 {
		t.Fatalf("a radiologist read the audit trail: %d", code)
	}
	// No patient data in the server's logs after all of the above (HIPAA:
	// logs are not an access-controlled store). The demo's own patients
	// share the TESTPATIENT/DEMO name prefixes and LBX IDs.
	logs := s.stderr.String()
	for _, phi := range []string{"TESTPATIENT", "DEMO^", "LBX990001", "LBX000", "19700101", "ACC-E2E-1", "Shortness of breath"} {
		if strings.Contains(logs, phi) {
			t.Errorf("server log contains patient data %q", phi)
		}
	}
	// Unknown calling AE: rejected.
	if out, err := exec.Command("echoscu", "-aet", "STRANGER", "-aec", "LIGHTBOX", dicomHost, dicomPort).CombinedOutput(); err == nil {
		t.Fatalf("unknown calling AE accepted:\n%s", out)
	}
}

// dumpValue returns the first value dcmdump printed for a tag, e.g. "(0020,000d)".
func dumpValue(dump, tag string) string {
	for _, line := range strings.Split(dump, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, tag) {
			if i, j := strings.Index(line, "["), strings.Index(line, "]"); i >= 0 && j > i {
				return line[i+1 : j]
			}
		}
	}
	return ""
}

func mpps(t *testing.T, addr string, cmd *dimse.Command, status, accession, studyUID string) {
	t.Helper()
	ctx := context.Background()
	a, err := dimse.Dial(ctx, addr, "SGH_CT1", "LIGHTBOX", []dimse.ContextProposal{{AbstractSyntax: dimse.ModalityPerformedProcedure}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release(ctx)
	ds := &dcm.Dataset{}
	ds.SetStr(dcm.NewTag(0x0040, 0x0252), status)
	if studyUID != "" {
		it := &dcm.Dataset{}
		it.SetStr(dcm.TagAccessionNumber, accession)
		it.SetStr(dcm.TagStudyInstanceUID, studyUID)
		ds.SetSeq(dcm.NewTag(0x0040, 0x0270), it)
	}
	var b bytes.Buffer
	ts, _ := a.TransferSyntax(dimse.ModalityPerformedProcedure)
	if err := dcm.WriteDataset(&b, ds, ts); err != nil {
		t.Fatal(err)
	}
	rsp, _, err := a.SendN(ctx, cmd, b.Bytes())
	if err != nil || rsp.Status != dimse.StatusSuccess {
		t.Fatalf("MPPS %s: %v %+v", status, err, rsp)
	}
}

// postRaw posts a body of a content type (CSV imports) and decodes the answer.
func (c apiClient) postRaw(path, contentType, body string, out any) int {
	c.t.Helper()
	req, _ := http.NewRequest("POST", "http://"+c.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return c.send(req, out)
}
