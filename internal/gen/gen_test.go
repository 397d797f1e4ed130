package gen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/suyashkumar/dicom"

	"lightbox/internal/dcm"
)

var allModalities = []string{"CT", "MR", "CR", "DX", "US", "MG"}

// small keeps test studies cheap.
func small(mod string) Options {
	o := Options{Modality: mod, Patients: 1, Slices: 6}
	switch mod {
	case "MR":
		o.Rows, o.Columns = 256, 256
	case "CT":
		o.Rows, o.Columns = 256, 256
	case "CR", "DX", "MG":
		o.Rows, o.Columns = 512, 416
	case "US":
		o.Rows, o.Columns, o.Slices = 240, 320, 4
	}
	return o
}

func need(t *testing.T, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		t.Skipf("%s not installed", bin)
	}
	return p
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func readFile(t *testing.T, path string) *dcm.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	df, err := dcm.ReadFile(f, dcm.ReadOptions{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return df
}

// dcmdumpClean runs dcmdump -q and fails on a non-zero exit or any output on
// stderr (warnings and errors go there).
func dcmdumpClean(t *testing.T, paths ...string) {
	t.Helper()
	bin := need(t, "dcmdump")
	for _, p := range paths {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "-q", "-dc", p)
		cmd.Stdout = nil
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("dcmdump %s: %v %s", p, err, stderr.String())
		}
	}
}

// dciodvfy returns the warnings for one file and fails on any Error line.
func dciodvfy(t *testing.T, path string) []string {
	t.Helper()
	bin := need(t, "dciodvfy")
	out, _ := exec.Command(bin, path).CombinedOutput()
	var warn []string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "Error"):
			t.Errorf("dciodvfy %s: %s", filepath.Base(path), line)
		case strings.HasPrefix(line, "Warning") && !strings.Contains(line, "DICOMDIR"):
			warn = append(warn, line)
		}
	}
	return warn
}

func TestModalities(t *testing.T) {
	for _, mod := range allModalities {
		t.Run(mod, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			sum, err := WriteDir(context.Background(), dir, small(mod))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"CT": 6, "MR": 12, "CR": 2, "DX": 2, "US": 2, "MG": 4}[mod]
			if sum.Instances != want || len(sum.Studies) != 1 || sum.Patients != 1 {
				t.Fatalf("summary %+v, want %d instances", sum, want)
			}
			paths := files(t, dir)
			if len(paths) != want {
				t.Fatalf("%d files, want %d", len(paths), want)
			}
			var total int64
			sops := map[string]bool{}
			for _, p := range paths {
				if strings.Contains(filepath.Base(p), ".tmp") {
					t.Errorf("temporary file left: %s", p)
				}
				fi, _ := os.Stat(p)
				total += fi.Size()
				f := readFile(t, p)
				ds := f.Dataset
				if f.TransferSyntax.UID != dcm.ExplicitVRLittleEndian {
					t.Errorf("ts %s", f.TransferSyntax.UID)
				}
				sop := ds.Str(dcm.TagSOPInstanceUID)
				if sops[sop] {
					t.Errorf("duplicate SOP Instance UID %s", sop)
				}
				sops[sop] = true
				if f.Meta.Str(dcm.TagMediaStorageSOPInstanceUID) != sop {
					t.Error("meta SOP instance UID differs")
				}
				if ds.Str(dcm.TagStudyInstanceUID) != sum.StudyUIDs[0] {
					t.Error("study UID differs from summary")
				}
				checkCommon(t, ds, mod)
			}
			if total != sum.Bytes {
				t.Errorf("summary bytes %d, files %d", sum.Bytes, total)
			}
			dcmdumpClean(t, paths...)
			warn := dciodvfy(t, paths[0])
			t.Logf("dciodvfy %s warnings: %d %q", mod, len(warn), warn)
			if _, err := dicom.ParseFile(paths[0], nil); err != nil {
				t.Errorf("suyashkumar/dicom: %v", err)
			}
		})
	}
}

