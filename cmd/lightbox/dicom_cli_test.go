package main

// `lightbox dicom echo|send|find|move` against a running Lightbox and
// against DCMTK storescp.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"lightbox/internal/dcm"
)

// dicomFiles lists the files under dir (sorted).
func dicomFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// datasetSHA is the SHA-256 of a Part 10 file's data set (what follows the
// meta header, which every receiver rewrites) and its SOP Instance UID.
func datasetSHA(t *testing.T, part10 []byte) (sha, sopUID string) {
	t.Helper()
	meta, off, err := dcm.ReadHeader(bytes.NewReader(part10))
	if err != nil {
		t.Fatalf("not Part 10: %v", err)
	}
	sum := sha256.Sum256(part10[off:])
	return hex.EncodeToString(sum[:]), meta.Str(dcm.TagMediaStorageSOPInstanceUID)
}

// datasetSHAs maps SOP Instance UID to data set SHA-256 for the files under dir.
func datasetSHAs(t *testing.T, dir string) map[string]string {
	t.Helper()
	return partSHAs(t, readAll(t, dir))
}

// partSHAs maps SOP Instance UID to data set SHA-256 for Part 10 blobs.
func partSHAs(t *testing.T, parts [][]byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, b := range parts {
		sha, uid := datasetSHA(t, b)
		m[uid] = sha
	}
	return m
}

// canonicalSHAs maps SOP Instance UID to the SHA-256 of each file's data
// set decoded and re-encoded by Lightbox's codec: equal for data sets with
// the same elements and values however their sequences were delimited.
func canonicalSHAs(t *testing.T, parts [][]byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, b := range parts {
		meta, _, err := dcm.ReadHeader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		m[meta.Str(dcm.TagMediaStorageSOPInstanceUID)] = canonicalOf(t, b)
	}
	return m
}

// readAll reads every Part 10 file under dir.
func readAll(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range dicomFiles(t, dir) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 132 && string(b[128:132]) == "DICM" {
			out = append(out, b)
		}
	}
	return out
}

