package dicomweb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lightbox/internal/archive"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
	"lightbox/internal/dcm/codec"
)

// pydicomCorpus is where Debian's python3-pydicom keeps its test files.
const pydicomCorpus = "/usr/lib/python3/dist-packages/pydicom/data"

// corpusFiles lists every DICOM candidate of the pydicom corpus (every file
// but its Python, text, JSON and archive files).
func corpusFiles(t *testing.T) []string {
	var files []string
	_ = filepath.WalkDir(pydicomCorpus, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return nil
		}
		switch filepath.Ext(p) {
		case ".py", ".pyc", ".json", ".txt", ".dump", ".gz", ".md":
			return nil
		}
		files = append(files, p)
		return nil
	})
	if len(files) == 0 {
		t.Skip("python3-pydicom is not installed (apt-get install python3-pydicom)")
	}
	return files
}

// mustStore are the files real sites send that the archive must accept:
// meta/data set mismatches, no preamble or meta, UN sequences, and every
// compressed syntax OHIF failed on.
var mustStore = []string{"rtdose.dcm", "rtplan.dcm", "rtstruct.dcm", "ExplVR_BigEndNoMeta.dcm", "ExplVR_LitEndNoMeta.dcm",
	"MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm", "JPEG2000.dcm",
	"SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_jpeg_gdcm.dcm", "JPGExtended.dcm", "image_dfl.dcm", "MR_small_bigendian.dcm"}

type corpusResult struct {
	File, SOPUID, StowError, AnyError, EleError, Retrieved, Fatal string
	Stored                                                        bool
	Status                                                        int
	Failed                                                        []struct {
		UID     string
		Reason  int
		Comment string
	}
	Frames, Rows, Columns, Samples, Bits int
	Photometric                          string
	AnyBytes, EleBytes                   []int
	OhifStatus                           int
	OhifTypes                            []string
}

// TestPydicomCorpusThroughDicomwebClient stores every file of the pydicom
// corpus with dicomweb-client and reads it back as OHIF does: each frame
// with transfer-syntax=* comes back as stored, its syntax in the part's
// Content-Type; each frame as Explicit VR Little Endian comes back decoded
// where this build has a decoder and 406 otherwise; each instance comes
// back byte for byte. Refusals name a failure reason and a comment.
func TestPydicomCorpusThroughDicomwebClient(t *testing.T) {
	node, dir := interopNode(t)
	files := corpusFiles(t)
	// Several corpus files share a SOP Instance UID in different syntaxes;
	// replace makes each one the instance read back right after its store.
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, archive.Options{Duplicates: archive.Replace})
		out, err := exec.Command(node, append([]string{filepath.Join(dir, "corpus.mjs"), e.srv.URL + "/dicomweb", "admin", t.TempDir()}, files...)...).Output()
		if err != nil {
			t.Fatalf("corpus.mjs: %v\n%s", err, out)
		}
		results := map[string]corpusResult{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var r corpusResult
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			rel, _ := filepath.Rel(pydicomCorpus, r.File)
			results[rel] = r
			if r.Fatal != "" {
				t.Errorf("%s: %s", r.File, r.Fatal)
			}
		}
		if len(results) != len(files) {
			t.Fatalf("%d results for %d files", len(results), len(files))
		}
		for _, name := range mustStore {
			if !results["test_files/"+name].Stored {
				t.Errorf("%s refused: %+v", name, results[name])
			}
		}
		stored, refused, decoded := 0, 0, 0
		for name, r := range results {
			if !r.Stored {
				refused++
				if r.Status != 409 || len(r.Failed) != 1 || r.Failed[0].Reason == 0 || r.Failed[0].Comment == "" {
					t.Errorf("%s: refusal without a reason: %+v", name, r)
				}
				t.Logf("refused %s: 0x%04X %s", name, r.Failed[0].Reason, r.Failed[0].Comment)
				continue
			}
			stored++
			input, _ := os.ReadFile(r.File)
			got, _ := os.ReadFile(r.Retrieved)
			if err := sameDataset(got, input); err != nil {
				t.Errorf("%s: WADO-RS instance: %v", name, err)
			}
			if r.Frames == 0 {
				continue
			}
			f, err := dcm.ReadFile(bytes.NewReader(input), dcm.ReadOptions{})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ts := f.TransferSyntax
			wantTS := ts.UID
			if !ts.Encapsulated {
				wantTS = dcm.ExplicitVRLittleEndian
			}
			if r.AnyError != "" || len(r.AnyBytes) != r.Frames || r.OhifStatus != 200 || len(r.OhifTypes) != r.Frames {
				t.Errorf("%s: frames with transfer-syntax=*: %+v", name, r)
				continue
			}
			for _, ct := range r.OhifTypes {
				if ct != "application/octet-stream; transfer-syntax="+wantTS {
					t.Errorf("%s: part Content-Type %q, want the stored syntax %s", name, ct, wantTS)
				}
			}
			frameSize := r.Rows * r.Columns * r.Samples * r.Bits / 8
			if r.Photometric == "YBR_FULL_422" && !ts.Encapsulated {
				frameSize = frameSize * 2 / 3
			}
			switch {
			case r.Bits%8 != 0:
				// 1-bit frames are not byte aligned: served whole.
			case ts.Encapsulated && !codec.CanDecode(ts.UID):
				if r.EleError != "406" {
					t.Errorf("%s: %s frames as Explicit VR Little Endian: want 406, got %+v", name, ts.Name, r)
				}
			case name == "test_files/JPEG2000-embedded-sequence-delimiter.dcm":
				// Its codestream is corrupted on purpose: decoding may fail.
			case r.EleError != "" || len(r.EleBytes) != r.Frames:
				t.Errorf("%s: %s frames as Explicit VR Little Endian: %s", name, ts.Name, r.EleError)
			default:
				for _, n := range r.EleBytes {
					if n != frameSize {
						t.Errorf("%s: decoded frame of %d bytes, want %d", name, n, frameSize)
					}
				}
				if ts.Encapsulated || ts.BigEndian {
					decoded++
				}
			}
		}
		ws, err := e.a.Warnings(context.Background(), archive.WarningFilter{All: true})
		if err != nil {
			t.Fatal(err)
		}
		warned := map[string]bool{}
		for _, w := range ws {
			warned[w.SOPInstanceUID] = true
		}
		for _, name := range []string{"rtdose.dcm", "rtplan.dcm", "rtstruct.dcm"} {
			if !warned[results["test_files/"+name].SOPUID] {
				t.Errorf("%s: stored without a warning", name)
			}
		}
		t.Logf("%d files: %d stored (%d decoded to Explicit VR Little Endian), %d refused with reasons, %d warnings", len(files), stored, decoded, refused, len(ws))
	})
}

// sameDataset checks that a retrieved Part 10 file carries exactly the data
// set bytes of the file that was stored (its meta may have been completed).
func sameDataset(got, sent []byte) error {
	if len(got) < 132 || string(got[128:132]) != "DICM" {
		return errors.New("not a Part 10 file")
	}
	_, goff, err := dcm.ReadHeader(bytes.NewReader(got))
	if err != nil {
		return err
	}
	_, soff, err := dcm.ReadHeader(bytes.NewReader(sent))
	if err != nil {
		return err
	}
	if sha256.Sum256(got[goff:]) != sha256.Sum256(sent[soff:]) {
		return fmt.Errorf("data set digest differs (%d bytes from offset %d, sent %d from %d)", len(got)-int(goff), goff, len(sent)-int(soff), soff)
	}
	return nil
}
