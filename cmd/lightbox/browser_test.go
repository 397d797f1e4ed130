package main

// The reading room in a real browser: Debian's chromium driven by
// playwright-core (web/e2e/reading-room.mjs) against the built binary, with
// DCMTK storescu sending a study and an MLLP listener standing in for the
// facility's RIS that receives the signed report.

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lightbox/internal/gen"
	"lightbox/internal/outbox"
	"lightbox/internal/testwait"
)

func TestReadingRoomInBrowser(t *testing.T) {
	t.Parallel() // beside the idle test, which mostly waits
	needBrowser(t)
	needTools(t, "storescu")
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	ris := startMLLPPeer(t)
	// Seed the demo group, then lift dr.alpha's cap on open cases so the
	// study sent below is leased to them beside the demo cases.
	srv := startServer(t, "demo", "--data", data, "--quiet", "1s")
	ctx := context.Background()
	d := openIndex(t, data)
	// Stop once the demo studies are complete and on the worklist.
	testwait.Until(t, 90*time.Second, "the demo studies on the worklist", func() bool {
		var n int
		return d.QueryRow(ctx, "SELECT COUNT(*) FROM read_item").Scan(&n) == nil && n >= 6
	})
	srv.stop(t)
	out, e, code := run(t, "reader", "export", "--data", data)
	if code != 0 {
		t.Fatal(e)
	}
	var readers []map[string]any
	if err := json.Unmarshal([]byte(out), &readers); err != nil {
		t.Fatal(err)
	}
	for _, r := range readers {
		if r["id"] == "dr.alpha" {
			r["max_open_cases"] = 50
		}
	}
	doc, _ := json.Marshal(readers)
	readersFile := filepath.Join(tmp, "readers.json")
	_ = os.WriteFile(readersFile, doc, 0o600)
	mustRun(t, "reader", "import", "--data", data, readersFile)
	// A short re-authentication window, so signing asks for the password
	// and a fresh code again, as it does five minutes after login by default;
	// no limit on routine cases held ahead, so the study sent below joins
	// dr.alpha's list beside the unopened demo case.
	srv = startServer(t, "demo", "--data", data, "--quiet", "1s", "--reauth-window", "10s", "--routine-ahead", "0")
	defer srv.stop(t)

	// Every demo facility's RIS is our listener.
	for _, f := range gen.Facilities() {
		if err := outbox.SetEndpoint(ctx, d, outbox.Endpoint{FacilityID: f.Code, Kind: "hl7", Address: ris.addr}); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()

	// The study the browser must see arrive: a small head CT at SGH.
	studies := filepath.Join(tmp, "studies")
	mustRun(t, "gen", "--out", studies, "--modality", "CT", "--slices", "4", "--patients", "1", "--rows", "64", "--columns", "64",
		"--facility", "SGH", "--seed", "4242")
	files, _ := filepath.Glob(filepath.Join(studies, "*", "*", "*", "*.dcm"))
	host, port, _ := net.SplitHostPort(srv.addrs["dicom"].(string))

	runBrowserScript(t, srv, "reading-room.mjs", "BASE_URL=http://"+srv.http,
		"STUDY_UID="+studyUIDOf(t, studies),
		"SEND_CMD="+strings.Join(append([]string{"storescu", "-aet", "SGH_CT1", "-aec", "LIGHTBOX", host, port}, files...), "\x1f"))

	// The final report reached the facility's RIS as an ORU^R01 with the
	// text the macro expanded to.
	// It leaves through the durable sign event and the outbox's poll, so
	// a loaded machine may take a while; the bound only stops a broken run.
	testwait.Until(t, 2*time.Minute, "an ORU^R01 with the report text at the MLLP listener", func() bool {
		return ris.find("ORU^R01", "No acute abnormality.", "Browser-typed finding 4242") != ""
	})
}

type browserEnv struct{ chromium, node, web string }

// needBrowser skips without Debian's chromium or node, and fails when the
// app or its test packages were not installed (make test does both).
func needBrowser(t *testing.T) browserEnv {
	t.Helper()
	b := browserEnv{chromium: os.Getenv("LIGHTBOX_CHROMIUM")}
	if b.chromium == "" {
		b.chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(b.chromium); err != nil {
		t.Skip("chromium not installed (bash .ci/run installs Debian's chromium)")
	}
	var err error
	if b.node, err = exec.LookPath("node"); err != nil {
		t.Skip("node not installed")
	}
	b.web, _ = filepath.Abs("../../web")
	if _, err := os.Stat(filepath.Join(b.web, "node_modules", "playwright-core")); err != nil {
		t.Fatal("web/node_modules is missing: run `npm ci` in web/ (make web does)")
	}
	if _, err := os.Stat("../../internal/webapp/static/index.html"); err != nil {
		t.Fatal("the web app is not built into the binary: run `make web` first (make test does)")
	}
	return b
}

// runBrowserScript runs web/e2e/<script> with node; screenshots go to
// $LIGHTBOX_SCREENSHOTS (then only the README's) or a folder under /tmp.
func runBrowserScript(t *testing.T, srv *server, script string, env ...string) {
	t.Helper()
	b := needBrowser(t)
	shots, readmeOnly := os.Getenv("LIGHTBOX_SCREENSHOTS"), "1"
	if shots == "" {
		shots, readmeOnly = filepath.Join(os.TempDir(), "lightbox-e2e"), ""
	}
	_ = os.MkdirAll(shots, 0o755)
	cmd := exec.Command(b.node, filepath.Join(b.web, "e2e", script))
	cmd.Dir = b.web
	cmd.Env = append(append(cleanEnv(), "CHROMIUM="+b.chromium, "SHOTS="+shots, "README_ONLY="+readmeOnly), env...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Minute):
		_ = cmd.Process.Kill()
		err = <-done
	}
	t.Logf("%s:\n%s", script, log.String())
	if err != nil {
		lines := strings.Split(srv.stderr.String(), "\n")
		t.Fatalf("%s failed: %v\nserver log (end):\n%s", script, err, strings.Join(lines[max(0, len(lines)-80):], "\n"))
	}
}

// TestIdleLogoffInBrowser: the idle warning a minute before the server's
// timeout, "stay signed in", then the automatic logoff.
func TestIdleLogoffInBrowser(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	srv := startServer(t, "demo", "--data", t.TempDir(), "--quiet", "1s", "--idle-timeout", "75s")
	defer srv.stop(t)
	runBrowserScript(t, srv, "idle.mjs", "BASE_URL=http://"+srv.http)
}

// TestReconnectInBrowser: the server goes away under an open board; the
// app says so, reconnects by itself when the server is back and
// resynchronises (the session survives the restart).
func TestReconnectInBrowser(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	data, sync := t.TempDir(), t.TempDir()
	args := []string{"demo", "--data", data, "--quiet", "1s", "--http", "127.0.0.1:" + freePort(t)}
	srv := startServer(t, args...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The script writes "down" once the board is live; the server
		// restarts, then "up" tells the script to expect it back.
		for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(sync, "down")); err == nil {
				srv.stop(t)
				time.Sleep(4 * time.Second) // long enough for the banner
				srv = startServer(t, args...)
				_ = os.WriteFile(filepath.Join(sync, "up"), nil, 0o600)
				return
			}
		}
	}()
	runBrowserScript(t, srv, "reconnect.mjs", "BASE_URL=http://"+srv.http, "SYNC_DIR="+sync)
	<-done
	srv.stop(t)
}

