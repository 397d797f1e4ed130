package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lightbox/internal/db/dbtest"
)

// Retention end to end (SQLite and PostgreSQL, dbtest.EachURL): the period set through the CLI and the API, a
// legal hold, a dry run that deletes nothing and logs no patient data, a
// run through the API, and an index that still has every byte it names.
func TestRetentionCLIAndAPI(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, dbURL string) {
		tmp := t.TempDir()
		studies, data := filepath.Join(tmp, "studies"), filepath.Join(tmp, "data")
		// 2 patients × 8 studies a year apart (the newest in 2025).
		if _, e, code := run(t, "gen", "--out", studies, "--modality", "CR", "--patients", "2", "--studies", "8", "--rows", "16", "--columns", "16"); code != 0 {
			t.Fatal(e)
		}
		if _, e, code := run(t, "facility", "add", "--data", data, "--db", dbURL, "--id", "RET", "--name", "Retention Clinic", "--state", "IL", "--timezone", "America/Chicago"); code != 0 {
			t.Fatal(e)
		}
		if out, e, code := run(t, "import", "--data", data, "--db", dbURL, "--facility", "RET", studies); code != 0 {
			t.Fatalf("import: %s %s", out, e)
		}
		if _, e, code := run(t, "retention", "set", "--data", data, "--db", dbURL, "--facility", "RET", "--years", "5"); code != 0 {
			t.Fatal(e)
		}
		var dry struct {
			Studies, Instances int
			Items              []struct {
				StudyUID string `json:"study_uid"`
			}
		}
		out, e, code := run(t, "retention", "run", "--data", data, "--db", dbURL, "--dry-run", "--json")
		if code != 0 || json.Unmarshal([]byte(out), &dry) != nil {
			t.Fatalf("dry run: %d %s %s", code, out, e)
		}
		if dry.Studies < 2 || dry.Studies >= 16 {
			t.Fatalf("dry run would delete %d of 16 studies, want the older ones", dry.Studies)
		}
		before, _, _ := run(t, "check", "--data", data, "--db", dbURL)
		if !strings.Contains(before, "instances: 32 ") { // CR: two views a study
			t.Fatalf("the dry run deleted something: %s", before)
		}
		// Hold one expired study.
		held := dry.Items[0].StudyUID
		if _, e, code := run(t, "hold", "add", "--data", data, "--db", dbURL, "--study", held, "--reason", "matter 2026-17"); code != 0 {
			t.Fatal(e)
		}
		if out, _, _ := run(t, "hold", "list", "--data", data, "--db", dbURL); !strings.Contains(out, held) || !strings.Contains(out, "1 legal hold(s)") {
			t.Fatalf("hold list: %s", out)
		}

		// The API (an administrator) runs it for real.
		pw := filepath.Join(tmp, "pw")
		_ = os.WriteFile(pw, []byte("retention-test-password\n"), 0o600)
		if _, e, code := run(t, "user", "add", "--data", data, "--db", dbURL, "--username", "ret.admin", "--role", "admin", "--password-file", pw); code != 0 {
			t.Fatal(e)
		}
		if _, e, code := run(t, "user", "add", "--data", data, "--db", dbURL, "--username", "ret.coord", "--role", "coordinator", "--password-file", pw); code != 0 {
			t.Fatal(e)
		}
		s := startServer(t, "serve", "--data", data, "--db", dbURL, "--retention-every", "0") // on demand only
		admin := apiClient{t: t, base: s.http, token: tokenOn(t, data, dbURL, "ret.admin")}
		coord := apiClient{t: t, base: s.http, token: tokenOn(t, data, dbURL, "ret.coord")}
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
		out, _, _ = run(t, "check", "--data", data, "--db", dbURL)
		if !strings.Contains(out, "missing blobs: 0") || !strings.Contains(out, fmt.Sprintf("instances: %d ", 32-rep.Instances)) || !strings.Contains(out, "orphan blobs: 0") {
			t.Errorf("check after retention: %s", out)
		}
		// Who ran it is in the audit trail.
		if out, _, _ := run(t, "audit", "verify", "--data", data, "--db", dbURL); !strings.Contains(out, "intact") {
			t.Errorf("audit verify: %s", out)
		}
	})
}

// tokenOn is token for a node whose index is at dbURL.
func tokenOn(t *testing.T, data, dbURL, user string) string {
	out, errOut, code := run(t, "token", "create", "--data", data, "--db", dbURL, "--username", user, "--name", "e2e")
	if code != 0 {
		t.Fatalf("token: %s", errOut)
	}
	return strings.TrimSpace(out)
}
