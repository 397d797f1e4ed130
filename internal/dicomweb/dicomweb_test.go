package dicomweb

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"maps"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"lightbox/internal/archive"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
	"lightbox/internal/gen"
)

type fixture struct {
	*env
	ct, ctB, us, rle, implicit []*stored
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	f := &fixture{env: newEnv(t, d)}
	f.ct = generate(t, gen.Options{Modality: "CT", Slices: 4, Patients: 1, Rows: 64, Columns: 64, Facility: "SGH", Procedure: "CT_CHEST"})
	f.ctB = generate(t, gen.Options{Modality: "CT", Slices: 2, Patients: 1, Rows: 32, Columns: 32, Facility: "HBI"})
	f.us = generate(t, gen.Options{Modality: "US", Slices: 3, Patients: 1, FirstPatient: 1, Rows: 48, Columns: 64, Facility: "SGH", TransferSyntax: dcm.JPEGBaseline8Bit})
	f.rle = generate(t, gen.Options{Modality: "CT", Slices: 2, Patients: 1, FirstPatient: 2, Rows: 32, Columns: 32, Facility: "SGH", TransferSyntax: dcm.RLELossless})
	f.implicit = generate(t, gen.Options{Modality: "MR", Slices: 1, Patients: 1, FirstPatient: 3, Rows: 32, Columns: 32, Facility: "SGH", TransferSyntax: dcm.ImplicitVRLittleEndian})
	f.add("SGH", f.ct)
	f.add("HBI", f.ctB)
	f.add("SGH", f.us)
	f.add("SGH", f.rle)
	f.add("SGH", f.implicit)
	return f
}

func instPath(s *stored) string {
	return "/dicomweb/studies/" + s.study + "/series/" + s.series + "/instances/" + s.sop
}

func TestAuth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		for _, path := range []string{"/dicomweb/studies", "/dicomweb/studies/1.2/series/3/instances/4", "/dicomweb/studies/1.2/metadata",
			"/dicomweb/instances", "/dicomweb/studies/1/series/2/instances/3/frames/1"} {
			if r := e.get(path, "", nil); r.code != http.StatusUnauthorized || r.h.Get("WWW-Authenticate") == "" {
				t.Errorf("%s without token: %d", path, r.code)
			}
			if r := e.get(path, "blocked", nil); r.code != http.StatusForbidden {
				t.Errorf("%s forbidden: %d", path, r.code)
			}
		}
		if r := e.do("POST", "/dicomweb/studies", "", nil, strings.NewReader("x")); r.code != http.StatusUnauthorized {
			t.Errorf("STOW without token: %d", r.code)
		}
	})
}