func checkCommon(t *testing.T, ds *dcm.Dataset, mod string) {
	t.Helper()
	if got := ds.Str(dcm.TagModality); got != mod {
		t.Errorf("modality %q", got)
	}
	pc := ds.Seq(dcm.TagProcedureCodeSequence)
	if len(pc) != 1 {
		t.Fatalf("ProcedureCodeSequence has %d items", len(pc))
	}
	proc, ok := LookupProcedure(pc[0].Str(dcm.TagCodeValue))
	if !ok || !proc.runsOn(mod) || pc[0].Str(dcm.TagCodingSchemeDesignator) != CPTCodingScheme {
		t.Errorf("procedure code %q/%q", pc[0].Str(dcm.TagCodeValue), pc[0].Str(dcm.TagCodingSchemeDesignator))
	}
	if ds.Str(dcm.TagStudyDescription) != proc.Description || ds.Str(dcm.TagBodyPartExamined) != proc.BodyPart {
		t.Errorf("description/body part %q %q", ds.Str(dcm.TagStudyDescription), ds.Str(dcm.TagBodyPartExamined))
	}
	fac := ds.Str(dcm.TagInstitutionName)
	var found bool
	for _, f := range Facilities() {
		if f.Name == fac && f.IssuerOfPatientID == ds.Str(dcm.TagIssuerOfPatientID) {
			found = true
		}
	}
	if !found {
		t.Errorf("institution %q / issuer %q not a listed facility", fac, ds.Str(dcm.TagIssuerOfPatientID))
	}
	for _, tag := range []dcm.Tag{dcm.TagPatientName, dcm.TagPatientID, dcm.TagAccessionNumber, dcm.TagStudyID,
		dcm.TagReferringPhysicianName, dcm.TagSeriesDescription, dcm.TagStudyDate, dcm.TagStudyTime} {
		if ds.Str(tag) == "" {
			t.Errorf("%s (%s) empty", dcm.Keyword(tag), tag)
		}
	}
	if !strings.HasPrefix(ds.Str(dcm.TagPatientID), "LBX") {
		t.Errorf("patient ID %q", ds.Str(dcm.TagPatientID))
	}
	if ds.Get(dcm.TagPixelData) == nil {
		t.Error("no pixel data")
	}
	if mod == "MG" {
		if ds.Str(dcm.TagSOPClassUID) != "1.2.840.10008.5.1.4.1.1.1.2" || ds.Str(dcm.TagPatientSex) != "F" {
			t.Errorf("MG class %s sex %s", ds.Str(dcm.TagSOPClassUID), ds.Str(dcm.TagPatientSex))
		}
		if len(ds.Seq(tagViewCodeSequence)) != 1 || ds.Str(dcm.TagImageLaterality) == "" {
			t.Error("MG view code / laterality missing")
		}
	}
}

