package main

// MPR, the mammography hanging protocol and a viewer window in a real
// browser (web/e2e/viewer-mpr.mjs): a generated CT volume and a
// mammogram with a prior of the same patient, sent with DCMTK storescu.

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"lightbox/internal/dcm"
)

func TestViewerMPRAndHangingInBrowser(t *testing.T) {
	needBrowser(t)
	needTools(t, "storescu")
	tmp := t.TempDir()
	srv := startServer(t, "demo", "--data", filepath.Join(tmp, "data"), "--quiet", "1s")
	defer srv.stop(t)

	const ctSlices = 40
	gen := func(dir string, args ...string) []string {
		t.Helper()
		mustRun(t, append([]string{"gen", "--out", dir, "--patients", "1", "--facility", "SGH"}, args...)...)
		return dicomFiles(t, dir)
	}
	ctFiles := gen(filepath.Join(tmp, "ct"), "--modality", "CT", "--slices", "40", "--rows", "64", "--columns", "64", "--seed", "1660")
	mgFiles := gen(filepath.Join(tmp, "mg"), "--modality", "MG", "--slices", "4", "--studies", "2", "--rows", "128", "--columns", "96", "--seed", "1661")

	// The expected view of every mammogram image, from the file's Image
	// Laterality and View Position; the newer study is the current one.
	views := map[string]string{}
	dates := map[string]string{}
	for _, p := range mgFiles {
		_, d := readDICOM(t, p)
		views[d.Str(dcm.TagSOPInstanceUID)] = d.Str(dcm.TagImageLaterality) + d.Str(dcm.TagViewPosition)
		dates[d.Str(dcm.TagStudyInstanceUID)] = d.Str(dcm.TagStudyDate)
	}
	mg, mgPrior := "", ""
	for uid, date := range dates {
		if mg == "" || date > dates[mg] {
			mg, mgPrior = uid, mg
		} else {
			mgPrior = uid
		}
	}
	_, first := readDICOM(t, ctFiles[0])
	ct := first.Str(dcm.TagStudyInstanceUID)
	if len(dates) != 2 || len(views) != 8 || len(ctFiles) != ctSlices {
		t.Fatalf("generated %d MG studies, %d MG images, %d CT slices", len(dates), len(views), len(ctFiles))
	}

	host, port, _ := net.SplitHostPort(srv.addrs["dicom"].(string))
	if out, err := exec.Command("storescu", append([]string{"-aet", "SGH_CT1", "-aec", "LIGHTBOX", host, port}, append(ctFiles, mgFiles...)...)...).CombinedOutput(); err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}
	want, _ := json.Marshal(map[string]any{"ct": ct, "ctSlices": ctSlices, "mg": mg, "mgPrior": mgPrior, "mgViews": views})
	runBrowserScript(t, srv, "viewer-mpr.mjs", "BASE_URL=http://"+srv.http, "EXPECT="+string(want))
}

// readDICOM reads a Part 10 file: its bytes and its data set.
func readDICOM(t *testing.T, path string) ([]byte, *dcm.Dataset) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := dcm.ReadFile(bytes.NewReader(raw), dcm.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return raw, f.Dataset
}