func TestQIDO(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ct := f.ct[0]
		r := f.get("/dicomweb/studies", "tokA", nil)
		if r.code != 200 || r.h.Get("Content-Type") != "application/dicom+json" {
			t.Fatalf("studies: %d %s", r.code, r.h.Get("Content-Type"))
		}
		studies := jsonArray(t, r.body)
		if len(studies) != 4 {
			t.Fatalf("SGH sees %d studies, want 4", len(studies))
		}
		var st map[string]map[string]any
		for _, s := range studies {
			if jsonStr(s, "0020000D") == ct.study {
				st = s
			}
			if jsonStr(s, "0020000D") == f.ctB[0].study {
				t.Fatal("facility B study visible to facility A")
			}
		}
		if st == nil {
			t.Fatal("CT study missing")
		}
		// JSON shape: PN objects, IS as numbers, RetrieveURL.
		pn := st["00100010"]["Value"].([]any)[0].(map[string]any)
		if _, ok := pn["Alphabetic"].(string); !ok || st["00100010"]["vr"] != "PN" {
			t.Fatalf("PatientName is not a PN object: %v", st["00100010"])
		}
		if n, ok := st["00201208"]["Value"].([]any)[0].(float64); !ok || n != 4 {
			t.Fatalf("NumberOfStudyRelatedInstances: %v", st["00201208"])
		}
		mustContain(t, jsonStr(st, "00081190"), f.srv.URL+"/dicomweb/studies/"+ct.study)
		name := pn["Alphabetic"].(string)
		family, _, _ := strings.Cut(name, "^")

		// Matching by keyword and by tag, fuzzy, includefield.
		for _, q := range []string{"PatientName=" + family + "*", "00100010=" + strings.ToLower(family) + "*",
			"PatientName=" + strings.ToLower(family[:3]) + "&fuzzymatching=true", "AccessionNumber=" + jsonStr(st, "00080050"),
			"StudyInstanceUID=" + ct.study + "," + f.ctB[0].study, "StudyDate=" + jsonStr(st, "00080020") + "-"} {
			r := f.get("/dicomweb/studies?"+q+"&includefield=00081030,PatientAge&includefield=InstitutionName", "tokA", nil)
			got := jsonArray(t, r.body)
			found := false
			for _, s := range got {
				found = found || jsonStr(s, "0020000D") == ct.study
				if jsonStr(s, "0020000D") == f.ctB[0].study {
					t.Fatalf("%s: facility B study visible", q)
				}
			}
			if !found || r.code != 200 {
				t.Fatalf("%s: %d, %d results without the CT study", q, r.code, len(got))
			}
			if jsonStr(got[0], "00101010") == "" || jsonStr(got[0], "00080080") == "" {
				t.Fatalf("%s: includefield attributes missing: %s", q, r.body)
			}
		}
		// Same patient ID, other facility: each caller sees its own.
		pid := jsonStr(st, "00100020")
		r = f.get("/dicomweb/studies?PatientID="+pid, "tokB", nil)
		got := jsonArray(t, r.body)
		if len(got) != 1 || jsonStr(got[0], "0020000D") != f.ctB[0].study {
			t.Fatalf("tokB by patient ID: %s", r.body)
		}
		// Paging with a Warning header.
		r = f.get("/dicomweb/studies?limit=3", "tokA", nil)
		if len(jsonArray(t, r.body)) != 3 || !strings.Contains(r.h.Get("Warning"), "offset=3") {
			t.Fatalf("limit=3: %d, Warning %q", len(jsonArray(t, r.body)), r.h.Get("Warning"))
		}
		r = f.get("/dicomweb/studies?limit=3&offset=3", "tokA", nil)
		if len(jsonArray(t, r.body)) != 1 || r.h.Get("Warning") != "" {
			t.Fatalf("page 2: %s", r.body)
		}
		// Empty result: 200 with [].
		r = f.get("/dicomweb/studies?PatientName=NOBODY", "tokA", nil)
		if r.code != 200 || string(r.body) != "[]" {
			t.Fatalf("empty: %d %s", r.code, r.body)
		}
		// Unsupported match key: ignored with a warning.
		r = f.get("/dicomweb/studies?PatientWeight=80", "tokA", nil)
		if r.code != 200 || !strings.Contains(r.h.Get("Warning"), "PatientWeight") {
			t.Fatalf("unsupported key: %d %q", r.code, r.h.Get("Warning"))
		}
		// Bad input: 400 with a JSON error, never 500.
		for _, q := range []string{"limit=-1", "limit=abc", "offset=-3", "NoSuchKeyword=1", "StudyDate=2025-13-45", "StudyDate=20251345",
			"fuzzymatching=maybe", "includefield=Nope", "SeriesNumber=x", "StudyTime=99"} {
			path := "/dicomweb/studies?" + q
			if strings.HasPrefix(q, "SeriesNumber") {
				path = "/dicomweb/series?" + q
			}
			r := f.get(path, "tokA", nil)
			if r.code != 400 || !strings.Contains(string(r.body), `"error"`) {
				t.Errorf("%s: %d %s", q, r.code, r.body)
			}
		}
		// Series and instances, at every path.
		r = f.get("/dicomweb/studies/"+ct.study+"/series", "tokA", nil)
		se := jsonArray(t, r.body)
		if len(se) != 1 || jsonStr(se[0], "0020000E") != ct.series || jsonStr(se[0], "00080060") != "CT" {
			t.Fatalf("series: %s", r.body)
		}
		mustContain(t, jsonStr(se[0], "00081190"), "/series/"+ct.series)
		r = f.get("/dicomweb/series?Modality=US", "tokA", nil)
		if se := jsonArray(t, r.body); len(se) != 1 || jsonStr(se[0], "0020000E") != f.us[0].series {
			t.Fatalf("series by modality: %s", r.body)
		}
		r = f.get("/dicomweb/studies/"+ct.study+"/series/"+ct.series+"/instances", "tokA", nil)
		if in := jsonArray(t, r.body); len(in) != 4 || jsonStr(in[0], "00080018") != ct.sop || jsonStr(in[0], "00083002") != dcm.ExplicitVRLittleEndian {
			t.Fatalf("instances: %s", r.body)
		}
		r = f.get("/dicomweb/studies/"+ct.study+"/instances?InstanceNumber=2&includefield=all", "tokA", nil)
		if in := jsonArray(t, r.body); len(in) != 1 || jsonStr(in[0], "00080018") != f.ct[1].sop || jsonStr(in[0], "00180060") == "" {
			t.Fatalf("instances in study: %s", r.body)
		}
		r = f.get("/dicomweb/instances?SOPInstanceUID="+f.ctB[0].sop, "tokA", nil)
		if string(r.body) != "[]" {
			t.Fatalf("facility B instance visible: %s", r.body)
		}
		r = f.get("/dicomweb/studies/"+f.ctB[0].study+"/series", "tokA", nil)
		if string(r.body) != "[]" {
			t.Fatalf("facility B series visible: %s", r.body)
		}
		// gzip.
		r = f.get("/dicomweb/studies", "tokA", map[string]string{"Accept-Encoding": "gzip"})
		if r.h.Get("Content-Encoding") != "gzip" {
			t.Fatal("QIDO not gzipped")
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		if len(jsonArray(t, plain)) != 4 {
			t.Fatal("gzipped QIDO body")
		}
		if r := f.get("/dicomweb/studies", "tokA", map[string]string{"Accept": "application/dicom+xml"}); r.code != 406 {
			t.Fatalf("XML accepted: %d", r.code)
		}
	})
}