// studyUIDOf reads the Study Instance UID of the first file under dir.
func studyUIDOf(t *testing.T, dir string) string {
	t.Helper()
	files := dicomFiles(t, dir)
	if len(files) == 0 {
		t.Fatalf("no files under %s", dir)
	}
	fh, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	f, err := dcm.ReadFile(fh, dcm.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f.Dataset.Str(dcm.TagStudyInstanceUID)
}

// findJSON runs `lightbox dicom find ... --json` and decodes the matches.
func findJSON(t *testing.T, args ...string) []map[string]string {
	t.Helper()
	out, errOut, code := run(t, append([]string{"dicom", "find", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("dicom find %v: exit %d\n%s%s", args, code, out, errOut)
	}
	var m []map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("dicom find --json: %v\n%s", err, out)
	}
	return m
}

// startStorescp runs DCMTK storescp on a free port writing to dir.
func startStorescp(t *testing.T, aet, dir string, extra ...string) string {
	t.Helper()
	port := freePort(t)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	// +B: write the data sets exactly as received (bit-preserving).
	args := append(append([]string{"+B", "-aet", aet, "-od", dir}, extra...), port)
	cmd := exec.Command("storescp", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("storescp %s output:\n%s", aet, out.String())
		}
	})
	// Wait until it accepts associations.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, _, code := run(t, "dicom", "echo", "--port", port, "--aec", aet, "--timeout", "2s"); code == 0 {
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("storescp did not start:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDicomCLIAgainstLightbox(t *testing.T) {
	tmp := t.TempDir()
	data, studies := filepath.Join(tmp, "data"), filepath.Join(tmp, "studies")
	mustRun(t, "gen", "--out", studies, "--modality", "CT", "--slices", "6", "--patients", "1", "--rows", "64", "--columns", "64", "--facility", "SGH", "--seed", "11")
	_ = os.WriteFile(filepath.Join(studies, "README.txt"), []byte("not DICOM"), 0o640)
	studyUID := studyUIDOf(t, studies)
	mustRun(t, "ae", "add", "--data", data, "--aet", "CLISCU", "--host", "127.0.0.1", "--port", "1", "--facility", "*")
	s := startServer(t, "serve", "--data", data)
	defer s.stop(t)
	host, port := hostPort(s.addrs["dicom"].(string))
	conn := []string{"--host", host, "--port", port, "--aet", "CLISCU", "--aec", "LIGHTBOX"}

	// echo
	out, errOut, code := run(t, append([]string{"dicom", "echo"}, conn...)...)
	if code != 0 || !strings.Contains(out, "C-ECHO CLISCU -> LIGHTBOX") || !strings.Contains(out, "success") {
		t.Fatalf("echo: %d %s %s", code, out, errOut)
	}
	// An unregistered calling AE is rejected, with the reason.
	_, errOut, code = run(t, "dicom", "echo", "--host", host, "--port", port, "--aet", "STRANGER", "--aec", "LIGHTBOX")
	if code != 1 || !strings.Contains(errOut, "calling AE title not recognized") {
		t.Errorf("echo from an unknown AE: %d %s", code, errOut)
	}
	// Nobody listening.
	_, errOut, code = run(t, "dicom", "echo", "--port", freePort(t), "--timeout", "5s")
	if code != 1 || !strings.Contains(errOut, "connection refused") {
		t.Errorf("echo to a closed port: %d %s", code, errOut)
	}
	// Usage errors exit 2.
	if _, _, code := run(t, "dicom"); code != 2 {
		t.Errorf("dicom without a subcommand: exit %d", code)
	}
	if _, _, code := run(t, "dicom", "send", "--port", port); code != 2 {
		t.Errorf("send without files: exit %d", code)
	}
	if _, _, code := run(t, append([]string{"dicom", "move", "-k", "StudyInstanceUID=" + studyUID}, conn...)...); code != 2 {
		t.Errorf("move without --dest: exit %d", code)
	}

	// send: the study and a non-DICOM file.
	out, errOut, code = run(t, append(append([]string{"dicom", "send"}, conn...), studies)...)
	if code != 0 || !strings.Contains(out, "files: 7  sent: 6  warnings: 0  failed: 0  skipped (not DICOM): 1") {
		t.Fatalf("send: %d\n%s%s", code, out, errOut)
	}
	// Sending again: duplicates are accepted (same bytes).
	if out, errOut, code = run(t, append(append([]string{"dicom", "send"}, conn...), studies)...); code != 0 || !strings.Contains(out, "sent: 6") {
		t.Errorf("second send: %d\n%s%s", code, out, errOut)
	}

	// find at each level, text and JSON.
	m := findJSON(t, append(conn, "-k", "StudyInstanceUID="+studyUID)...)
	if len(m) != 1 || m[0]["StudyInstanceUID"] != studyUID || m[0]["NumberOfStudyRelatedInstances"] != "6" || m[0]["ModalitiesInStudy"] != "CT" {
		t.Fatalf("study-level find: %+v", m)
	}
	out, errOut, code = run(t, append([]string{"dicom", "find", "--level", "IMAGE", "-k", "StudyInstanceUID=" + studyUID, "-k", "Rows"}, conn...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 6 || !strings.Contains(lines[0], "SOPInstanceUID=") || !strings.Contains(errOut, "6 match(es)") {
		t.Fatalf("image-level find: %d\n%s%s", code, out, errOut)
	}
	m = findJSON(t, append(conn, "--level", "SERIES", "-k", "StudyInstanceUID="+studyUID)...)
	if len(m) != 1 || m[0]["NumberOfSeriesRelatedInstances"] != "6" || m[0]["Modality"] != "CT" {
		t.Errorf("series-level find: %+v", m)
	}
	m = findJSON(t, append(conn, "--level", "PATIENT", "-k", "PatientID="+m[0]["PatientID"])...)
	if len(m) != 1 || m[0]["PatientName"] == "" {
		t.Errorf("patient-level find: %+v", m)
	}
	if m = findJSON(t, append(conn, "-k", "StudyInstanceUID=1.2.3.4.5.6.7")...); len(m) != 0 {
		t.Errorf("find of an unknown study: %+v", m)
	}
	if _, errOut, code := run(t, append([]string{"dicom", "find", "-k", "NoSuchKeyword=1"}, conn...)...); code != 1 || !strings.Contains(errOut, "unknown attribute") {
		t.Errorf("find with a bad key: %d %s", code, errOut)
	}

	// move into DCMTK storescp, registered with Lightbox.
	needTools(t, "storescp")
	recv := filepath.Join(tmp, "moved")
	scpPort := startStorescp(t, "CLIDEST", recv)
	addFacility(t, data, "SGH")
	mustRun(t, "ae", "add", "--data", data, "--aet", "CLIDEST", "--host", "127.0.0.1", "--port", scpPort, "--facility", "SGH")
	out, errOut, code = run(t, append([]string{"dicom", "move", "--dest", "CLIDEST", "-k", "StudyInstanceUID=" + studyUID}, conn...)...)
	if code != 0 || !strings.Contains(out, "completed: 6  failed: 0") || !strings.Contains(errOut, "remaining:") {
		t.Fatalf("move: %d\n%s%s", code, out, errOut)
	}
	want := datasetSHAs(t, studies)
	if got := datasetSHAs(t, recv); len(got) != 6 || !mapsEqual(got, want) {
		t.Errorf("moved data sets differ from the originals:\n got %v\nwant %v", got, want)
	}
	// An unknown destination fails with the reason.
	_, errOut, code = run(t, append([]string{"dicom", "move", "--dest", "NOWHERE", "-k", "StudyInstanceUID=" + studyUID}, conn...)...)
	if code != 1 || !strings.Contains(errOut, "0xA801") {
		t.Errorf("move to an unknown AE: %d %s", code, errOut)
	}

	// User identity instead of a registered AE.
	pw := filepath.Join(tmp, "pw")
	_ = os.WriteFile(pw, []byte("correct horse battery staple\n"), 0o600)
	if _, e, code := run(t, "user", "add", "--data", data, "--username", "cli.reader", "--role", "coordinator", "--password-file", pw); code != 0 {
		t.Fatalf("user add: %s", e)
	}
	m = findJSON(t, "--host", host, "--port", port, "--aet", "ROAMING", "--aec", "LIGHTBOX", "--user", "cli.reader", "--password-file", pw, "-k", "StudyInstanceUID="+studyUID)
	if len(m) != 1 {
		t.Errorf("find with user identity: %+v", m)
	}
	_ = os.WriteFile(pw, []byte("wrong\n"), 0o600)
	if _, errOut, code := run(t, "dicom", "echo", "--host", host, "--port", port, "--aet", "ROAMING", "--aec", "LIGHTBOX", "--user", "cli.reader", "--password-file", pw); code != 1 || !strings.Contains(errOut, "rejected") {
		t.Errorf("echo with a wrong password: %d %s", code, errOut)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestDicomCLIAgainstStorescp(t *testing.T) {
	needTools(t, "storescp")
	tmp := t.TempDir()
	plain, rle := filepath.Join(tmp, "plain"), filepath.Join(tmp, "rle")
	mustRun(t, "gen", "--out", plain, "--modality", "MR", "--slices", "5", "--patients", "1", "--rows", "64", "--columns", "64", "--seed", "21")
	if _, e, code := run(t, "gen", "--out", rle, "--modality", "CT", "--slices", "3", "--patients", "1", "--rows", "64", "--columns", "64", "--seed", "22",
		"--transfer-syntax", dcm.RLELossless); code != 0 {
		t.Fatal(e)
	}

	nPlain := len(dicomFiles(t, plain))

	// As they are: data sets arrive byte-identical.
	recv := filepath.Join(tmp, "recv")
	port := startStorescp(t, "STORESCP", recv)
	out, errOut, code := run(t, "dicom", "send", "--port", port, "--aec", "STORESCP", plain)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("sent: %d  warnings: 0  failed: 0", nPlain)) {
		t.Fatalf("send: %d\n%s%s", code, out, errOut)
	}
	if got, want := datasetSHAs(t, recv), datasetSHAs(t, plain); !mapsEqual(got, want) {
		t.Errorf("received data sets differ:\n got %v\nwant %v", got, want)
	}

	// A peer that only takes implicit VR: the SCU transcodes.
	recvImplicit := filepath.Join(tmp, "implicit")
	port = startStorescp(t, "IMPLICIT", recvImplicit, "+xi")
	out, errOut, code = run(t, "dicom", "send", "--port", port, "--aec", "IMPLICIT", plain)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("sent: %d ", nPlain)) {
		t.Fatalf("send with transcoding: %d\n%s%s", code, out, errOut)
	}
	for _, p := range dicomFiles(t, recvImplicit) {
		b, _ := os.ReadFile(p)
		meta, _, err := dcm.ReadHeader(bytes.NewReader(b))
		if err != nil || meta.Str(dcm.TagTransferSyntaxUID) != dcm.ImplicitVRLittleEndian {
			t.Errorf("%s: %v, syntax %q", p, err, meta.Str(dcm.TagTransferSyntaxUID))
		}
	}
	if n := len(dicomFiles(t, recvImplicit)); n != nPlain {
		t.Errorf("implicit peer received %d of %d", n, nPlain)
	}

	// Compressed files go compressed to a peer that accepts them, and fail
	// with the reason (and exit 1) where no syntax can carry them.
	recvAll := filepath.Join(tmp, "all")
	port = startStorescp(t, "ACCEPTALL", recvAll, "+xa")
	if out, errOut, code = run(t, "dicom", "send", "--port", port, "--aec", "ACCEPTALL", rle); code != 0 || !strings.Contains(out, "sent: 3") {
		t.Fatalf("send RLE: %d\n%s%s", code, out, errOut)
	}
	if got, want := datasetSHAs(t, recvAll), datasetSHAs(t, rle); !mapsEqual(got, want) {
		t.Errorf("RLE data sets differ")
	}
	out, _, code = run(t, "dicom", "send", "--port", port, "--aec", "ACCEPTALL", rle, plain)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("sent: %d ", nPlain+3)) {
		t.Errorf("mixed send: %d %s", code, out)
	}
	// storescp without +xa accepts uncompressed syntaxes only.
	port2 := startStorescp(t, "UNCOMPR", filepath.Join(tmp, "uncompr"))
	out, errOut, code = run(t, "dicom", "send", "--port", port2, "--aec", "UNCOMPR", rle)
	if code != 1 || !strings.Contains(out, "sent: 0  warnings: 0  failed: 3") || !strings.Contains(out, "cannot convert") || !strings.Contains(errOut, "3 of 3 instance(s) not stored") {
		t.Errorf("RLE to an uncompressed-only peer: %d\n%s%s", code, out, errOut)
	}
}
