package main

// Colleagues in real browsers (web/e2e/collab.mjs): the reading room, a
// second opinion with its live thread and opinion, shared viewing and a
// WebRTC call signalled through Lightbox, with two Debian chromium
// instances using fake media devices over loopback; then a patient's
// clinic visit by a single-use link (web/e2e/visit.mjs).

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/testwait"
)

func TestCollabInBrowser(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	needTools(t, "storescu")
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	srv := startServer(t, "demo", "--data", data, "--quiet", "1s")
	defer srv.stop(t)
	study := storeSGHStudy(t, srv, filepath.Join(tmp, "studies"), "12", "64", "2020")
	// A second opinion is routed by eligibility for a study on the worklist.
	ctx := context.Background()
	d := openIndex(t, data)
	testwait.Until(t, 60*time.Second, "the study on the worklist", func() bool {
		var n int
		return d.QueryRow(ctx, "SELECT COUNT(*) FROM read_item WHERE study_uid = ?", study).Scan(&n) == nil && n == 1
	})
	// A demo study at HBI, where dr.bravo holds no privileges (break glass).
	var outside string
	if err := d.QueryRow(ctx, "SELECT study_uid FROM study WHERE facility_id = 'HBI' LIMIT 1").Scan(&outside); err != nil {
		t.Fatal(err)
	}
	d.Close()
	start := time.Now()
	runBrowserScript(t, srv, "collab.mjs", "BASE_URL=http://"+srv.http, "STUDY_UID="+study, "OUTSIDE_UID="+outside)
	t.Logf("collab.mjs: %s", time.Since(start).Round(100*time.Millisecond))
	// A patient's clinic visit by a single-use link, with another reader.
	start = time.Now()
	runBrowserScript(t, srv, "visit.mjs", "BASE_URL=http://"+srv.http, "STUDY_UID="+study, "READER=dr.sydney")
	t.Logf("visit.mjs: %s", time.Since(start).Round(100*time.Millisecond))
}

// storeSGHStudy generates a CT study of SGH (slices of size×size pixels)
// into dir and sends it to srv with DCMTK's storescu as SGH's modality.
func storeSGHStudy(t *testing.T, srv *server, dir, slices, size, seed string) string {
	t.Helper()
	if _, e, code := run(t, "gen", "--out", dir, "--modality", "CT", "--slices", slices, "--patients", "1",
		"--rows", size, "--columns", size, "--facility", "SGH", "--seed", seed); code != 0 {
		t.Fatal(e)
	}
	host, port, _ := net.SplitHostPort(srv.addrs["dicom"].(string))
	if out, err := exec.Command("storescu", append([]string{"-aet", "SGH_CT1", "-aec", "LIGHTBOX", host, port}, dicomFiles(t, dir)...)...).CombinedOutput(); err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}
	return studyUIDOf(t, dir)
}

// sseEvent is one Server-Sent Event as read by a test.
type sseEvent struct {
	Kind string
	Data string
	At   time.Time
}

// openSSE streams an SSE endpoint's events into a channel until the test ends.
func openSSE(t *testing.T, base, token, path string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("SSE %s: %v %v", path, err, resp)
	}
	out := make(chan sseEvent, 256)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			if k, ok := strings.CutPrefix(line, "event: "); ok {
				ev.Kind = k
			} else if d, ok := strings.CutPrefix(line, "data: "); ok {
				ev.Data = d
			} else if line == "" && ev.Kind != "" {
				ev.At = time.Now()
				select {
				case out <- ev:
				default:
				}
				ev = sseEvent{}
			}
		}
	}()
	return out
}

// awaitSSE waits for an event of kind whose data contains want.
func awaitSSE(t *testing.T, ch <-chan sseEvent, kind, want string) sseEvent {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == kind && strings.Contains(ev.Data, want) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event containing %q", kind, want)
		}
	}
}