func TestRetrieve(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ct := f.ct[0]
		// One instance, stored bytes.
		r := f.get(instPath(ct), "tokA", nil)
		ps := parts(t, r)
		if r.code != 200 || len(ps) != 1 || !bytes.Equal(ps[0].body, ct.data) {
			t.Fatalf("instance: %d, %d parts", r.code, len(ps))
		}
		if r.h.Get("ETag") != `"`+archive.Digest(ct.data)+`"` || !strings.Contains(r.h.Get("Cache-Control"), "max-age") {
			t.Fatalf("instance validators: %q %q", r.h.Get("ETag"), r.h.Get("Cache-Control"))
		}
		mustContain(t, ps[0].header["Content-Type"][0], "transfer-syntax="+dcm.ExplicitVRLittleEndian)
		if r2 := f.get(instPath(ct), "tokA", map[string]string{"If-None-Match": r.h.Get("ETag")}); r2.code != 304 {
			t.Fatalf("If-None-Match: %d", r2.code)
		}
		// Series and study: every instance, in order, byte-identical.
		for _, path := range []string{"/dicomweb/studies/" + ct.study + "/series/" + ct.series, "/dicomweb/studies/" + ct.study} {
			r := f.get(path, "tokA", map[string]string{"Accept": `multipart/related; type="application/dicom"; transfer-syntax=*`})
			ps := parts(t, r)
			if len(ps) != len(f.ct) {
				t.Fatalf("%s: %d parts", path, len(ps))
			}
			for i, p := range ps {
				if !bytes.Equal(p.body, f.ct[i].data) {
					t.Fatalf("%s part %d differs", path, i)
				}
			}
		}
		// Bare application/dicom for one instance.
		r = f.get(instPath(ct), "tokA", map[string]string{"Accept": "application/dicom"})
		if r.code != 200 || !bytes.Equal(r.body, ct.data) {
			t.Fatalf("single part: %d %s", r.code, r.h.Get("Content-Type"))
		}
		// Transcoding explicit -> implicit, and implicit -> explicit
		// (default), each reading its one index row once (with its frame
		// offsets).
		once := func(path string, hdr map[string]string) resp {
			t.Helper()
			n := f.h.resolved.Load()
			r := f.get(path, "tokA", hdr)
			if n := f.h.resolved.Load() - n; n != 1 {
				t.Fatalf("%s: the index read %d times", path, n)
			}
			return r
		}
		r = once(instPath(ct), map[string]string{"Accept": `multipart/related; type="application/dicom"; transfer-syntax=` + dcm.ImplicitVRLittleEndian})
		ps = parts(t, r)
		file, err := dcm.ReadFile(bytes.NewReader(ps[0].body), dcm.ReadOptions{BulkThreshold: 1 << 30})
		if err != nil || file.TransferSyntax.UID != dcm.ImplicitVRLittleEndian {
			t.Fatalf("transcoded: %v", err)
		}
		if px := file.Dataset.Get(dcm.TagPixelData); px == nil || px.Bulk == nil || px.Bulk.Length != int64(len(ct.pixels)) ||
			!bytes.Equal(ps[0].body[px.Bulk.Offset:px.Bulk.Offset+px.Bulk.Length], ct.pixels) {
			t.Fatal("transcoded pixel data differs")
		}
		im := f.implicit[0]
		r = once(instPath(im), nil)
		ps = parts(t, r)
		mustContain(t, ps[0].header["Content-Type"][0], dcm.ExplicitVRLittleEndian)
		if file, err := dcm.ReadFile(bytes.NewReader(ps[0].body), dcm.ReadOptions{}); err != nil || file.TransferSyntax.UID != dcm.ExplicitVRLittleEndian ||
			file.Dataset.Get(dcm.TagPixelData).VR != "OW" {
			t.Fatalf("implicit to explicit: %v", err)
		}
		// Compressed data asked for uncompressed: decoded. Asked for another
		// compressed syntax: 406. Compressed as stored: fine.
		us := f.us[0]
		r = once(instPath(us), map[string]string{"Accept": `multipart/related; type="application/dicom"; transfer-syntax=` + dcm.ExplicitVRLittleEndian})
		ps = parts(t, r)
		file, err = dcm.ReadFile(bytes.NewReader(ps[0].body), dcm.ReadOptions{})
		if err != nil || file.TransferSyntax.UID != dcm.ExplicitVRLittleEndian || file.Dataset.Str(dcm.Tag(0x00280004)) != "RGB" ||
			file.Dataset.Get(dcm.TagPixelData).Bulk.Length != int64(us.rows*us.cols*3*us.numFrames) {
			t.Fatalf("JPEG decoded to Explicit VR Little Endian: %v", err)
		}
		r = f.get(instPath(us), "tokA", map[string]string{"Accept": `multipart/related; type="application/dicom"; transfer-syntax=` + dcm.JPEGLSLossless})
		if r.code != 406 || !strings.Contains(string(r.body), `"error"`) {
			t.Fatalf("impossible transcoding: %d", r.code)
		}
		r = f.get(instPath(us), "tokA", map[string]string{"Accept": `multipart/related; type="application/dicom"; transfer-syntax=` + dcm.JPEGBaseline8Bit})
		if ps := parts(t, r); !bytes.Equal(ps[0].body, us.data) {
			t.Fatal("JPEG instance as stored")
		}
		// Scope and unknown UIDs: 404.
		for _, path := range []string{instPath(f.ctB[0]), "/dicomweb/studies/" + f.ctB[0].study, "/dicomweb/studies/1.2.3.4", "/dicomweb/studies/abc%5C1"} {
			if r := f.get(path, "tokA", nil); r.code != 404 {
				t.Errorf("%s: %d", path, r.code)
			}
		}
		if r := f.get(instPath(f.ctB[0]), "tokB", nil); r.code != 200 {
			t.Errorf("facility B's own instance: %d", r.code)
		}
	})
}

