package main

// Interoperability with Orthanc (Debian's orthanc package, /usr/sbin/Orthanc):
// (a) Orthanc C-STOREs a study into Lightbox, which keeps every data set
// byte for byte (checked through WADO-RS); (b) Lightbox's SCU finds a study
// in Orthanc with C-FIND and pulls it with C-MOVE.
//
// Orthanc (DCMTK) re-encodes data sets when it sends them: sequences of
// undefined length go out with explicit lengths. So "byte for byte" is
// checked against what Orthanc put on the wire, captured by a DCMTK
// storescp in bit-preserving mode (+B) that Orthanc also sends both
// studies to; against the original files the check is element by element
// (decoded and re-encoded by one codec).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const orthancBin = "/usr/sbin/Orthanc"

// orthanc is an Orthanc process on loopback with its own configuration and storage.
type orthanc struct {
	http, dicomPort string
	cmd             *exec.Cmd
	mu              sync.Mutex
	out             bytes.Buffer
}

func (o *orthanc) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.out.Write(p)
}

func (o *orthanc) log() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.out.String()
}

// startOrthanc starts Orthanc with AE ORTHANC, knowing modalities (AE title
// -> "host:port").
func startOrthanc(t *testing.T, modalities map[string][2]string) *orthanc {
	t.Helper()
	if _, err := os.Stat(orthancBin); err != nil {
		t.Skip("Orthanc not installed (apt-get install orthanc)")
	}
	dir := t.TempDir()
	o := &orthanc{dicomPort: freePort(t)}
	httpPort := freePort(t)
	o.http = "127.0.0.1:" + httpPort
	mods := map[string]any{}
	for title, hp := range modalities {
		mods[title] = []any{title, hp[0], mustAtoi(t, hp[1])}
	}
	cfg := map[string]any{
		"Name":                   "lightbox-interop",
		"StorageDirectory":       filepath.Join(dir, "storage"),
		"IndexDirectory":         filepath.Join(dir, "storage"),
		"Plugins":                []string{},
		"HttpServerEnabled":      true,
		"HttpPort":               mustAtoi(t, httpPort),
		"RemoteAccessAllowed":    false,
		"AuthenticationEnabled":  false,
		"DicomServerEnabled":     true,
		"DicomAet":               "ORTHANC",
		"DicomPort":              mustAtoi(t, o.dicomPort),
		"DicomCheckCalledAet":    false,
		"DicomCheckModalityHost": false,
		"DicomAlwaysAllowEcho":   true,
		"DicomAlwaysAllowStore":  true,
		"DicomAlwaysAllowFind":   false,
		"DicomAlwaysAllowMove":   false,
		"DicomModalities":        mods,
		"DicomScuTimeout":        10,
		// Close our SCU associations at once rather than keeping them 5 s.
		"DicomAssociationCloseDelay": 0,
		"SaveJobs":                   false,
		"StorageCompression":         false,
		"OverwriteInstances":         false,
		"DeidentifyLogs":             false,
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	conf := filepath.Join(dir, "orthanc.json")
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	o.cmd = exec.Command(orthancBin, "--verbose", conf)
	o.cmd.Stdout, o.cmd.Stderr = o, o
	if err := o.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- o.cmd.Wait() }()
	t.Cleanup(func() {
		_ = o.cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("Orthanc output:\n%s", o.log())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + o.http + "/system")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return o
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("Orthanc exited: %v\n%s", err, o.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("Orthanc did not start:\n%s", o.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustAtoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// rest calls Orthanc's REST API and decodes a JSON answer into out.
func (o *orthanc) rest(t *testing.T, method, path string, body []byte, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+o.http+path, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("Orthanc %s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("Orthanc %s %s: %v: %s", method, path, err, b)
		}
	}
}

// upload posts every file under dir to Orthanc and returns the Orthanc study ID.
func (o *orthanc) upload(t *testing.T, dir string) string {
	t.Helper()
	study := ""
	for _, p := range dicomFiles(t, dir) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ ID, ParentStudy, Status string }
		o.rest(t, "POST", "/instances", b, &r)
		if r.Status != "Success" && r.Status != "AlreadyStored" {
			t.Fatalf("Orthanc did not store %s: %+v", p, r)
		}
		study = r.ParentStudy
	}
	return study
}

// wadoStudy retrieves a study by WADO-RS as stored (transfer-syntax=*) and
// returns its Part 10 instances.
func wadoStudy(t *testing.T, base, bearer, studyUID string) [][]byte {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+base+"/dicomweb/studies/"+studyUID, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", `multipart/related; type="application/dicom"; transfer-syntax=*`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("WADO-RS study: %d %s", resp.StatusCode, b)
	}
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	var got [][]byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	return got
}

// checkStudy compares what Lightbox returns for a study with the data sets
// Orthanc sent (byte for byte) and with the original files (element by element).
func checkStudy(t *testing.T, got [][]byte, wire map[string]string, origDir string) {
	t.Helper()
	orig := readAll(t, origDir)
	if len(got) != len(orig) {
		t.Fatalf("Lightbox returned %d instances, want %d", len(got), len(orig))
	}
	for uid, sha := range partSHAs(t, got) {
		if wire[uid] != sha {
			t.Errorf("instance %s: stored data set (sha256 %s) differs from what Orthanc sent (%s)", uid, sha, wire[uid])
		}
	}
	if g, w := canonicalSHAs(t, got), canonicalSHAs(t, orig); !mapsEqual(g, w) {
		t.Errorf("data sets differ from the original files element by element:\n got %v\nwant %v", g, w)
	}
}

