package main

// The pydicom corpus through the binary: stored by STOW-RS (odd files by
// C-STORE too) and returned unchanged by WADO-RS, C-GET and C-MOVE.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"lightbox/internal/dcm"
)

const pydicomTestFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files"

// corpusInstance is a corpus file and what identifies its data set.
type corpusInstance struct {
	path                   string
	sop, study, series, ts string
	digest                 string // SHA-256 of the data set bytes (after any meta)
	wireDigest             string // the same on the DICOM wire (deflated: padded to even length, PS3.5 A.5)
}

// readCorpus parses the pydicom corpus files the archive can store, in
// rounds whose SOP Instance UIDs are distinct: several files are one
// instance in different syntaxes, and each round replaces the previous
// round's variant.
func readCorpus(t *testing.T) [][]corpusInstance {
	t.Helper()
	var paths []string
	_ = filepath.WalkDir(filepath.Dir(pydicomTestFiles), func(p string, de os.DirEntry, err error) error {
		if err == nil && de.Type().IsRegular() && (filepath.Ext(p) == ".dcm" || strings.Contains(p, "dicomdirtests/")) {
			paths = append(paths, p)
		}
		return nil
	})
	if len(paths) == 0 {
		t.Skip("python3-pydicom is not installed")
	}
	sort.Strings(paths)
	seen := map[string]int{}
	var out [][]corpusInstance
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := dcm.ReadFile(bytes.NewReader(data), dcm.ReadOptions{})
		if err != nil {
			continue
		}
		in := corpusInstance{path: p, sop: f.Dataset.Str(dcm.TagSOPInstanceUID), study: f.Dataset.Str(dcm.TagStudyInstanceUID),
			series: f.Dataset.Str(dcm.TagSeriesInstanceUID), ts: f.TransferSyntax.UID}
		if in.sop == "" || in.study == "" || in.series == "" {
			continue
		}
		round := seen[in.sop]
		seen[in.sop]++
		ds := data[f.DatasetOffset:]
		sum := sha256.Sum256(ds)
		in.digest, in.wireDigest = hex.EncodeToString(sum[:]), hex.EncodeToString(sum[:])
		if in.ts == dcm.DeflatedExplicitVRLittleEndian && len(ds)%2 == 1 {
			sum = sha256.Sum256(append(ds[:len(ds):len(ds)], 0))
			in.wireDigest = hex.EncodeToString(sum[:])
		}
		if round == len(out) {
			out = append(out, nil)
		}
		out[round] = append(out[round], in)
	}
	return out
}

// datasetDigests maps the data set SOP Instance UID of every Part 10 file
// under dir to the SHA-256 of its data set bytes.
func datasetDigests(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, p := range dicomFiles(t, dir) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := dcm.ReadFile(bytes.NewReader(data), dcm.ReadOptions{})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		sum := sha256.Sum256(data[f.DatasetOffset:])
		m[f.Dataset.Str(dcm.TagSOPInstanceUID)] = hex.EncodeToString(sum[:])
	}
	return m
}

// preferTS is the getscu option that proposes a stored syntax, so the
// instance travels as stored.
var preferTS = map[string]string{
	dcm.JPEGBaseline8Bit: "+xy", dcm.JPEGExtended12Bit: "+xx", dcm.JPEGLosslessSV1: "+xs", dcm.JPEGLSLossless: "+xt",
	dcm.JPEGLSNearLossless: "+xu", dcm.JPEG2000Lossless: "+xv", dcm.JPEG2000: "+xw", dcm.RLELossless: "+xr",
	dcm.DeflatedExplicitVRLittleEndian: "+xd", dcm.ExplicitVRBigEndian: "+xb", dcm.ImplicitVRLittleEndian: "+xi",
}