func TestMetadata(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ct := f.ct[0]
		for path, n := range map[string]int{"/dicomweb/studies/" + ct.study + "/metadata": 4,
			"/dicomweb/studies/" + ct.study + "/series/" + ct.series + "/metadata": 4, instPath(ct) + "/metadata": 1} {
			r := f.get(path, "tokA", nil)
			md := jsonArray(t, r.body)
			if r.code != 200 || len(md) != n {
				t.Fatalf("%s: %d, %d items", path, r.code, len(md))
			}
			uri, _ := md[0]["7FE00010"]["BulkDataURI"].(string)
			if uri != f.srv.URL+instPath(ct)+"/bulk/7FE00010" {
				t.Fatalf("BulkDataURI %q", uri)
			}
			if jsonStr(md[0], "00080018") != ct.sop {
				t.Fatal("metadata order")
			}
			if r2 := f.get(path, "tokA", map[string]string{"If-None-Match": r.h.Get("ETag")}); r2.code != 304 || r.h.Get("ETag") == "" {
				t.Fatalf("%s: If-None-Match %d", path, r2.code)
			}
			rz := f.get(path, "tokA", map[string]string{"Accept-Encoding": "gzip"})
			zr, err := gzip.NewReader(bytes.NewReader(rz.body))
			if err != nil || rz.h.Get("Content-Encoding") != "gzip" {
				t.Fatalf("gzip: %v", err)
			}
			plain, _ := io.ReadAll(zr)
			if !bytes.Equal(plain, r.body) {
				t.Fatal("gzipped metadata differs")
			}
		}
		if r := f.get("/dicomweb/studies/"+f.ctB[0].study+"/metadata", "tokA", nil); r.code != 404 {
			t.Fatalf("facility B metadata: %d", r.code)
		}

		// Assembled responses are cached; the cache follows the index and
		// the caller's scope.
		path := "/dicomweb/studies/" + ct.study + "/series/" + ct.series + "/metadata"
		if r := f.get(path, "tokB", nil); r.code != 404 {
			t.Fatalf("another facility's cached series metadata: %d", r.code)
		}
		before := f.get(path, "tokA", nil)
		file, err := dcm.ReadFile(bytes.NewReader(ct.data), dcm.ReadOptions{LoadBulk: true})
		if err != nil {
			t.Fatal(err)
		}
		const extra = "1.2.826.0.1.3680043.10.1234.18.5"
		file.Dataset.SetStr(dcm.TagSOPInstanceUID, extra)
		file.Dataset.SetStr(dcm.TagInstanceNumber, "5")
		var b bytes.Buffer
		if err := dcm.WriteFile(&b, file.Dataset, ct.ts, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.Store(context.Background(), &b, archive.Source{Facility: "SGH"}); err != nil {
			t.Fatal(err)
		}
		after := f.get(path, "tokA", nil)
		md := jsonArray(t, after.body)
		if len(md) != 5 || jsonStr(md[4], "00080018") != extra || after.h.Get("ETag") == before.h.Get("ETag") {
			t.Fatalf("series metadata after a store: %d items, ETag %s (before %s)", len(md), after.h.Get("ETag"), before.h.Get("ETag"))
		}

		// A series too large to assemble streams from the index: the same
		// response.
		defer func(n int) { metaStreamAbove = n }(metaStreamAbove)
		metaStreamAbove = 1
		streamed := f.get(path, "tokA", nil)
		if streamed.code != 200 || !bytes.Equal(streamed.body, after.body) || streamed.h.Get("ETag") != after.h.Get("ETag") {
			t.Fatalf("streamed series metadata differs from the assembled one (%d)", streamed.code)
		}
	})
}

// The shared form of a series' metadata, merged, is its metadata: the same
// instances in the same order, each attribute the same.
func TestSharedMetadata(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ct := f.ct[0]
		series := "/dicomweb/studies/" + ct.study + "/series/" + ct.series
		want := jsonArray(t, f.get(series+"/metadata", "tokA", nil).body)
		r := f.get(series+"/metadata-shared", "tokA", nil)
		var got struct {
			Shared    map[string]map[string]any
			Instances []map[string]map[string]any
		}
		if err := json.Unmarshal(r.body, &got); err != nil || r.code != 200 {
			t.Fatalf("%d: %v", r.code, err)
		}
		if len(got.Instances) != len(want) || len(got.Shared) == 0 {
			t.Fatalf("%d instances (want %d), %d shared attributes", len(got.Instances), len(want), len(got.Shared))
		}
		for i, own := range got.Instances {
			merged := map[string]map[string]any{}
			maps.Copy(merged, got.Shared)
			maps.Copy(merged, own)
			if !reflect.DeepEqual(merged, want[i]) {
				t.Fatalf("instance %d differs from its metadata", i)
			}
			if _, ok := own["00080018"]; !ok {
				t.Fatal("a SOP Instance UID in the shared attributes")
			}
		}
		if r.h.Get("Content-Type") != "application/json" {
			t.Fatalf("Content-Type %q", r.h.Get("Content-Type"))
		}
		if r2 := f.get(series+"/metadata-shared", "tokA", map[string]string{"If-None-Match": r.h.Get("ETag")}); r2.code != 304 {
			t.Fatalf("If-None-Match: %d", r2.code)
		}
		if m := f.get(series+"/metadata", "tokA", nil); m.h.Get("ETag") == r.h.Get("ETag") {
			t.Fatal("the shared form has the metadata's ETag")
		}
		// Scope: another facility's series is not found, nor is it without a token.
		if r := f.get("/dicomweb/studies/"+f.ctB[0].study+"/series/"+f.ctB[0].series+"/metadata-shared", "tokA", nil); r.code != 404 {
			t.Fatalf("facility B: %d", r.code)
		}
		if r := f.get(series+"/metadata-shared", "", nil); r.code != 401 {
			t.Fatalf("no token: %d", r.code)
		}
		// Too large to assemble: refused, the viewer asks for …/metadata.
		defer func(n int) { metaStreamAbove = n }(metaStreamAbove)
		metaStreamAbove = 1
		if r := f.get(series+"/metadata-shared", "tokA", nil); r.code != 406 {
			t.Fatalf("above metaStreamAbove: %d", r.code)
		}
	})
}