// Two nodes on one PostgreSQL database: the requester on node A, the
// consultant on node B. The group channel, the consult's chat and the
// shared view cross between them (cluster.Node.Relay).
func TestCollabTwoNodes(t *testing.T) {
	t.Parallel()
	pg := dbtest.Database(t)
	needTools(t, "storescu")
	tmp := t.TempDir()
	dataDir := func(i int) string { return filepath.Join(tmp, fmt.Sprintf("node%d", i)) }
	common := func(i int) []string {
		return []string{"--data", dataDir(i), "--db", pg, "--quiet", "1s", "--aet", "LIGHTBOX"}
	}
	a := startServer(t, append([]string{"demo"}, common(1)...)...)
	defer a.stop(t)
	key, err := os.ReadFile(filepath.Join(dataDir(1), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll(dataDir(2), 0o750)
	_ = os.WriteFile(filepath.Join(dataDir(2), "secret.key"), key, 0o600)
	b := startServer(t, append([]string{"serve"}, common(2)...)...)
	defer b.stop(t)
	tok := func(user string) string {
		out, e, code := run(t, "token", "create", "--data", dataDir(1), "--db", pg, "--username", user, "--name", "two-nodes")
		if code != 0 {
			t.Fatalf("token: %s", e)
		}
		return strings.TrimSpace(out)
	}
	alpha := apiClient{t: t, base: a.http, token: tok("dr.alpha")}
	bravo := apiClient{t: t, base: b.http, token: tok("dr.bravo")}

	study := storeSGHStudy(t, a, filepath.Join(tmp, "studies"), "2", "32", "2021")
	check, err := db.Open(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	testwait.Until(t, 120*time.Second, "the study on the worklist", func() bool {
		var n int
		return check.QueryRow(context.Background(), "SELECT COUNT(*) FROM read_item WHERE study_uid = ?", study).Scan(&n) == nil && n == 1
	})
	// Both readers online (heartbeats to either node reach the engine's leader).
	hb, stopHB := context.WithCancel(context.Background())
	defer stopHB()
	keepPresent(hb, func(int) []apiClient { return []apiClient{alpha, bravo} })

	// The group channel: bravo listens on B, alpha writes on A.
	room := openSSE(t, b.http, bravo.token, "/api/room/events")
	if code := bravo.do("PUT", "/api/room/status", map[string]any{"status": "available", "visible": true}, nil); code != http.StatusOK {
		t.Fatalf("room status: %d", code)
	}
	sent := time.Now()
	if code := alpha.do("POST", "/api/room/messages", map[string]string{"body": "Anyone free tonight?"}, nil); code != http.StatusCreated {
		t.Fatalf("room message: %d", code)
	}
	ev := awaitSSE(t, room, "message", "Anyone free tonight?")
	t.Logf("group channel A→B: %v", ev.At.Sub(sent).Round(time.Millisecond))

	// A second opinion asked on A of bravo, who is served by B.
	var asked struct {
		Consult struct {
			ID int64 `json:"id"`
		} `json:"consult"`
	}
	testwait.Until(t, 60*time.Second, "the consult is routed to dr.bravo", func() bool {
		return alpha.do("POST", "/api/studies/"+study+"/consults", map[string]string{"consultant": "dr.bravo", "question": "Early infarct?"}, &asked) == http.StatusCreated
	})
	path := fmt.Sprintf("/api/studies/%s/consults/%d", study, asked.Consult.ID)
	onA := openSSE(t, a.http, alpha.token, path+"/events")
	onB := openSSE(t, b.http, bravo.token, path+"/events")
	// bravo's join on B reaches alpha on A: both streams are subscribed.
	awaitSSE(t, onA, "join", "dr.bravo")
	var seen struct {
		Present []string `json:"present"`
	}
	if alpha.do("GET", path, nil, &seen); !slices.Contains(seen.Present, "dr.bravo") {
		t.Fatalf("node A lists %v as present, not dr.bravo on node B", seen.Present)
	}

	sent = time.Now()
	if code := alpha.do("POST", path+"/messages", map[string]string{"body": "Left frontal, slice 2"}, nil); code != http.StatusCreated {
		t.Fatalf("message: %d", code)
	}
	ev = awaitSSE(t, onB, "message", "Left frontal, slice 2")
	t.Logf("consult chat A→B: %v", ev.At.Sub(sent).Round(time.Millisecond))

	sent = time.Now()
	view := map[string]any{"kind": "view", "data": map[string]any{"series": "1", "slice": 2, "wc": 40, "ww": 80}}
	if code := alpha.do("POST", path+"/signal", view, nil); code != http.StatusNoContent {
		t.Fatalf("signal: %d", code)
	}
	ev = awaitSSE(t, onB, "view", `"ww":80`)
	t.Logf("shared view A→B: %v", ev.At.Sub(sent).Round(time.Millisecond))

	// And back: bravo's opinion on B reaches alpha on A.
	if code := bravo.do("POST", path+"/opinion", map[string]string{"opinion": "Beam hardening."}, nil); code != http.StatusOK {
		t.Fatalf("opinion: %d", code)
	}
	awaitSSE(t, onA, "opinion", "Beam hardening.")
}
