package main

// Integration tests: they build the real binary and drive it as an operator
// would, over its command line, HTTP port and signals.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/db"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lightbox-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "lightbox")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// genData writes synthetic studies (gen with args) into a temp folder and
// names a data folder beside them.
func genData(t *testing.T, args ...string) (tmp, studies, data string) {
	t.Helper()
	tmp = t.TempDir()
	studies, data = filepath.Join(tmp, "studies"), filepath.Join(tmp, "data")
	mustRun(t, append([]string{"gen", "--out", studies}, args...)...)
	return tmp, studies, data
}

// mustRun runs the binary like run and fails the test when it exits
// non-zero; it returns standard output.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, e, code := run(t, args...)
	if code != 0 {
		t.Fatalf("lightbox %s: exit %d: %s", strings.Join(args, " "), code, e)
	}
	return out
}

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// cleanEnv drops LIGHTBOX_* settings of the developer's shell so tests see defaults.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LIGHTBOX_") {
			env = append(env, kv)
		}
	}
	return env
}

func TestHelpAndVersion(t *testing.T) {
	out, _, code := run(t, "help")
	if code != 0 {
		t.Fatalf("help exit %d", code)
	}
	for _, c := range []string{"serve", "demo", "gen", "import", "version", "help"} {
		if !strings.Contains(out, "  "+c+" ") {
			t.Errorf("help does not list %s:\n%s", c, out)
		}
	}
	out, _, _ = run(t, "version")
	if !strings.HasPrefix(out, "lightbox ") {
		t.Errorf("version: %q", out)
	}
	_, errOut, code := run(t, "nosuch")
	if code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
}

func TestGenImportCheck(t *testing.T) {
	_, studies, data := genData(t, "--modality", "CT", "--slices", "12", "--patients", "2", "--rows", "64", "--columns", "64")
	_ = os.WriteFile(filepath.Join(studies, "README.txt"), []byte("not DICOM"), 0o640)
	out, errOut, code := run(t, "import", "--data", data, studies)
	if code != 0 {
		t.Fatalf("import exit %d: %s %s", code, out, errOut)
	}
	if !strings.Contains(out, "files: 25  stored: 24  duplicates: 0  rejected: 0  skipped (not DICOM): 1") {
		t.Errorf("first import summary:\n%s", out)
	}
	out, _, _ = run(t, "import", "--data", data, studies)
	if !strings.Contains(out, "stored: 0  duplicates: 24") {
		t.Errorf("second import summary:\n%s", out)
	}
	out, errOut, code = run(t, "check", "--rehash", "--data", data)
	if code != 0 || !strings.Contains(out, "instances: 24  missing blobs: 0  corrupt: 0") {
		t.Errorf("check: %d %s %s", code, out, errOut)
	}
}

func TestReaderImportExport(t *testing.T) {
	data := t.TempDir()
	readers := filepath.Join(t.TempDir(), "readers.json")
	_ = os.WriteFile(readers, []byte(`[{"id":"dr.x","name":"Dr X","modalities":["CT"],"location":{"country":"US","state":"TX"},"time_zone":"America/Chicago",
		"workstation":"3MP","rvu_target_per_hour":8,"licenses":[{"state":"TX","number":"TX9","status":"active","expires":"2030-01-01","verified_at":"2026-01-01T00:00:00Z"}],
		"privileges":[{"facility":"SGH","scope":{},"basis":"direct","granted":"2026-01-01","expires":"2028-01-01"}]}]`), 0o600)
	// A privilege at a facility that does not exist is refused, row by row.
	if out, _, code := run(t, "reader", "import", "--data", data, readers); code == 0 || !strings.Contains(out, "[unknown_facility] privileges[0].facility") {
		t.Fatalf("privilege at an unknown facility accepted: %s", out)
	}
	if out, e, code := run(t, "facility", "add", "--data", data, "--id", "SGH", "--name", "Springfield General", "--state", "IL", "--timezone", "America/Chicago"); code != 0 {
		t.Fatalf("facility add: %s %s", out, e)
	}
	if out, e, code := run(t, "reader", "import", "--data", data, readers); code != 0 || !strings.Contains(out, "1 of 1 rows imported") {
		t.Fatalf("import: %s %s", out, e)
	}
	out, _, _ := run(t, "reader", "export", "--data", data, "--format", "csv")
	if !strings.Contains(out, "dr.x,licence,TX,TX9,active,2030-01-01") || !strings.Contains(out, "dr.x,privilege,SGH") {
		t.Fatalf("csv export:\n%s", out)
	}
	csvFile := filepath.Join(t.TempDir(), "creds.csv")
	_ = os.WriteFile(csvFile, []byte(strings.Replace(out, "2030-01-01", "2031-06-30", 1)), 0o600)
	mustRun(t, "reader", "import", "--data", data, csvFile)
	if out, _, _ := run(t, "reader", "export", "--data", data); !strings.Contains(out, "2031-06-30") {
		t.Fatalf("csv import not applied:\n%s", out)
	}
	if _, _, code := run(t, "reader", "import", "--data", data, "/nonexistent.json"); code == 0 {
		t.Fatal("missing file accepted")
	}
}