func TestFramesAndBulk(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ct := f.ct[1]
		r := f.get(instPath(ct)+"/frames/1", "tokA", nil)
		ps := parts(t, r)
		if len(ps) != 1 || !bytes.Equal(ps[0].body, ct.pixels) {
			t.Fatalf("native frame: %d parts", len(ps))
		}
		mustContain(t, ps[0].header["Content-Type"][0], "application/octet-stream")
		if r.h.Get("ETag") == "" || !strings.Contains(r.h.Get("Cache-Control"), "max-age") {
			t.Fatal("frame validators")
		}
		if r2 := f.get(instPath(ct)+"/frames/1", "tokA", map[string]string{"If-None-Match": r.h.Get("ETag")}); r2.code != 304 {
			t.Fatalf("frame 304: %d", r2.code)
		}
		// A bare "gzip" leaves identity as good: pixel data goes plain,
		// with a Content-Length (no chunking, sendfile from the blob).
		rp := f.get(instPath(ct)+"/frames/1", "tokA", map[string]string{"Accept-Encoding": "gzip"})
		if rp.h.Get("Content-Encoding") != "" || rp.h.Get("Content-Length") != strconv.Itoa(len(rp.body)) {
			t.Fatalf("frame with Accept-Encoding gzip: encoding %q, length %q of %d", rp.h.Get("Content-Encoding"), rp.h.Get("Content-Length"), len(rp.body))
		}
		if ps := parts(t, rp); len(ps) != 1 || !bytes.Equal(ps[0].body, ct.pixels) {
			t.Fatal("plain frame")
		}
		// gzip for uncompressed frames when the client ranks it above identity.
		rz := f.get(instPath(ct)+"/frames/1", "tokA", map[string]string{"Accept-Encoding": "gzip, identity;q=0.5"})
		zr, err := gzip.NewReader(bytes.NewReader(rz.body))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		rz.body = plain
		if ps := parts(t, rz); !bytes.Equal(ps[0].body, ct.pixels) {
			t.Fatal("gzipped frame")
		}
		// Encapsulated multi-frame: exact fragments, compressed media type.
		us := f.us[0]
		r = f.get(instPath(us)+"/frames/3,1", "tokA", map[string]string{"Accept": `multipart/related; type="image/jpeg"`})
		ps = parts(t, r)
		if len(ps) != 2 || !bytes.Equal(ps[0].body, us.fragments[2]) || !bytes.Equal(ps[1].body, us.fragments[0]) {
			t.Fatalf("JPEG frames: %d parts", len(ps))
		}
		mustContain(t, ps[0].header["Content-Type"][0], "image/jpeg; transfer-syntax="+dcm.JPEGBaseline8Bit)
		// OHIF's request: the stored bytes, their syntax in the part.
		r = f.get(instPath(us)+"/frames/1", "tokA", map[string]string{"Accept": "multipart/related; type=application/octet-stream; transfer-syntax=*"})
		if ps := parts(t, r); len(ps) != 1 || !bytes.Equal(ps[0].body, us.fragments[0]) ||
			ps[0].header["Content-Type"][0] != "application/octet-stream; transfer-syntax="+dcm.JPEGBaseline8Bit {
			t.Fatalf("JPEG frame for OHIF: %d %v", r.code, r.h)
		}
		// Explicit VR Little Endian asked for: decoded.
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(us.fragments[0]))
		if err != nil {
			t.Fatal(err)
		}
		r = f.get(instPath(us)+"/frames/1", "tokA", map[string]string{"Accept": `multipart/related; type="application/octet-stream"`})
		if ps := parts(t, r); len(ps) != 1 || len(ps[0].body) != cfg.Width*cfg.Height*3 ||
			ps[0].header["Content-Type"][0] != "application/octet-stream; transfer-syntax="+dcm.ExplicitVRLittleEndian {
			t.Fatalf("JPEG frame decoded: %d %v", r.code, r.h)
		}
		if r := f.get(instPath(us)+"/frames/1", "tokA", map[string]string{"Accept": `multipart/related; type="image/jls"`}); r.code != 406 {
			t.Fatalf("JPEG frames as JPEG-LS: %d", r.code)
		}
		if r := f.get(instPath(us)+"/frames/1", "tokA", map[string]string{"Accept": "image/jpeg"}); r.code != 200 || !bytes.Equal(r.body, us.fragments[0]) {
			t.Fatalf("single JPEG frame: %d", r.code)
		}
		rl := f.rle[0]
		r = f.get(instPath(rl)+"/frames/1", "tokA", nil)
		if ps := parts(t, r); !bytes.Equal(ps[0].body, rl.fragments[0]) || !strings.Contains(ps[0].header["Content-Type"][0], "image/dicom-rle") {
			t.Fatal("RLE frame")
		}
		for path, code := range map[string]int{instPath(ct) + "/frames/2": 404, instPath(ct) + "/frames/0": 400, instPath(ct) + "/frames/a": 400,
			instPath(f.ctB[0]) + "/frames/1": 404} {
			if r := f.get(path, "tokA", nil); r.code != code {
				t.Errorf("%s: %d, want %d", path, r.code, code)
			}
		}
		// Bulk data: Pixel Data.
		r = f.get(instPath(ct)+"/bulk/7FE00010", "tokA", nil)
		if ps := parts(t, r); !bytes.Equal(ps[0].body, ct.pixels) {
			t.Fatal("bulk pixel data")
		}
		if r := f.get(instPath(ct)+"/bulk/00100010", "tokA", nil); r.code != 404 {
			t.Fatalf("bulk of a small value: %d", r.code)
		}
		if r := f.get(instPath(ct)+"/bulk/zz", "tokA", nil); r.code != 404 {
			t.Fatalf("bad bulk tag: %d", r.code)
		}
	})
}

