package main

// MPR, the mammography hanging protocol and a viewer window in a real
// browser (web/e2e/viewer-mpr.mjs): a generated CT volume and a
// mammogram with a prior of the same patient, sent with DCMTK storescu.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	mrFiles, mr := mrBrainFourSeries(t, filepath.Join(tmp, "mr"), gen)

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
	if out, err := exec.Command("storescu", append([]string{"-aet", "SGH_CT1", "-aec", "LIGHTBOX", host, port}, append(append(ctFiles, mgFiles...), mrFiles...)...)...).CombinedOutput(); err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}
	want, _ := json.Marshal(map[string]any{"ct": ct, "ctSlices": ctSlices, "mg": mg, "mgPrior": mgPrior, "mgViews": views, "mr": mr})
	runBrowserScript(t, srv, "viewer-mpr.mjs", "BASE_URL=http://"+srv.http, "EXPECT="+string(want))
}

// mrBrainFourSeries generates an MR brain (its T2 and T1 series) and adds
// a FLAIR and a DWI series made from copies of them with DCMTK dcmodify
// (new series and SOP Instance UIDs), so the 2×2 hanging has its four key
// sequences. It returns the files and, for the browser test, the study UID
// and the series UID of each label.
func mrBrainFourSeries(t *testing.T, dir string, gen func(string, ...string) []string) ([]string, map[string]any) {
	t.Helper()
	needTools(t, "dcmodify")
	files := gen(dir, "--modality", "MR", "--procedure", "MR_BRAIN", "--slices", "6", "--rows", "64", "--columns", "64", "--seed", "1662")
	series := map[string]string{}
	study := ""
	var out []string
	for i, p := range files {
		_, d := readDICOM(t, p)
		study = d.Str(dcm.TagStudyInstanceUID)
		label, copyAs, number := "T1", "DWI", "9"
		if strings.Contains(d.Str(dcm.TagSeriesDescription), "T2") {
			label, copyAs, number = "T2", "FLAIR", "8"
		}
		series[label] = d.Str(dcm.TagSeriesInstanceUID)
		uid := d.Str(dcm.TagSeriesInstanceUID) + ".9"
		series[copyAs] = uid
		cp := filepath.Join(dir, fmt.Sprintf("copy-%d.dcm", i))
		raw, _ := os.ReadFile(p)
		if err := os.WriteFile(cp, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command("dcmodify", "-nb", "-gin", "-m", "(0020,000E)="+uid, "-m", "(0008,103E)=AX "+copyAs, "-m", "(0020,0011)="+number, cp).CombinedOutput(); err != nil {
			t.Fatalf("dcmodify: %v\n%s", err, b)
		}
		out = append(out, p, cp)
	}
	return out, map[string]any{"study": study, "series": series}
}

// readDICOM reads a Part 10 file: its bytes and its data set.
func readDICOM(t *testing.T, path string) ([]byte, *dcm.Dataset) {
	t.Helper()
	raw, f := readPart10(t, path)
	return raw, f.Dataset
}

// readPart10 reads a Part 10 file: its bytes and the parsed file.
func readPart10(t *testing.T, path string) ([]byte, *dcm.File) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := dcm.ReadFile(bytes.NewReader(raw), dcm.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return raw, f
}