// simulate --from-db replays the day's real worklist arrivals against the
// configured readers.
func TestSimulateFromDB(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, "demo", "--data", data, "--quiet", "1s")
	time.Sleep(7 * time.Second) // the dispatcher ticks every 5 s and admits quiet studies
	s.stop(t)
	day := time.Now().UTC().Format("2006-01-02")
	out, errOut, code := run(t, "simulate", "--from-db", "--data", data, "--day", day, "--policy", "lightbox", "--json")
	if code != 0 {
		t.Fatalf("simulate --from-db: %s %s", out, errOut)
	}
	var r struct {
		Studies       int `json:"studies"`
		Violations    int `json:"violations"`
		ReadersOnDuty int `json:"readers_on_duty"`
		Uncovered     int `json:"uncovered"`
	}
	// The roster's weekly shifts put readers on duty: the day the server
	// covered is not all uncovered in the replay.
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Studies == 0 || r.Violations != 0 || r.ReadersOnDuty == 0 || r.Uncovered == r.Studies {
		t.Fatalf("replay: %v %+v\n%s", err, r, out)
	}
}

func TestSimulateDeterministicJSON(t *testing.T) {
	args := []string{"simulate", "--scenario", "small", "--policy", "lightbox", "--seed", "7", "--json"}
	a, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("simulate: %d %s", code, errOut)
	}
	b, _, _ := run(t, args...)
	if a != b {
		t.Fatal("same seed gave different output")
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(a), &r); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, a)
	}
	for _, k := range []string{"policy", "studies", "violations", "uncovered", "sla_breach_pct", "gini_rvu_per_hour", "utilisation", "tat_minutes"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if r["violations"].(float64) != 0 {
		t.Errorf("violations: %v", r["violations"])
	}
	chart := filepath.Join(t.TempDir(), "tat.svg")
	out, _, code := run(t, "simulate", "--scenario", "small", "--chart", chart)
	if code != 0 || !strings.Contains(out, "shared-pool") {
		t.Fatalf("comparison: %s", out)
	}
	if svg, err := os.ReadFile(chart); err != nil || !bytes.HasPrefix(bytes.TrimSpace(svg), []byte("<svg")) && !bytes.HasPrefix(svg, []byte("<?xml")) {
		t.Errorf("chart: %v %.40q", err, svg)
	}
}

// server starts `lightbox ARGS` and waits for its "lightbox serving" log line.
type server struct {
	cmd    *exec.Cmd
	http   string
	addrs  map[string]any // the "lightbox serving" log line
	stderr *bytes.Buffer
	done   chan error
	logMu  sync.Mutex // guards stderr while the server runs
}

// logText is the server's log so far (safe while it runs).
func (s *server) logText() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.stderr.String()
}

func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	return startServerEnv(t, nil, args...)
}

// startServerEnv is startServer with extra environment (credentials).
func startServerEnv(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	if !slices.Contains(args, "--http") { // a test that restarts the server keeps its address
		args = append(args, "--http", "127.0.0.1:0")
	}
	args = append(args, "--dicom", "127.0.0.1:0", "--hl7", "127.0.0.1:0", "--log-format", "json")
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	pr, pw := io.Pipe()
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			s.logMu.Lock()
			s.stderr.WriteString(line + "\n")
			s.logMu.Unlock()
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "lightbox serving" {
				found <- m
			}
		}
	}()
	go func() { s.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case s.addrs = <-found:
		s.http = s.addrs["http"].(string)
	case err := <-s.done:
		t.Fatalf("server exited: %v\n%s", err, s.stderr)
	case <-time.After(120 * time.Second):
		t.Fatalf("server did not start:\n%s", s.stderr)
	}
	return s
}

func (s *server) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.http + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *server) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server exit: %v\n%s", err, s.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
}

func TestServeHealthAndShutdown(t *testing.T) {
	s := startServer(t, "serve", "--data", t.TempDir())
	if code, body := s.get(t, "/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("healthz %d %s", code, body)
	}
	if code, body := s.get(t, "/readyz"); code != 200 || !strings.Contains(body, "ready") {
		t.Errorf("readyz %d %s", code, body)
	}
	s.stop(t)
	if !strings.Contains(s.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop logged:\n%s", s.stderr)
	}
}