func decodeImage(t *testing.T, b []byte) (image.Image, string) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not an image: %v (%.100s)", err, b)
	}
	return img, format
}

func TestRendered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ct := f.ct[0]
		cases := []struct {
			path, accept, format string
			w, h                 int
		}{
			{instPath(ct) + "/rendered", "", "jpeg", 64, 64},
			{instPath(ct) + "/rendered?viewport=32,32", "image/png", "png", 32, 32},
			{instPath(ct) + "/rendered?viewport=20,10&window=40,400,sigmoid", "image/jpeg", "jpeg", 10, 10},
			{instPath(ct) + "/rendered?window=-600,1500,linear-exact&quality=50", "", "jpeg", 64, 64},
			{instPath(ct) + "/frames/1/rendered?viewport=16,16", "image/png", "png", 16, 16},
			{instPath(ct) + "/thumbnail", "", "jpeg", 128, 128},
			{"/dicomweb/studies/" + ct.study + "/thumbnail?viewport=24,24", "image/png", "png", 24, 24},
			{instPath(f.us[0]) + "/frames/2/rendered?viewport=32,32", "image/png", "png", 32, 24},
			{instPath(f.us[0]) + "/rendered", "image/jpeg", "jpeg", 64, 48},
			{instPath(f.rle[0]) + "/rendered", "image/png", "png", 32, 32},
			{instPath(f.implicit[0]) + "/rendered", "image/png", "png", 32, 32},
		}
		for _, c := range cases {
			r := f.get(c.path, "tokA", map[string]string{"Accept": c.accept})
			if r.code != 200 {
				t.Fatalf("%s: %d %s", c.path, r.code, r.body)
			}
			img, format := decodeImage(t, r.body)
			if format != c.format || img.Bounds().Dx() != c.w || img.Bounds().Dy() != c.h {
				t.Errorf("%s: %s %v, want %s %dx%d", c.path, format, img.Bounds(), c.format, c.w, c.h)
			}
		}
		// The CT phantom is not blank once windowed.
		r := f.get(instPath(ct)+"/rendered", "tokA", map[string]string{"Accept": "image/png"})
		img, _ := decodeImage(t, r.body)
		lo, hi := uint32(255), uint32(0)
		for y := range 64 {
			for x := range 64 {
				v, _, _, _ := img.At(x, y).RGBA()
				lo, hi = min(lo, v>>8), max(hi, v>>8)
			}
		}
		if hi-lo < 50 {
			t.Fatalf("rendered CT has no contrast: %d..%d", lo, hi)
		}
		// Series rendered: one image per instance.
		r = f.get("/dicomweb/studies/"+ct.study+"/series/"+ct.series+"/rendered?viewport=8,8", "tokA", nil)
		if ps := parts(t, r); len(ps) != 4 {
			t.Fatalf("series rendered: %d parts", len(ps))
		}
		for q, code := range map[string]int{"window=1": 400, "window=a,b": 400, "window=40,400,cubic": 400, "viewport=0,10": 400,
			"viewport=99999,5": 400, "quality=0": 400, "bogus=1": 400} {
			if r := f.get(instPath(ct)+"/rendered?"+q, "tokA", nil); r.code != code {
				t.Errorf("%s: %d", q, r.code)
			}
		}
		if r := f.get(instPath(ct)+"/rendered", "tokA", map[string]string{"Accept": "image/gif"}); r.code != 406 {
			t.Errorf("gif: %d", r.code)
		}
		if r := f.get(instPath(f.ctB[0])+"/rendered", "tokA", nil); r.code != 404 {
			t.Errorf("facility B rendered: %d", r.code)
		}
	})
}

func TestMonochrome1AndWindow(t *testing.T) {
	ds := &dcm.Dataset{}
	ds.SetUint16(dcm.TagRows, 1)
	ds.SetUint16(dcm.TagColumns, 3)
	ds.SetUint16(dcm.TagBitsAllocated, 16)
	ds.SetUint16(dcm.TagBitsStored, 12)
	ds.SetUint16(dcm.TagPixelRepresentation, 0)
	ds.SetStr(dcm.TagPhotometricInterpretation, "MONOCHROME1")
	ds.SetStr(dcm.TagRescaleIntercept, "-1000")
	ds.SetStr(dcm.TagWindowCenter, "0")
	ds.SetStr(dcm.TagWindowWidth, "200")
	data := []byte{0xE8, 0x03, 0x84, 0x03, 0x4C, 0x04} // 1000, 900, 1100 -> 0, -100, 100 HU
	img, err := decodeNative(ds, data, &renderParams{})
	if err != nil {
		t.Fatal(err)
	}
	g := img.(*image.Gray)
	if g.Pix[1] != 255 || g.Pix[2] != 0 || g.Pix[0] < 120 || g.Pix[0] > 135 {
		t.Fatalf("MONOCHROME1 window: %v", g.Pix)
	}
}

