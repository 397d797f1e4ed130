package main

// The diagnostic viewer in a real browser (web/e2e/viewer.mjs): a generated
// CT with a prior of the same patient, sent with DCMTK storescu, opened by
// two demo radiologists. The expected pixel values come from the DICOM
// files themselves, read here.

import (
	bin "encoding/binary"
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lightbox/internal/dcm"
)

// ctFile is what the browser test checks of one generated CT slice.
type ctFile struct {
	study, date, sop   string
	patient, issuer    string
	rows, cols         int
	spacing            []float64
	thickness, probeHU float64
}

// readCT reads a native (uncompressed) signed 16-bit CT slice and the
// modality value (Rescale Slope/Intercept, PS3.3 C.11.1) at (col, row).
func readCT(t *testing.T, path string, col, row int) ctFile {
	t.Helper()
	raw, d := readDICOM(t, path)
	c := ctFile{study: d.Str(dcm.TagStudyInstanceUID), date: d.Str(dcm.TagStudyDate), sop: d.Str(dcm.TagSOPInstanceUID),
		patient: d.Str(dcm.TagPatientID), issuer: d.Str(dcm.TagIssuerOfPatientID)}
	c.rows, _ = d.Int(dcm.TagRows)
	c.cols, _ = d.Int(dcm.TagColumns)
	for _, s := range d.Strs(dcm.TagPixelSpacing) {
		var v float64
		_ = json.Unmarshal([]byte(strings.TrimSpace(s)), &v)
		c.spacing = append(c.spacing, v)
	}
	c.thickness, _ = d.Float(dcm.TagSliceThickness)
	slope, ok := d.Float(dcm.TagRescaleSlope)
	if !ok {
		slope = 1
	}
	intercept, _ := d.Float(dcm.TagRescaleIntercept)
	px := d.Get(dcm.TagPixelData)
	if px == nil || px.Bulk == nil || px.Bulk.Offset < 0 || px.Bulk.Length < 0 {
		t.Fatalf("%s: no native pixel data", path)
	}
	at := px.Bulk.Offset + int64(row*c.cols+col)*2
	c.probeHU = float64(int16(bin.LittleEndian.Uint16(raw[at:])))*slope + intercept
	return c
}

func TestViewerInBrowser(t *testing.T) {
	needBrowser(t)
	needTools(t, "storescu")
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	srv := startServer(t, "demo", "--data", data, "--quiet", "1s")
	defer srv.stop(t)

	// One patient, two CT studies a year apart: the newer is read, the
	// older is its prior.
	const slices, size = 12, 96
	studies := filepath.Join(tmp, "studies")
	mustRun(t, "gen", "--out", studies, "--modality", "CT", "--slices", "12", "--patients", "1", "--studies", "2",
		"--rows", "96", "--columns", "96", "--facility", "SGH", "--seed", "1616")
	files := dicomFiles(t, studies)
	probe := map[string]int{"col": size/2 + 5, "row": size / 2}
	var cts []ctFile
	current := ctFile{}
	for _, p := range files {
		c := readCT(t, p, probe["col"], probe["row"])
		cts = append(cts, c)
		if c.date > current.date {
			current = c
		}
	}
	values, prior := map[string]float64{}, ""
	for _, c := range cts {
		if c.study == current.study {
			values[c.sop] = c.probeHU
		} else {
			prior = c.study
		}
	}
	if len(values) != slices || len(current.spacing) != 2 {
		t.Fatalf("generated %d slices of the current study, pixel spacing %v", len(values), current.spacing)
	}
	// An MR and a CR (different modules, sizes and photometric handling)
	// must display too.
	others := map[string]map[string]int{}
	for _, m := range []string{"MR", "CR"} {
		dir := filepath.Join(tmp, m)
		mustRun(t, "gen", "--out", dir, "--modality", m, "--slices", "4", "--patients", "1", "--facility", "SGH", "--seed", "1617")
		fs := dicomFiles(t, dir)
		_, d := readDICOM(t, fs[0])
		r, _ := d.Int(dcm.TagRows)
		c, _ := d.Int(dcm.TagColumns)
		others[d.Str(dcm.TagStudyInstanceUID)] = map[string]int{"rows": r, "columns": c}
		files = append(files, fs...)
	}
	host, port, _ := net.SplitHostPort(srv.addrs["dicom"].(string))
	if out, err := exec.Command("storescu", append([]string{"-aet", "SGH_CT1", "-aec", "LIGHTBOX", host, port}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}
	want, _ := json.Marshal(map[string]any{"rows": current.rows, "columns": current.cols, "slices": slices, "spacing": current.spacing,
		"thickness": current.thickness, "probe": probe, "values": values, "others": others})
	runBrowserScript(t, srv, "viewer.mjs", "BASE_URL=http://"+srv.http, "STUDY_UID="+current.study, "PRIOR_UID="+prior, "EXPECT="+string(want))

	// Saving the key image (an update of the study, DICOM 110103 "U") and
	// the colleague's reading are in the patient's audit trail.
	who, e, code := run(t, "audit", "who", "--data", data, "--issuer", current.issuer, "--patient-id", current.patient)
	if code != 0 {
		t.Fatal(e)
	}
	found := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(who), "\n") {
		var ev struct {
			Action, Event, User string
			Studies             []string
		}
		if json.Unmarshal([]byte(line), &ev) == nil && len(ev.Studies) > 0 && ev.Studies[0] == current.study {
			found[ev.User+" "+ev.Event+" "+ev.Action] = true
		}
	}
	for _, want := range []string{"dr.alpha 110103 U", "dr.bravo 110103 R"} {
		if !found[want] {
			t.Errorf("the audit trail lacks %s:\n%s", want, who)
		}
	}
}