// import must work beside a running server on the same data folder: SQLite
// serialises the writers, and each process keeps its own temp folder.
func TestImportBesideRunningServer(t *testing.T) {
	_, studies, data := genData(t, "--modality", "MR", "--slices", "20", "--patients", "2", "--rows", "64", "--columns", "64")
	s := startServer(t, "serve", "--data", data)
	out, errOut, code := run(t, "import", "--data", data, studies)
	if code != 0 || !strings.Contains(out, "stored: 80") {
		t.Fatalf("import beside server: %d %s %s", code, out, errOut)
	}
	if code, _ := s.get(t, "/readyz"); code != 200 {
		t.Errorf("server not ready after import: %d", code)
	}
	s.stop(t)
	if out, _, _ := run(t, "check", "--rehash", "--data", data); !strings.Contains(out, "instances: 80  missing blobs: 0  corrupt: 0") {
		t.Errorf("check: %s", out)
	}
}

func TestDemoIsIdempotent(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	data := t.TempDir()
	s := startServer(t, "demo", "--data", data)
	s.stop(t)
	if !strings.Contains(s.stderr.String(), "demo data loaded") {
		t.Fatalf("first demo run did not seed:\n%s", s.stderr)
	}
	s = startServer(t, "demo", "--data", data)
	s.stop(t)
	if !strings.Contains(s.stderr.String(), "demo data already loaded") {
		t.Fatalf("second demo run re-seeded:\n%s", s.stderr)
	}
}

// TestKillDuringImport is the durability proof: SIGKILL the importer while
// it stores hundreds of instances, restart, and check that every instance it
// reported stored is present with matching bytes, that no index row points
// at a missing blob, and that leftover temp files are cleaned at start.
func TestKillDuringImport(t *testing.T) {
	_, studies, data := genData(t, "--modality", "CT", "--slices", "300", "--patients", "2", "--rows", "128", "--columns", "128")
	for round := range 3 {
		cmd := exec.Command(binary, "import", "--verbose", "--workers", "4", "--data", data, studies)
		cmd.Env = cleanEnv()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		reported := map[string]string{} // path -> digest the importer reported stored
		sc := bufio.NewScanner(stdout)
		killAt := 60 + 70*round
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "stored" {
				reported[f[1]] = strings.TrimPrefix(f[2], "digest=")
				if len(reported) == killAt {
					_ = cmd.Process.Signal(syscall.SIGKILL)
					break
				}
			}
		}
		_ = cmd.Wait()
		leftovers := countFiles(t, filepath.Join(data, "blobs", "tmp"))
		t.Logf("round %d: killed after %d reported stores; %d temp entries left", round, len(reported), leftovers)

		// Restart: opening storage (here via check) cleans temp files.
		out, errOut, code := run(t, "check", "--rehash", "--data", data)
		if code != 0 {
			t.Fatalf("check after kill: %s %s", out, errOut)
		}
		if n := countFiles(t, filepath.Join(data, "blobs", "tmp")); n != 0 {
			t.Errorf("%d temp entries remain after restart", n)
		}
		d, err := db.Open(context.Background(), "sqlite:"+filepath.Join(data, "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		for path, sha := range reported {
			raw, _ := os.ReadFile(path)
			if archive.Digest(raw) != sha {
				t.Fatalf("%s: reported digest differs from file", path)
			}
			var n int
			if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM instance WHERE sha256 = ?", sha).Scan(&n); err != nil || n != 1 {
				t.Fatalf("%s reported stored but not indexed (%d, %v)", path, n, err)
			}
		}
		d.Close()
	}
	// Finally everything imports, and nothing is duplicated.
	out, _, code := run(t, "import", "--data", data, studies)
	if code != 0 || !strings.Contains(out, "rejected: 0") {
		t.Fatalf("final import: %s", out)
	}
	out, _, _ = run(t, "check", "--data", data)
	if !strings.Contains(out, "instances: 600 ") {
		t.Errorf("final check: %s", out)
	}
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// stow posts one Part 10 file as STOW-RS and returns the status and body
// (no testing.T: the scale-out test calls it from goroutines).
func stow(base, tok string, file []byte) (int, string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/dicom"}})
	_, _ = pw.Write(file)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", "http://"+base+"/dicomweb/studies", &body)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+mw.Boundary())
	req.Header.Set("Accept", "application/dicom+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// mustStow is stow for a test's own goroutine.
func mustStow(t *testing.T, base, tok string, file []byte) (int, string) {
	t.Helper()
	code, body, err := stow(base, tok, file)
	if err != nil {
		t.Fatal(err)
	}
	return code, body
}

// addFacility creates a facility through the CLI: AEs, endpoints and
// privileges may only name facilities that exist.
func addFacility(t *testing.T, data, id string) {
	t.Helper()
	if out, e, code := run(t, "facility", "add", "--data", data, "--id", id, "--name", id+" Test Hospital", "--state", "NY", "--timezone", "America/New_York"); code != 0 {
		t.Fatalf("facility add %s: %s %s", id, out, e)
	}
}