// TestPydicomCorpusRoundTrip stores every storable pydicom corpus file
// with STOW-RS and checks that WADO-RS, C-GET (DCMTK getscu) and C-MOVE
// (movescu into storescp) return each data set byte for byte.
func TestPydicomCorpusRoundTrip(t *testing.T) {
	needTools(t, "getscu", "movescu", "storescp")
	rounds := readCorpus(t)
	tmp := t.TempDir()
	data, bearer := corpusNode(t, tmp, "CORPUSSCU")
	movedDir := filepath.Join(tmp, "moved")
	scpPort := startStorescp(t, "CORPUSDEST", movedDir, "+xa")
	mustRun(t, "ae", "add", "--data", data, "--aet", "CORPUSDEST", "--host", "127.0.0.1", "--port", scpPort, "--facility", "*")
	// Each round replaces the previous round's variant of an instance.
	s := startServer(t, "serve", "--data", data, "--duplicates", "replace")
	defer s.stop(t)
	host, port := hostPort(s.addrs["dicom"].(string))
	getDir, wadoDir := filepath.Join(tmp, "got"), filepath.Join(tmp, "wado")
	total, same := 0, map[string]int{}
	for r, corpus := range rounds {
		for _, dir := range []string{getDir, wadoDir, movedDir} {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				_ = os.RemoveAll(filepath.Join(dir, e.Name()))
			}
			_ = os.MkdirAll(dir, 0o750)
		}
		for i, in := range corpus {
			data, _ := os.ReadFile(in.path)
			if status, body := mustStow(t, s.http, bearer, data); status != http.StatusOK && status != http.StatusAccepted {
				t.Errorf("STOW-RS %s: %d %s", filepath.Base(in.path), status, body)
				continue
			}
			keys := []string{"-k", "QueryRetrieveLevel=IMAGE", "-k", "StudyInstanceUID=" + in.study, "-k", "SeriesInstanceUID=" + in.series, "-k", "SOPInstanceUID=" + in.sop}
			// +B: write data sets as received; propose the stored syntax.
			args := append([]string{"+B", "-S", "-aet", "CORPUSSCU", "-aec", "LIGHTBOX", "-od", getDir}, keys...)
			if opt := preferTS[in.ts]; opt != "" {
				args = append([]string{opt}, args...)
			}
			if out, err := exec.Command("getscu", append(args, host, port)...).CombinedOutput(); err != nil {
				t.Errorf("getscu %s: %v\n%s", filepath.Base(in.path), err, out)
			}
			if out, err := exec.Command("movescu", append(append([]string{"-S", "-aet", "CORPUSSCU", "-aec", "LIGHTBOX", "-aem", "CORPUSDEST"}, keys...), host, port)...).CombinedOutput(); err != nil {
				t.Errorf("movescu %s: %v\n%s", filepath.Base(in.path), err, out)
			}
			_ = os.WriteFile(filepath.Join(wadoDir, fmt.Sprintf("%d.dcm", i)), wadoInstance(t, s.http, bearer, in), 0o600)
		}
		for name, dir := range map[string]string{"WADO-RS": wadoDir, "C-GET": getDir, "C-MOVE": movedDir} {
			got := datasetDigests(t, dir)
			for _, in := range corpus {
				switch g, ok := got[in.sop]; {
				case !ok:
					t.Errorf("round %d, %s: %s (%s) not returned", r+1, name, filepath.Base(in.path), in.ts)
				case name == "C-GET" && in.ts == dcm.ImplicitVRLittleEndian:
					// getscu proposes only explicit VR for storage (even
					// with +xi): the values must survive the re-encoding.
					orig, _ := os.ReadFile(in.path)
					got, err := os.ReadFile(filepath.Join(dir, in.sop)) // getscu names files by SOP Instance UID
					if err != nil || canonicalOf(t, got) != canonicalOf(t, orig) {
						t.Errorf("round %d, %s: %s (%s) returned with different values", r+1, name, filepath.Base(in.path), in.ts)
					} else {
						same[name]++
					}
				case g != in.digest && (name == "WADO-RS" || g != in.wireDigest):
					t.Errorf("round %d, %s: %s (%s) returned with a different data set", r+1, name, filepath.Base(in.path), in.ts)
				default:
					same[name]++
				}
			}
		}
		total += len(corpus)
	}
	t.Logf("%d corpus files in %d rounds; returned byte for byte: %v", total, len(rounds), same)
}