func TestOrthancInterop(t *testing.T) {
	if _, err := os.Stat(orthancBin); err != nil {
		t.Skip("Orthanc not installed (apt-get install orthanc)")
	}
	needTools(t, "storescp")
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	studyA, studyB := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	for i, dir := range []string{studyA, studyB} {
		mustRun(t, "gen", "--out", dir, "--modality", "CT", "--slices", "8", "--patients", "1", "--rows", "64", "--columns", "64",
			"--facility", "SGH", "--seed", fmt.Sprint(31+i))
	}
	uidA, uidB := studyUIDOf(t, studyA), studyUIDOf(t, studyB)
	if uidA == uidB {
		t.Fatal("generated the same study twice")
	}

	// Lightbox, knowing Orthanc (its instances belong to SGH) and a query AE.
	pw := filepath.Join(tmp, "pw")
	_ = os.WriteFile(pw, []byte("interop-test-password\n"), 0o600)
	if _, e, code := run(t, "user", "add", "--data", data, "--username", "interop", "--role", "coordinator", "--password-file", pw); code != 0 {
		t.Fatalf("user add: %s", e)
	}
	s := startServer(t, "serve", "--data", data)
	defer s.stop(t)
	lbHost, lbPort := hostPort(s.addrs["dicom"].(string))
	wireDir := filepath.Join(tmp, "wire")
	refPort := startStorescp(t, "REFSCP", wireDir)
	o := startOrthanc(t, map[string][2]string{"LIGHTBOX": {lbHost, lbPort}, "REFSCP": {"127.0.0.1", refPort}})
	addFacility(t, data, "SGH")
	for _, args := range [][]string{
		{"--aet", "ORTHANC", "--host", "127.0.0.1", "--port", o.dicomPort, "--facility", "SGH"},
		{"--aet", "INTEROPQ", "--host", "127.0.0.1", "--port", "1", "--facility", "*"},
	} {
		mustRun(t, append([]string{"ae", "add", "--data", data}, args...)...)
	}
	lb := []string{"--host", lbHost, "--port", lbPort, "--aet", "INTEROPQ", "--aec", "LIGHTBOX"}
	orth := []string{"--host", "127.0.0.1", "--port", o.dicomPort, "--aet", "LIGHTBOX", "--aec", "ORTHANC"}
	bearer := token(t, data, "interop")

	// Both ends answer C-ECHO.
	if out, e, code := run(t, append([]string{"dicom", "echo"}, orth...)...); code != 0 {
		t.Fatalf("echo Orthanc: %s %s", out, e)
	}

	// (a) Orthanc C-STOREs study A into Lightbox.
	orthancA := o.upload(t, studyA)
	orthancB := o.upload(t, studyB) // B stays in Orthanc only, for (b)
	o.rest(t, "POST", "/modalities/REFSCP/store", []byte(`{"Resources":["`+orthancA+`","`+orthancB+`"],"Synchronous":true}`), nil)
	wire := datasetSHAs(t, wireDir)
	if len(wire) != 16 {
		t.Fatalf("the reference storescp received %d of 16 instances", len(wire))
	}
	var job map[string]any
	o.rest(t, "POST", "/modalities/LIGHTBOX/store", []byte(`{"Resources":["`+orthancA+`"],"Synchronous":true}`), &job)
	m := findJSON(t, append(lb, "-k", "StudyInstanceUID="+uidA)...)
	if len(m) != 1 || m[0]["NumberOfStudyRelatedInstances"] != "8" {
		t.Fatalf("Lightbox after Orthanc's C-STORE: %+v (job %v)", m, job)
	}
	checkStudy(t, wadoStudy(t, s.http, bearer, uidA), wire, studyA)
	if m := findJSON(t, append(lb, "-k", "StudyInstanceUID="+uidB)...); len(m) != 0 {
		t.Fatalf("study B reached Lightbox early: %+v", m)
	}

	// (b) Lightbox finds study B in Orthanc and pulls it with C-MOVE.
	m = findJSON(t, append(orth, "-k", "StudyInstanceUID="+uidB)...)
	if len(m) != 1 || m[0]["StudyInstanceUID"] != uidB {
		t.Fatalf("C-FIND in Orthanc: %+v", m)
	}
	patientID := m[0]["PatientID"]
	m = findJSON(t, append(orth, "--level", "IMAGE", "-k", "StudyInstanceUID="+uidB, "-k", "SeriesInstanceUID")...)
	if len(m) != 8 {
		t.Fatalf("image-level C-FIND in Orthanc: %d matches", len(m))
	}
	if m := findJSON(t, append(orth, "--level", "PATIENT", "-k", "PatientID="+patientID)...); len(m) != 1 {
		t.Errorf("patient-level C-FIND in Orthanc: %+v", m)
	}
	out, errOut, code := run(t, append([]string{"dicom", "move", "--dest", "LIGHTBOX", "-k", "StudyInstanceUID=" + uidB}, orth...)...)
	if code != 0 || !strings.Contains(out, "completed: 8  failed: 0") {
		t.Fatalf("C-MOVE from Orthanc: %d\n%s%s", code, out, errOut)
	}
	m = findJSON(t, append(lb, "-k", "StudyInstanceUID="+uidB)...)
	if len(m) != 1 || m[0]["NumberOfStudyRelatedInstances"] != "8" {
		t.Fatalf("Lightbox after C-MOVE from Orthanc: %+v", m)
	}
	checkStudy(t, wadoStudy(t, s.http, bearer, uidB), wire, studyB)
	// A destination Orthanc does not know: a clear failure.
	_, errOut, code = run(t, append([]string{"dicom", "move", "--dest", "NOWHERE", "-k", "StudyInstanceUID=" + uidB}, orth...)...)
	if code != 1 || !strings.Contains(errOut, "C-MOVE failed") {
		t.Errorf("C-MOVE to an unknown destination: %d %s", code, errOut)
	}
}