// TestGroupScreenInBrowser: an administrator imports facilities from CSV on
// the Group screen (one bad row rejected with its reason) and the gap map
// names what the new facility lacks.
func TestGroupScreenInBrowser(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	srv := startServer(t, "demo", "--data", t.TempDir(), "--quiet", "1s")
	defer srv.stop(t)
	runBrowserScript(t, srv, "group.mjs", "BASE_URL=http://"+srv.http)
}

// TestConsoleInBrowser: the coordinator's console (web/e2e/console.mjs):
// the week calendar with a recorded vacation, a licence expiring in 20 days
// on the credentials timeline, dashboard charts with CSV export equal to
// the table, simulating next week from the browser, and a reassigned study
// arriving on the reader's live worklist.
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	data := t.TempDir()
	// yesterday, simulated: the dashboards' TAT, breaches and RVU per reader
	if out, err := exec.Command(binary, "simulate", "--scenario", "small", "--record", "yesterday", "--data", data).CombinedOutput(); err != nil {
		t.Fatalf("simulate --record: %v\n%s", err, out)
	} else {
		t.Logf("%s", out)
	}
	srv := startServer(t, "demo", "--data", data, "--quiet", "1s")
	defer srv.stop(t)
	runBrowserScript(t, srv, "console.mjs", "BASE_URL=http://"+srv.http)
}