func TestSTOW(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		insts := generate(t, gen.Options{Modality: "CT", Slices: 3, Patients: 1, Rows: 32, Columns: 32, Facility: "SGH"})
		other := generate(t, gen.Options{Modality: "CT", Slices: 1, Patients: 1, FirstPatient: 5, Rows: 16, Columns: 16, Facility: "SGH"})
		ct, body := multipartBody(insts[0].data, insts[1].data)
		r := e.do("POST", "/dicomweb/studies", "tokA", map[string]string{"Content-Type": ct}, bytes.NewReader(body))
		if r.code != 200 || r.h.Get("Content-Type") != "application/dicom+json" {
			t.Fatalf("store: %d %s", r.code, r.body)
		}
		s := string(r.body)
		mustContain(t, s, `"00081199":{"vr":"SQ","Value":[{"00081150"`)
		mustContain(t, s, e.srv.URL+"/dicomweb/studies/"+insts[0].study+"/series/"+insts[0].series+"/instances/"+insts[0].sop)
		if strings.Contains(s, "00081198") {
			t.Fatalf("failures reported: %s", s)
		}
		// Stored into the caller's facility: tokB cannot see it, tokA can.
		if r := e.get(instPath(insts[0]), "tokB", nil); r.code != 404 {
			t.Fatalf("stored instance visible to B: %d", r.code)
		}
		if r := e.get(instPath(insts[0]), "tokA", nil); r.code != 200 || !bytes.Equal(parts(t, r)[0].body, insts[0].data) {
			t.Fatal("stored instance")
		}
		// Same bytes again: success.
		r = e.do("POST", "/dicomweb/studies/"+insts[0].study, "tokA", map[string]string{"Content-Type": ct}, bytes.NewReader(body))
		if r.code != 200 {
			t.Fatalf("duplicate: %d %s", r.code, r.body)
		}
		// Partial: a garbage part and a good one -> 202.
		ct2, body2 := multipartBody([]byte("not dicom at all"), insts[2].data)
		r = e.do("POST", "/dicomweb/studies", "tokA", map[string]string{"Content-Type": ct2}, bytes.NewReader(body2))
		if r.code != 202 {
			t.Fatalf("partial: %d %s", r.code, r.body)
		}
		mustContain(t, string(r.body), `"00081197":{"vr":"US","Value":[49152]}`)
		mustContain(t, string(r.body), `"00000902":{"vr":"LO","Value":["not a DICOM Part 10 file`)
		// A truncated instance is named by its SOP Instance UID, with the reason.
		trunc := generate(t, gen.Options{Modality: "CT", Slices: 1, Patients: 1, FirstPatient: 6, Rows: 16, Columns: 16, Facility: "SGH"})[0]
		ctT, bodyT := multipartBody(trunc.data[:len(trunc.data)-9])
		r = e.do("POST", "/dicomweb/studies", "tokA", map[string]string{"Content-Type": ctT}, bytes.NewReader(bodyT))
		if r.code != 409 || !strings.Contains(string(r.body), `"00081155":{"vr":"UI","Value":["`+trunc.sop+`"]}`) || !strings.Contains(string(r.body), "truncated") {
			t.Fatalf("truncated instance: %d %s", r.code, r.body)
		}
		// All failed -> 409.
		ct3, body3 := multipartBody([]byte("junk"), []byte("more junk"))
		if r := e.do("POST", "/dicomweb/studies", "tokA", map[string]string{"Content-Type": ct3}, bytes.NewReader(body3)); r.code != 409 {
			t.Fatalf("all failed: %d %s", r.code, r.body)
		}
		// Wrong study for /studies/{s}: 0xC122.
		ct4, body4 := multipartBody(other[0].data)
		r = e.do("POST", "/dicomweb/studies/"+insts[0].study, "tokA", map[string]string{"Content-Type": ct4}, bytes.NewReader(body4))
		if r.code != 409 || !strings.Contains(string(r.body), fmt.Sprint(0xC122)) {
			t.Fatalf("wrong study: %d %s", r.code, r.body)
		}
		if _, err := e.a.Instance(context.Background(), other[0].sop); !errors.Is(err, archive.ErrNotFound) {
			t.Fatalf("an instance refused as the wrong study was indexed: %v", err)
		}
		// Wrong content types: 415.
		for _, ctype := range []string{"application/dicom", "multipart/related; type=\"application/dicom+json\"; boundary=x", "text/plain", ""} {
			if r := e.do("POST", "/dicomweb/studies", "tokA", map[string]string{"Content-Type": ctype}, bytes.NewReader(body)); r.code != 415 {
				t.Errorf("%q: %d", ctype, r.code)
			}
		}
		if r := e.do("POST", "/dicomweb/studies", "tokA", map[string]string{"Content-Type": "multipart/related; type=\"application/dicom\""}, bytes.NewReader(body)); r.code != 400 {
			t.Errorf("no boundary: %d", r.code)
		}
		// Malformed multipart: 400.
		if r := e.do("POST", "/dicomweb/studies", "tokA", map[string]string{"Content-Type": `multipart/related; type="application/dicom"; boundary=zz`}, strings.NewReader("garbage")); r.code != 400 {
			t.Errorf("malformed multipart: %d %s", r.code, r.body)
		}
		// A real body under another boundary: our message, not the parser's
		// ("bufio: buffer full").
		if r := e.do("POST", "/dicomweb/studies", "tokA", map[string]string{"Content-Type": `multipart/related; type="application/dicom"; boundary=not-the-one`}, bytes.NewReader(body)); r.code != 400 ||
			strings.Contains(string(r.body), "bufio") || !strings.Contains(string(r.body), "boundary") {
			t.Errorf("wrong boundary: %d %s", r.code, r.body)
		}
		// Cut-off body: the complete part is stored, the rest reported failed.
		more := generate(t, gen.Options{Modality: "CT", Slices: 2, Patients: 1, FirstPatient: 7, Rows: 16, Columns: 16, Facility: "SGH"})
		ct5, body5 := multipartBody(more[0].data, more[1].data)
		cut := body5[:len(body5)-len(more[1].data)/2]
		r = e.do("POST", "/dicomweb/studies", "tokA", map[string]string{"Content-Type": ct5}, bytes.NewReader(cut))
		if r.code != 202 || !strings.Contains(string(r.body), more[0].sop) || !strings.Contains(string(r.body), "00081198") {
			t.Fatalf("cut-off: %d %s", r.code, r.body)
		}
		if r := e.get(instPath(more[0]), "tokA", nil); r.code != 200 {
			t.Fatal("complete part of a cut-off body not stored")
		}
		if r := e.get(instPath(more[1]), "admin", nil); r.code != 404 {
			t.Fatal("incomplete part stored")
		}
		// Scope: B may not write into A's study; the facility parameter is checked.
		if r := e.do("POST", "/dicomweb/studies/"+insts[0].study, "tokB", map[string]string{"Content-Type": ct}, bytes.NewReader(body)); r.code != 403 {
			t.Fatalf("B into A's study: %d", r.code)
		}
		r = e.do("POST", "/dicomweb/studies", "tokB", map[string]string{"Content-Type": ct}, bytes.NewReader(body))
		if r.code != 409 {
			t.Fatalf("B re-sending A's instances: %d %s", r.code, r.body)
		}
		if r := e.do("POST", "/dicomweb/studies?facility=SGH", "tokB", map[string]string{"Content-Type": ct}, bytes.NewReader(body)); r.code != 403 {
			t.Fatalf("B naming A's facility: %d", r.code)
		}
		fresh := generate(t, gen.Options{Modality: "CT", Slices: 1, Patients: 1, FirstPatient: 9, Rows: 16, Columns: 16, Facility: "HBI"})
		ct6, body6 := multipartBody(fresh[0].data)
		if r := e.do("POST", "/dicomweb/studies?facility=HBI", "admin", map[string]string{"Content-Type": ct6}, bytes.NewReader(body6)); r.code != 200 {
			t.Fatalf("admin with facility: %d %s", r.code, r.body)
		}
		if r := e.get(instPath(fresh[0]), "tokB", nil); r.code != 200 {
			t.Fatalf("admin-stored instance not in HBI: %d", r.code)
		}
	})
}

