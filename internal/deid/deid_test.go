package deid

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"lightbox/internal/dcm"
	"lightbox/internal/gen"
)

// pydicomCorpus is Debian's python3-pydicom test data: real files from many
// vendors and encodings, with identifiers the profile must remove.
const pydicomCorpus = "/usr/lib/python3/dist-packages/pydicom/data/test_files"

type attr struct {
	tag   dcm.Tag
	vr    string
	value string
}

var dumpLine = regexp.MustCompile(`^\s*\(([0-9a-f]{4}),([0-9a-f]{4})\) (\S\S) (.*?)\s+#\s*\d+`)

// dump lists every attribute (nested ones too) as DCMTK's dcmdump prints it.
func dump(t *testing.T, path string) []attr {
	t.Helper()
	out, err := exec.Command("dcmdump", "-q", "+L", "+E", path).Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("dcmdump %s: %v", path, err)
	}
	var as []attr
	for line := range strings.Lines(string(out)) {
		m := dumpLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		g, _ := strconv.ParseUint(m[1], 16, 16)
		e, _ := strconv.ParseUint(m[2], 16, 16)
		as = append(as, attr{tag: dcm.Tag(g<<16 | e), vr: m[3], value: m[4]})
	}
	return as
}

func empty(v string) bool {
	return v == "" || v == "[]" || v == "(no value available)" || strings.HasPrefix(v, "(Sequence") || strings.HasPrefix(v, "(Item") ||
		strings.HasPrefix(v, "(PixelSequence")
}

// check compares dcmdump of the original and of the de-identified file:
// no attribute Table E.1-1 lists keeps its original non-empty value, no
// private attribute survives, and the meta SOP Instance UID follows the
// remapped one.
func check(t *testing.T, orig, anon string) []attr {
	t.Helper()
	before, after := dump(t, orig), dump(t, anon)
	had := map[attr]bool{}
	for _, a := range before {
		if _, listed := Lookup(a.tag); listed && !empty(a.value) {
			had[attr{tag: a.tag, value: a.value}] = true
		}
	}
	var sop, meta string
	for _, a := range after {
		if g := uint32(a.tag) >> 16; g%2 == 1 {
			t.Errorf("%s: private attribute %s remains", filepath.Base(orig), a.tag)
		}
		if had[attr{tag: a.tag, value: a.value}] {
			r, _ := Lookup(a.tag)
			t.Errorf("%s: %s %s (%s) keeps its original value %s", filepath.Base(orig), a.tag, r.Name, r.Action, a.value)
		}
		switch a.tag {
		case dcm.TagSOPInstanceUID:
			if sop == "" { // the top level's; items of sequences come after it
				sop = a.value
			}
		case 0x00020003:
			meta = a.value
		}
	}
	if sop != "" && sop != meta {
		t.Errorf("%s: SOP Instance UID %s, meta %s", filepath.Base(orig), sop, meta)
	}
	return after
}