func TestCTGeometry(t *testing.T) {
	const n = 10
	var ipp [][]float64
	var loc []float64
	var thick float64
	fors := map[string]bool{}
	err := Each(context.Background(), Options{Procedure: "CT_CHEST", Patients: 1, Slices: n, Rows: 64, Columns: 64}, func(inst *Instance) error {
		ds := inst.Dataset
		ipp = append(ipp, ds.Get(dcm.TagImagePositionPatient).Floats())
		l, _ := ds.Float(dcm.TagSliceLocation)
		loc = append(loc, l)
		thick, _ = ds.Float(dcm.TagSliceThickness)
		fors[ds.Str(dcm.TagFrameOfReferenceUID)] = true
		if got := ds.Get(dcm.TagImageOrientationPatient).Floats(); !slices.Equal(got, []float64{1, 0, 0, 0, 1, 0}) {
			t.Errorf("IOP %v", got)
		}
		ps := ds.Get(dcm.TagPixelSpacing).Floats()
		if len(ps) != 2 || math.Abs(ps[0]-360.0/64) > 1e-6 {
			t.Errorf("pixel spacing %v", ps)
		}
		if v, _ := ds.Float(dcm.TagRescaleIntercept); v != -1024 {
			t.Errorf("intercept %v", v)
		}
		if v, _ := ds.Int(dcm.TagPixelRepresentation); v != 1 {
			t.Errorf("pixel representation %v", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ipp) != n || len(fors) != 1 || thick <= 0 {
		t.Fatalf("%d slices, %d frames of reference, thickness %v", len(ipp), len(fors), thick)
	}
	for i := 1; i < n; i++ {
		if ipp[i][0] != ipp[0][0] || ipp[i][1] != ipp[0][1] {
			t.Errorf("slice %d x/y moved: %v", i, ipp[i])
		}
		if d := ipp[i-1][2] - ipp[i][2]; math.Abs(d-thick) > 1e-3 {
			t.Errorf("slice %d steps %v, want %v", i, d, thick)
		}
		if loc[i] != ipp[i][2] {
			t.Errorf("slice %d location %v != z %v", i, loc[i], ipp[i][2])
		}
	}
}

// digest returns a hash of every instance's Part 10 bytes and the UIDs.
func digest(t *testing.T, o Options) ([32]byte, []string) {
	t.Helper()
	h := sha256.New()
	var uids []string
	err := Each(context.Background(), o, func(inst *Instance) error {
		b, err := Encode(inst)
		if err != nil {
			return err
		}
		h.Write(b)
		uids = append(uids, inst.StudyInstanceUID, inst.SeriesInstanceUID, inst.SOPInstanceUID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, uids
}

func TestDeterminism(t *testing.T) {
	for _, mod := range allModalities {
		o := small(mod)
		o.Patients, o.Studies = 2, 2
		a, ua := digest(t, o)
		b, ub := digest(t, o)
		if a != b || !slices.Equal(ua, ub) {
			t.Errorf("%s: same seed gave different output", mod)
		}
		o.Seed = 2
		_, uc := digest(t, o)
		seen := map[string]bool{}
		for _, u := range ua {
			seen[u] = true
		}
		for _, u := range uc {
			if seen[u] {
				t.Errorf("%s: UID %s shared across seeds", mod, u)
				break
			}
		}
		// SOP Instance UIDs are unique within a run and never reuse a
		// study or series UID.
		sops := map[string]bool{}
		for i := 2; i < len(ua); i += 3 {
			if sops[ua[i]] || ua[i] == ua[i-1] || ua[i] == ua[i-2] {
				t.Errorf("%s: SOP Instance UID %s reused", mod, ua[i])
			}
			sops[ua[i]] = true
		}
	}
}

func TestStudiesArePriors(t *testing.T) {
	date := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	var studies []*Instance
	err := Each(context.Background(), Options{Modality: "CR", Patients: 2, Studies: 3, StudyDate: date, Facility: "RMI"}, func(inst *Instance) error {
		if len(studies) == 0 || studies[len(studies)-1].StudyInstanceUID != inst.StudyInstanceUID {
			c := *inst
			studies = append(studies, &c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(studies) != 6 {
		t.Fatalf("%d studies", len(studies))
	}
	for i, s := range studies {
		wantYear := 2025 - (2 - i%3)
		if s.StudyTime.Year() != wantYear || s.StudyTime.Month() != 3 || s.StudyTime.Day() != 14 {
			t.Errorf("study %d at %v, want year %d", i, s.StudyTime, wantYear)
		}
		if s.StudyTime.Location().String() != "America/Denver" || s.Facility.Code != "RMI" {
			t.Errorf("study %d zone %v facility %s", i, s.StudyTime.Location(), s.Facility.Code)
		}
		if s.Patient.Index != i/3 {
			t.Errorf("study %d patient %d", i, s.Patient.Index)
		}
	}
	if studies[0].AccessionNumber == studies[1].AccessionNumber {
		t.Error("accession numbers repeat")
	}
}

func pixelBytes(t *testing.T, path string) []byte {
	t.Helper()
	f := readFile(t, path)
	e := f.Dataset.Get(dcm.TagPixelData)
	if e == nil || e.Bulk == nil || e.Bulk.Length < 0 {
		t.Fatalf("%s: no native pixel data", path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw[e.Bulk.Offset : e.Bulk.Offset+e.Bulk.Length]
}

// rleDecode decodes our RLE fragments in Go, back to colour-by-pixel.
func rleDecode(t *testing.T, path string, rows, cols, spp, bps int) []byte {
	t.Helper()
	f := readFile(t, path)
	e := f.Dataset.Get(dcm.TagPixelData)
	raw, _ := os.ReadFile(path)
	var out []byte
	plane := make([]byte, rows*cols)
	for _, fr := range e.Bulk.Fragments {
		data := raw[fr.Offset : fr.Offset+fr.Length]
		nseg := int(binary.LittleEndian.Uint32(data))
		if nseg != spp*bps {
			t.Fatalf("%d segments", nseg)
		}
		frame := make([]byte, rows*cols*spp*bps)
		for s := 0; s < nseg; s++ {
			start := int(binary.LittleEndian.Uint32(data[4+4*s:]))
			end := len(data)
			if s+1 < nseg {
				end = int(binary.LittleEndian.Uint32(data[8+4*s:]))
			}
			if !unpackBits(plane, data[start:end]) {
				t.Fatalf("segment %d does not decode", s)
			}
			sample, b := s/bps, bps-1-s%bps
			for i, v := range plane {
				frame[(i*spp+sample)*bps+b] = v
			}
		}
		out = append(out, frame...)
	}
	return out
}

func TestRLE(t *testing.T) {
	for _, mod := range []string{"CT", "MR", "US", "MG", "CR"} {
		t.Run(mod, func(t *testing.T) {
			t.Parallel()
			o := small(mod)
			o.Slices = 3
			nativeDir, rleDir := t.TempDir(), t.TempDir()
			if _, err := WriteDir(context.Background(), nativeDir, o); err != nil {
				t.Fatal(err)
			}
			o.TransferSyntax = dcm.RLELossless
			if _, err := WriteDir(context.Background(), rleDir, o); err != nil {
				t.Fatal(err)
			}
			native, rle := files(t, nativeDir), files(t, rleDir)
			if len(native) != len(rle) {
				t.Fatal("file counts differ")
			}
			spp, bps := 1, 2
			if mod == "US" {
				spp, bps = 3, 1
			}
			for i := range native {
				want := pixelBytes(t, native[i])
				got := rleDecode(t, rle[i], o.Rows, o.Columns, spp, bps)
				if !bytes.Equal(got, want) {
					t.Fatalf("%s: Go RLE decode differs from native pixels", rle[i])
				}
			}
			dcmdumpClean(t, rle...)
			t.Logf("dciodvfy %s RLE warnings: %q", mod, dciodvfy(t, rle[0]))
			bin := need(t, "dcmdrle")
			for i := range rle {
				out := filepath.Join(t.TempDir(), "d.dcm")
				if b, err := exec.Command(bin, rle[i], out).CombinedOutput(); err != nil || len(b) > 0 {
					t.Fatalf("dcmdrle %s: %v %s", rle[i], err, b)
				}
				got := pixelBytes(t, out)
				want := pixelBytes(t, native[i])
				if spp == 3 { // dcmdrle keeps Planar Configuration 1
					want = toPlanar(want, o.Rows*o.Columns, 3)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s: dcmdrle pixels differ from native (%d vs %d bytes)", rle[i], len(got), len(want))
				}
			}
		})
	}
}

func toPlanar(b []byte, pixels, spp int) []byte {
	out := make([]byte, len(b))
	frame := pixels * spp
	for f := 0; f+frame <= len(b); f += frame {
		for i := 0; i < pixels; i++ {
			for s := 0; s < spp; s++ {
				out[f+s*pixels+i] = b[f+i*spp+s]
			}
		}
	}
	return out
}

func TestPackBits(t *testing.T) {
	cases := [][]byte{
		{}, {1}, {1, 1}, {1, 1, 1}, {1, 2, 3}, {1, 2, 2, 2, 3},
		bytes.Repeat([]byte{7}, 300), append(bytes.Repeat([]byte{1, 2}, 200), bytes.Repeat([]byte{9}, 129)...),
	}
	for i := 0; i < 50; i++ {
		b := make([]byte, i*37%513)
		for j := range b {
			b[j] = byte((j * j * (i + 3)) >> (i % 7) % 5)
		}
		cases = append(cases, b)
	}
	for i, c := range cases {
		enc := packBits(nil, c)
		dec := make([]byte, len(c))
		if !unpackBits(dec, enc) || !bytes.Equal(dec, c) {
			t.Errorf("case %d: round trip failed", i)
		}
		if len(c) > 0 && len(enc) > len(c)+(len(c)+127)/128 {
			t.Errorf("case %d: %d bytes encode to %d", i, len(c), len(enc))
		}
	}
}

func TestJPEGBaseline(t *testing.T) {
	for _, mod := range []string{"US", "CR", "DX"} {
		t.Run(mod, func(t *testing.T) {
			t.Parallel()
			o := small(mod)
			o.TransferSyntax = dcm.JPEGBaseline8Bit
			dir := t.TempDir()
			if _, err := WriteDir(context.Background(), dir, o); err != nil {
				t.Fatal(err)
			}
			paths := files(t, dir)
			f := readFile(t, paths[0])
			if n := len(f.Dataset.Get(dcm.TagPixelData).Bulk.Fragments); mod == "US" && n != o.Slices {
				t.Errorf("%d fragments for %d frames", n, o.Slices)
			}
			if f.Dataset.Str(dcm.TagLossyImageCompression) != "01" {
				t.Error("lossy flag not set")
			}
			dcmdumpClean(t, paths...)
			t.Logf("dciodvfy %s JPEG warnings: %q", mod, dciodvfy(t, paths[0]))
			bin := need(t, "dcmdjpeg")
			for _, p := range paths {
				out := filepath.Join(t.TempDir(), "d.dcm")
				if b, err := exec.Command(bin, p, out).CombinedOutput(); err != nil || len(b) > 0 {
					t.Fatalf("dcmdjpeg %s: %v %s", p, err, b)
				}
				px := pixelBytes(t, out)
				want := o.Rows * o.Columns
				if mod == "US" {
					want *= 3 * o.Slices
				}
				if len(px) != want {
					t.Errorf("decoded %d bytes, want %d", len(px), want)
				}
			}
		})
	}
	if err := Each(context.Background(), Options{Modality: "CT", TransferSyntax: dcm.JPEGBaseline8Bit}, func(*Instance) error { return nil }); err == nil {
		t.Error("JPEG Baseline accepted for 16-bit CT")
	}
}

func TestTransferSyntaxes(t *testing.T) {
	for _, ts := range []string{dcm.ImplicitVRLittleEndian, dcm.DeflatedExplicitVRLittleEndian} {
		o := small("CT")
		o.Slices, o.TransferSyntax = 2, ts
		dir := t.TempDir()
		if _, err := WriteDir(context.Background(), dir, o); err != nil {
			t.Fatal(err)
		}
		paths := files(t, dir)
		for _, p := range paths {
			f := readFile(t, p)
			if f.TransferSyntax.UID != ts {
				t.Errorf("ts %s", f.TransferSyntax.UID)
			}
			checkCommon(t, f.Dataset, "CT")
		}
		dcmdumpClean(t, paths...)
		if ts != dcm.DeflatedExplicitVRLittleEndian { // dicom3tools cannot inflate
			dciodvfy(t, paths[0])
		}
	}
}

func TestAllProcedures(t *testing.T) {
	for _, p := range Procedures() {
		o := small(p.Modality)
		o.Procedure, o.Modality, o.Slices = p.CPT, "", 2
		var got string
		err := Each(context.Background(), o, func(inst *Instance) error {
			got = inst.Dataset.Seq(dcm.TagProcedureCodeSequence)[0].Str(dcm.TagCodeValue)
			return nil
		})
		if err != nil || got != p.CPT {
			t.Errorf("%s: %v, code %q", p.Key, err, got)
		}
	}
	want := map[string]string{"CT_HEAD": "70450", "CT_CHEST": "71250", "CT_ABD_PELVIS": "74177", "CTA_CHEST": "71275",
		"MR_BRAIN": "70553", "XR_CHEST_2V": "71046", "US_ABDOMEN": "76700", "MG_SCREENING": "77067"}
	for k, cpt := range want {
		if p, ok := LookupProcedure(k); !ok || p.CPT != cpt {
			t.Errorf("%s: %+v", k, p)
		}
	}
}

func TestFacilities(t *testing.T) {
	fs := Facilities()
	if len(fs) < 8 {
		t.Fatalf("%d facilities", len(fs))
	}
	zones := map[string]bool{}
	codes := map[string]bool{}
	for _, f := range fs {
		if codes[f.Code] || len(f.Code) < 2 || len(f.State) != 2 || f.Name == "" || f.IssuerOfPatientID == "" {
			t.Errorf("bad facility %+v", f)
		}
		codes[f.Code] = true
		if _, err := time.LoadLocation(f.TimeZone); err != nil {
			t.Errorf("%s: %v", f.Code, err)
		}
		for _, ae := range []string{f.AETitle, f.StationAE("US")} {
			if len(ae) > 16 || ae != strings.ToUpper(ae) {
				t.Errorf("AE title %q", ae)
			}
		}
		zones[f.TimeZone] = true
	}
	for _, z := range []string{"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"} {
		if !zones[z] {
			t.Errorf("no facility in %s", z)
		}
	}
	fs[0].Name = "changed"
	if Facilities()[0].Name == "changed" {
		t.Error("Facilities shares its backing array")
	}
}

func TestRoster(t *testing.T) {
	names, ids := map[string]bool{}, map[string]bool{}
	fams := rosterFamily()
	for i := 0; i < 400; i++ {
		p := Roster(i)
		if names[p.Name] || ids[p.ID] {
			t.Fatalf("roster %d repeats %s / %s", i, p.Name, p.ID)
		}
		names[p.Name], ids[p.ID] = true, true
		fam, _, _ := strings.Cut(p.Name, "^")
		if !slices.Contains(fams[:], fam) || len(p.ID) != 9 {
			t.Errorf("roster %d: %+v", i, p)
		}
	}
	if Roster(0).Name != "TESTPATIENT^ALPHA" || Roster(1).Name != "DEMO^BRAVO" || Roster(23).ID != "LBX000123" {
		t.Errorf("roster start: %v %v %v", Roster(0), Roster(1), Roster(23))
	}
}

func TestMixedDemo(t *testing.T) {
	var n int
	var size int64
	studies := map[string]bool{}
	patients := map[string]map[int]bool{} // patient → study years
	facilities := map[string]bool{}
	procs := map[string]bool{}
	sops := map[string]bool{}
	for _, o := range MixedDemo(7) {
		err := Each(context.Background(), o, func(inst *Instance) error {
			b, err := Encode(inst)
			if err != nil {
				return err
			}
			n++
			size += int64(len(b))
			if sops[inst.SOPInstanceUID] {
				t.Errorf("duplicate SOP UID across demo entries")
			}
			sops[inst.SOPInstanceUID] = true
			studies[inst.StudyInstanceUID] = true
			if patients[inst.Patient.ID] == nil {
				patients[inst.Patient.ID] = map[int]bool{}
			}
			patients[inst.Patient.ID][inst.StudyTime.Year()] = true
			facilities[inst.Facility.Code] = true
			procs[inst.Procedure.Key] = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("demo: %d instances, %d studies, %.1f MB", n, len(studies), float64(size)/1e6)
	if n >= 300 || size >= 60<<20 {
		t.Errorf("demo too big: %d instances, %d bytes", n, size)
	}
	var prior bool
	for _, years := range patients {
		if len(years) > 1 {
			prior = true
		}
	}
	if !prior || len(facilities) < 4 || len(patients) < 5 {
		t.Errorf("demo lacks variety: prior=%v facilities=%d patients=%d", prior, len(facilities), len(patients))
	}
	for _, k := range []string{"CT_HEAD", "CT_CHEST", "MR_BRAIN", "XR_CHEST_2V", "US_ABDOMEN", "MG_SCREENING"} {
		if !procs[k] {
			t.Errorf("demo lacks %s", k)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	bad := []Options{
		{Modality: "PET"},
		{Procedure: "99999"},
		{Modality: "MR", Procedure: "CT_HEAD"},
		{Slices: -1},
		{Rows: 5},
		{Columns: 5000},
		{TransferSyntax: dcm.JPEG2000},
		{Facility: "NOPE"},
		{Modality: "MG", TransferSyntax: dcm.JPEGBaseline8Bit},
	}
	for _, o := range bad {
		if err := Each(context.Background(), o, func(*Instance) error { return nil }); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func TestCancelAndCallbackError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n int
	err := Each(ctx, Options{Slices: 50, Rows: 32, Columns: 32}, func(*Instance) error {
		n++
		if n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Errorf("err %v after %d", err, n)
	}
	stop := errors.New("stop")
	if err := Each(context.Background(), Options{}, func(*Instance) error { return stop }); err != stop {
		t.Errorf("err %v", err)
	}
}

func TestDefaults(t *testing.T) {
	var n int
	var first *dcm.Dataset
	err := Each(context.Background(), Options{}, func(inst *Instance) error {
		n++
		if first == nil {
			first = inst.Dataset
			if inst.TransferSyntax != dcm.ExplicitVRLittleEndian {
				t.Errorf("ts %s", inst.TransferSyntax)
			}
		}
		return nil
	})
	if err != nil || n != 32 {
		t.Fatalf("%v, %d instances (want 2 patients × 16 slices)", err, n)
	}
	if r, _ := first.Int(dcm.TagRows); r != 512 || first.Str(dcm.TagModality) != "CT" {
		t.Errorf("rows %d modality %s", r, first.Str(dcm.TagModality))
	}
}

// BenchmarkGenerateCT writes 512×512 CT slices to disk and reports
// slices/s and MB/s.
func BenchmarkGenerateCT(b *testing.B) {
	const slices = 100
	dir := b.TempDir()
	var bytesOut int64
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		sum, err := WriteDir(context.Background(), filepath.Join(dir, "run"), Options{Patients: 1, Slices: slices, Seed: int64(i%2 + 1)})
		if err != nil {
			b.Fatal(err)
		}
		bytesOut += sum.Bytes
	}
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N*slices)/el, "slices/s")
	b.ReportMetric(float64(bytesOut)/1e6/el, "MB/s")
}
