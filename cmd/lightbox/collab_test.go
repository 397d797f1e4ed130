package main

// Colleagues in real browsers (web/e2e/collab.mjs): the reading room, a
// second opinion with its live thread and opinion, shared viewing and a
// WebRTC call signalled through Lightbox, with two Debian chromium
// instances using fake media devices over loopback; then a patient's
// clinic visit by a single-use link (web/e2e/visit.mjs).

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"lightbox/internal/db"
)

func TestCollabInBrowser(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	needTools(t, "storescu")
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	srv := startServer(t, "demo", "--data", data, "--quiet", "1s")
	defer srv.stop(t)
	studies := filepath.Join(tmp, "studies")
	mustRun(t, "gen", "--out", studies, "--modality", "CT", "--slices", "12", "--patients", "1",
		"--rows", "64", "--columns", "64", "--facility", "SGH", "--seed", "2020")
	study := studyUIDOf(t, studies)
	host, port, _ := net.SplitHostPort(srv.addrs["dicom"].(string))
	if out, err := exec.Command("storescu", append([]string{"-aet", "SGH_CT1", "-aec", "LIGHTBOX", host, port}, dicomFiles(t, studies)...)...).CombinedOutput(); err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}
	// A second opinion is routed by eligibility for a study on the worklist.
	ctx := context.Background()
	d, err := db.Open(ctx, "sqlite:"+filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM read_item WHERE study_uid = ?", study).Scan(&n); err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the study did not reach the worklist")
		}
	}
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