func deidentify(t *testing.T, m *Remapper, src []byte, dir, name string) (string, string, Instance, error) {
	t.Helper()
	orig := filepath.Join(dir, name+".orig.dcm")
	anon := filepath.Join(dir, name+".anon.dcm")
	if err := os.WriteFile(orig, src, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	inst, err := File(src, &out, m, Options{PatientName: "TEACHING^CASE", PatientID: "TF1"})
	if err != nil {
		return orig, anon, inst, err
	}
	if err := os.WriteFile(anon, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return orig, anon, inst, nil
}

func needDcmdump(t *testing.T) {
	if _, err := exec.LookPath("dcmdump"); err != nil {
		t.Skip("DCMTK dcmdump not installed")
	}
}

// A generated CT study: every listed attribute goes, and the study, series
// and frame-of-reference UIDs map to one new UID each across all images.
func TestDeidentifyGeneratedStudy(t *testing.T) {
	needDcmdump(t)
	dir := t.TempDir()
	m := &Remapper{Secret: "s1"}
	studies, series, frames := map[string]bool{}, map[string]bool{}, map[string]bool{}
	origSeries := map[string]bool{}
	n := 0
	err := gen.Each(context.Background(), gen.Options{Modality: "CT", Slices: 3, Patients: 1, Seed: 7}, func(inst *gen.Instance) error {
		b, err := gen.Encode(inst)
		if err != nil {
			return err
		}
		origSeries[inst.Dataset.Str(0x0020000E)] = true
		orig, anon, res, err := deidentify(t, m, b, dir, strconv.Itoa(n))
		if err != nil {
			return err
		}
		n++
		studies[res.StudyUID], series[res.SeriesUID] = true, true
		for _, a := range check(t, orig, anon) {
			switch a.tag {
			case 0x00200052:
				frames[a.value] = true
			case 0x00100010:
				if a.value != "[TEACHING^CASE]" {
					t.Errorf("patient name %s", a.value)
				}
			case TagPatientIdentityRemoved:
				if a.value != "[YES]" {
					t.Errorf("Patient Identity Removed %s", a.value)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 || len(studies) != 1 || len(series) != len(origSeries) || len(frames) > len(origSeries) {
		t.Fatalf("%d instances: %d studies, %d series (of %d), %d frames of reference", n, len(studies), len(series), len(origSeries), len(frames))
	}
	// The same original UID maps to the same new UID on a second pass, and
	// a different secret gives different UIDs.
	if a, b := m.UID("1.2.3"), (&Remapper{Secret: "s1"}).UID("1.2.3"); a != b || a == (&Remapper{Secret: "s2"}).UID("1.2.3") || !dcm.ValidUID(a) {
		t.Fatalf("remap not consistent: %s %s", a, b)
	}
}

// Every file of the pydicom corpus that Lightbox's codec reads is
// de-identified and checked with dcmdump; files the codec refuses (the
// corpus holds deliberately broken ones) are listed.
func TestDeidentifyPydicomCorpus(t *testing.T) {
	needDcmdump(t)
	files, _ := filepath.Glob(filepath.Join(pydicomCorpus, "*.dcm"))
	if len(files) == 0 {
		t.Skip("python3-pydicom test files not installed")
	}
	dir := t.TempDir()
	done, refused := 0, []string{}
	for i, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := &Remapper{Secret: "corpus"}
		_, anon, _, err := deidentify(t, m, src, dir, strconv.Itoa(i))
		switch {
		case errors.Is(err, ErrBurnedIn):
			refused = append(refused, filepath.Base(f)+" (burned-in annotation)")
			continue
		case err != nil:
			refused = append(refused, filepath.Base(f)+": "+err.Error())
			continue
		}
		check(t, f, anon)
		done++
	}
	t.Logf("de-identified and checked %d of %d files; not read: %s", done, len(files), strings.Join(refused, "; "))
	if done < len(files)*3/4 {
		t.Fatalf("only %d of %d files de-identified", done, len(files))
	}
}

func TestBurnedInRefused(t *testing.T) {
	ds := &dcm.Dataset{}
	ds.SetStr(TagBurnedInAnnotation, "YES")
	if _, err := Dataset(ds, &Remapper{}, Options{}); !errors.Is(err, ErrBurnedIn) {
		t.Fatalf("burned-in annotation not refused: %v", err)
	}
	ds = &dcm.Dataset{}
	if r, err := Dataset(ds, &Remapper{}, Options{}); err != nil || !r.BurnedInUnknown {
		t.Fatalf("unknown burned-in annotation not flagged: %+v %v", r, err)
	}
}

func TestTable(t *testing.T) {
	if len(Table) < 600 {
		t.Fatalf("Table E.1-1 has %d rows", len(Table))
	}
	for _, c := range []struct {
		tag    dcm.Tag
		action Action
	}{{0x00100010, "Z"}, {0x0020000D, "U"}, {0x00080050, "Z"}, {0x50001234, "X"}, {0x60103000, "X"}} {
		if r, ok := Lookup(c.tag); !ok || r.Action != c.action {
			t.Errorf("%s: %+v", c.tag, r)
		}
	}
}
