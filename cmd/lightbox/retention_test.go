package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Retention end to end: the period set through the CLI and the API, a
// legal hold, a dry run that deletes nothing and logs no patient data, a
// run through the API, and an index that still has every byte it names.
func TestRetentionCLIAndAPI(t *testing.T) {
	// 2 patients × 8 studies a year apart (the newest in 2025).
	tmp, studies, data := genData(t, "--modality", "CR", "--patients", "2", "--studies", "8", "--rows", "16", "--columns", "16")
	if _, e, code := run(t, "facility", "add", "--data", data, "--id", "RET", "--name", "Retention Clinic", "--state", "IL", "--timezone", "America/Chicago"); code != 0 {
		t.Fatal(e)
	}
	if out, e, code := run(t, "import", "--data", data, "--facility", "RET", studies); code != 0 {
		t.Fatalf("import: %s %s", out, e)
	}
	mustRun(t, "retention", "set", "--data", data, "--facility", "RET", "--years", "5")
	var dry struct {
		Studies, Instances int
		Items              []struct {
			StudyUID string `json:"study_uid"`
		}
	}
	out, e, code := run(t, "retention", "run", "--data", data, "--dry-run", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &dry) != nil {
		t.Fatalf("dry run: %d %s %s", code, out, e)
	}
	if dry.Studies < 2 || dry.Studies >= 16 {
		t.Fatalf("dry run would delete %d of 16 studies, want the older ones", dry.Studies)
	}
	before, _, _ := run(t, "check", "--data", data)
	if !strings.Contains(before, "instances: 32 ") { // CR: two views a study
		t.Fatalf("the dry run deleted something: %s", before)
	}
	// Hold one expired study.
	held := dry.Items[0].StudyUID
	mustRun(t, "hold", "add", "--data", data, "--study", held, "--reason", "matter 2026-17")
	if out, _, _ := run(t, "hold", "list", "--data", data); !strings.Contains(out, held) || !strings.Contains(out, "1 legal hold(s)") {
		t.Fatalf("hold list: %s", out)
	}

	// The API (an administrator) runs it for real.
	pw := filepath.Join(tmp, "pw")
	_ = os.WriteFile(pw, []byte("retention-test-password\n"), 0o600)
	mustRun(t, "user", "add", "--data", data, "--username", "ret.admin", "--role", "admin", "--password-file", pw)
	if _, e, code := run(t, "user", "add", "--data", data, "--username", "ret.coord", "--role", "coordinator", "--password-file", pw); code != 0 {
		t.Fatal(e)
	}
	s := startServer(t, "serve", "--data", data, "--retention-every", "0") // on demand only
	admin := apiClient{t: t, base: s.http, token: token(t, data, "ret.admin")}
	coord := apiClient{t: t, base: s.http, token: token(t, data, "ret.coord")}
	if code := coord.do("POST", "/api/retention/run", map[string]bool{"dry_run": true}, nil); code != 403 {
		t.Errorf("coordinator ran retention: %d", code)
	}
	if code := admin.do("PUT", "/api/facilities/RET/retention", map[string]int{"years": 5}, nil); code != 200 {
		t.Errorf("set retention: %d", code)
	}
	if code := admin.do("PUT", "/api/facilities/NOPE/retention", map[string]int{"years": 5}, nil); code != 422 {
		t.Errorf("retention of an unknown facility: %d", code)
	}
	var holds []struct {
		ID       int64  `json:"id"`
		StudyUID string `json:"study_uid"`
	}
	if code := admin.do("GET", "/api/retention/holds", nil, &holds); code != 200 || len(holds) != 1 || holds[0].StudyUID != held {
		t.Fatalf("holds: %d %+v", code, holds)
	}
	var rep struct {
		Studies      int `json:"studies"`
		Instances    int `json:"instances"`
		Held         int `json:"held_studies"`
		BlobsDeleted int `json:"blobs_deleted"`
	}
	if code := admin.do("POST", "/api/retention/run", map[string]bool{"dry_run": false}, &rep); code != 200 {
		t.Fatalf("run: %d", code)
	}
	if rep.Studies != dry.Studies-1 || rep.Held != 1 || rep.BlobsDeleted != rep.Instances {
		t.Errorf("run = %+v, want %d studies (one held) and every blob deleted", rep, dry.Studies-1)
	}
	if code := admin.do("DELETE", "/api/retention/holds/999999", nil, nil); code != 404 {
		t.Errorf("remove an unknown hold: %d", code)
	}
	s.stop(t)
	if strings.Contains(s.logText(), held) {
		t.Error("the log names a study")
	}
	out, _, _ = run(t, "check", "--data", data)
	if !strings.Contains(out, "missing blobs: 0") || !strings.Contains(out, fmt.Sprintf("instances: %d ", 32-rep.Instances)) || !strings.Contains(out, "orphan blobs: 0") {
		t.Errorf("check after retention: %s", out)
	}
	// Who ran it is in the audit trail.
	if out, _, _ := run(t, "audit", "verify", "--data", data); !strings.Contains(out, "intact") {
		t.Errorf("audit verify: %s", out)
	}
}
