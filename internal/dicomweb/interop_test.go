package dicomweb

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/gen"
)

// interopNode finds node and the dicomweb-client scripts, or skips.
func interopNode(t *testing.T) (node, dir string) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	dir, _ = filepath.Abs("testdata/interop")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "dicomweb-client")); err != nil {
		t.Skip("testdata/interop/node_modules missing: run npm ci there")
	}
	return node, dir
}

// TestInteropDicomwebClient drives the handler with the dicomweb-client npm
// package over a real loopback port: STOW-RS, QIDO-RS, metadata, a frame
// and an instance, which must come back byte-identical and parse with
// DCMTK's dcmdump. Skipped without node or testdata/interop/node_modules
// (run `npm ci` there).
func TestInteropDicomwebClient(t *testing.T) {
	node, dir := interopNode(t)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		insts := generate(t, gen.Options{Modality: "CT", Slices: 3, Patients: 1, Rows: 64, Columns: 64, Facility: "SGH"})
		tmp := t.TempDir()
		args := []string{filepath.Join(dir, "interop.mjs"), e.srv.URL + "/dicomweb", "tokA", tmp}
		for i, in := range insts {
			p := filepath.Join(tmp, "in"+string(rune('0'+i))+".dcm")
			if err := os.WriteFile(p, in.data, 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, p)
		}
		cmd := exec.Command(node, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("dicomweb-client interop failed: %v\n%s", err, out)
		}
		var sum struct {
			Stored, Instances, FrameBytes int
			SOPUID                        string `json:"sopUID"`
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
			t.Fatalf("summary: %v\n%s", err, out)
		}
		if sum.Stored != 3 || sum.Instances != 3 || sum.FrameBytes != 64*64*2 {
			t.Fatalf("summary %+v", sum)
		}
		got, err := os.ReadFile(filepath.Join(tmp, "retrieved.dcm"))
		if err != nil {
			t.Fatal(err)
		}
		want, ok := "", false
		for _, in := range insts {
			if in.sop == sum.SOPUID {
				want, ok = sha(in.data), true
			}
		}
		if !ok || sha(got) != want {
			t.Fatalf("retrieved instance %s differs from the stored one (sha %s, want %s)", sum.SOPUID, sha(got), want)
		}
		if dump, err := exec.LookPath("dcmdump"); err == nil {
			out, err := exec.Command(dump, "-q", filepath.Join(tmp, "retrieved.dcm")).CombinedOutput()
			if err != nil || !strings.Contains(string(out), sum.SOPUID) {
				t.Fatalf("dcmdump: %v\n%.500s", err, out)
			}
		} else {
			t.Log("dcmdump not installed: skipped the DCMTK parse check")
		}
	})
}