// TestOddFilesByCStore: the files real sites send that were refused
// before (meta/data set mismatch, no preamble) go in by C-STORE from DCMTK
// storescu as well as by STOW-RS, and their warnings are listed by
// `lightbox warnings`.
func TestOddFilesByCStore(t *testing.T) {
	needTools(t, "storescu")
	if _, err := os.Stat(pydicomTestFiles); err != nil {
		t.Skip("python3-pydicom is not installed")
	}
	data, bearer := corpusNode(t, t.TempDir(), "CORPUSMOD")
	s := startServer(t, "serve", "--data", data, "--duplicates", "replace")
	defer s.stop(t)
	host, port := hostPort(s.addrs["dicom"].(string))
	odd := []string{"rtdose.dcm", "rtplan.dcm", "rtstruct.dcm"}
	for _, name := range odd {
		path := filepath.Join(pydicomTestFiles, name)
		if out, err := exec.Command("storescu", "-aet", "CORPUSMOD", "-aec", "LIGHTBOX", host, port, path).CombinedOutput(); err != nil {
			t.Errorf("storescu %s: %v\n%s", name, err, out)
		}
		b, _ := os.ReadFile(path)
		if status, body := mustStow(t, s.http, bearer, b); status != http.StatusOK && status != http.StatusAccepted {
			t.Errorf("STOW-RS %s: %d %s", name, status, body)
		}
	}
	// A refusal says why in the Error Comment: here, an AE registered
	// without a facility.
	mustRun(t, "ae", "add", "--data", data, "--aet", "NOFACILITY", "--host", "127.0.0.1", "--port", "1")
	dump, _ := exec.Command("storescu", "-d", "-aet", "NOFACILITY", "-aec", "LIGHTBOX", host, port, filepath.Join(pydicomTestFiles, "CT_small.dcm")).CombinedOutput()
	if !strings.Contains(string(dump), "0x0124") || !strings.Contains(string(dump), "calling AE has no facility") {
		t.Errorf("C-STORE from an AE without a facility: no Error Comment:\n%s", dump)
	}
	out, e, code := run(t, "warnings", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("warnings: %s", e)
	}
	var warnings []struct{ SOPInstanceUID, Code, Detail string }
	if err := json.Unmarshal([]byte(out), &warnings); err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, w := range warnings {
		codes[w.Code] = true
	}
	for _, c := range []string{"meta-sop-instance-mismatch", "no-meta"} {
		if !codes[c] {
			t.Errorf("no %s warning in %+v", c, warnings)
		}
	}
	// The coordinator sees them over the API too.
	req, _ := http.NewRequest("GET", "http://"+s.http+"/api/warnings", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var api []map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&api); err != nil || resp.StatusCode != 200 || len(api) != len(warnings) {
		t.Errorf("GET /api/warnings: %d %v, %d warnings (CLI %d)", resp.StatusCode, err, len(api), len(warnings))
	}
}

// corpusNode prepares a data folder under tmp with a coordinator (whose
// bearer token it returns) and an AE allowed for every facility.
func corpusNode(t *testing.T, tmp, aet string) (data, bearer string) {
	t.Helper()
	data = filepath.Join(tmp, "data")
	pw := filepath.Join(tmp, "pw")
	_ = os.WriteFile(pw, []byte("corpus-test-password\n"), 0o600)
	if _, e, code := run(t, "user", "add", "--data", data, "--username", "corpus", "--role", "coordinator", "--password-file", pw); code != 0 {
		t.Fatalf("user add: %s", e)
	}
	mustRun(t, "ae", "add", "--data", data, "--aet", aet, "--host", "127.0.0.1", "--port", "1", "--facility", "*")
	return data, token(t, data, "corpus")
}

// wadoInstance retrieves one instance as stored.
func wadoInstance(t *testing.T, addr, bearer string, in corpusInstance) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/dicomweb/studies/"+in.study+"/series/"+in.series+"/instances/"+in.sop, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/dicom; transfer-syntax=*")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Errorf("WADO-RS %s: %d %s", filepath.Base(in.path), resp.StatusCode, b)
	}
	return b
}

// canonicalOf is the SHA-256 of a file's data set decoded and re-encoded
// as Explicit VR Little Endian (see canonicalSHAs), for any file the
// reader accepts.
func canonicalOf(t *testing.T, data []byte) string {
	t.Helper()
	f, err := dcm.ReadFile(bytes.NewReader(data), dcm.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dcm.ReadDataset(bytes.NewReader(data[f.DatasetOffset:]), f.TransferSyntax.UID, dcm.ReadOptions{LoadBulk: true, MaxValueLength: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	var enc bytes.Buffer
	if err := dcm.WriteDataset(&enc, ds, dcm.ExplicitVRLittleEndian); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(enc.Bytes())
	return hex.EncodeToString(sum[:])
}