// Under the replace policy an instance's bytes can change under its UID:
// frames and instances are revalidated against their ETag instead of being
// cached for a day, so a browser never shows a replaced instance's pixels.
func TestCacheControlFollowsDuplicatePolicy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for i, c := range []struct {
			policy archive.DuplicatePolicy
			want   string
		}{
			{archive.KeepFirst, "private, max-age=86400"},
			{archive.Replace, "private, no-cache"},
		} {
			// Each archive has its own blob folder over the shared index, so
			// each stores its own instance: an identical re-send is indexed
			// already and is not written again.
			e := newEnv(t, d, archive.Options{Duplicates: c.policy})
			ct := generate(t, gen.Options{Modality: "CT", Slices: 1, Patients: 1, Rows: 16, Columns: 16, Facility: "SGH", FirstPatient: 7 + i})
			e.add("SGH", ct)
			for _, path := range []string{instPath(ct[0]), instPath(ct[0]) + "/frames/1", instPath(ct[0]) + "/rendered"} {
				r := e.get(path, "tokA", nil)
				if r.code != 200 || r.h.Get("Cache-Control") != c.want || r.h.Get("ETag") == "" {
					t.Errorf("%s %s: %d Cache-Control %q ETag %q, want %q", c.policy, path, r.code, r.h.Get("Cache-Control"), r.h.Get("ETag"), c.want)
				}
			}
		}
	})
}

func TestPrefersGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"":                            false,
		"gzip":                        false,
		"gzip, deflate, br, zstd":     false,
		"gzip;q=1, identity;q=0.5":    true,
		"identity;q=0, gzip":          true,
		"*;q=0, gzip":                 true,
		"gzip;q=0, identity;q=0":      false,
		"*":                           false,
		"br;q=1, gzip;q=0.8, *;q=0.1": false,
		"gzip;q=0.8, identity;q=0.1":  true,
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", h)
		if got := prefersGzip(r); got != want {
			t.Errorf("prefersGzip(%q) = %v", h, got)
		}
	}
}
