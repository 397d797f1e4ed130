package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An index backed up while the server runs restores into a working data
// folder; PostgreSQL is pointed to pg_dump.
func TestBackupRestore(t *testing.T) {
	tmp, studies, data := genData(t, "--modality", "CT", "--slices", "6", "--patients", "1", "--rows", "32", "--columns", "32")
	s := startServer(t, "serve", "--data", data)
	if out, e, code := run(t, "import", "--data", data, studies); code != 0 {
		t.Fatalf("import: %s %s", out, e)
	}
	backup := filepath.Join(tmp, "backup", "index.db")
	if out, e, code := run(t, "backup", "--data", data, "--out", backup); code != 0 {
		t.Fatalf("backup beside a running server: %s %s", out, e)
	}
	if _, e, code := run(t, "backup", "--data", data, "--out", backup); code == 0 || !strings.Contains(e, "exists") {
		t.Errorf("backup over an existing file: %d %s", code, e)
	}
	s.stop(t)

	// A new node: the restored index, the same blobs.
	restored := filepath.Join(tmp, "restored")
	_ = os.MkdirAll(restored, 0o750)
	if out, e, code := run(t, "restore", "--data", restored, "--from", backup); code != 0 {
		t.Fatalf("restore: %s %s", out, e)
	}
	if _, e, code := run(t, "restore", "--data", restored, "--from", backup); code == 0 || !strings.Contains(e, "--replace") {
		t.Errorf("restore over an index without --replace: %d %s", code, e)
	}
	out, e, code := run(t, "check", "--rehash", "--data", restored, "--blobs", filepath.Join(data, "blobs"))
	if code != 0 || !strings.Contains(out, "instances: 6  missing blobs: 0  corrupt: 0") {
		t.Fatalf("check after restore: %d %s %s", code, out, e)
	}
	notDB := filepath.Join(tmp, "not.db")
	_ = os.WriteFile(notDB, []byte("not a database"), 0o640)
	if _, e, code := run(t, "restore", "--data", filepath.Join(tmp, "x"), "--from", notDB); code == 0 {
		t.Errorf("a file that is no index was restored: %s", e)
	}
	if _, e, code := run(t, "backup", "--db", "postgres://127.0.0.1:1/none", "--out", filepath.Join(tmp, "pg")); code == 0 || !strings.Contains(e, "pg_dump") {
		t.Errorf("PostgreSQL backup: %d %s", code, e)
	}
}
