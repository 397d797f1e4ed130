package dicomweb

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"lightbox/internal/archive"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
	"lightbox/internal/gen"
	"lightbox/internal/query"
)

// referenceQIDO is a QIDO-RS body the way it was written before results
// were read into a reused data set: query.Find's data sets, each given a
// RetrieveURL element and marshalled on its own.
func referenceQIDO(t *testing.T, e *env, base, path, rawQuery string) []byte {
	t.Helper()
	v, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	level := query.Study
	switch {
	case strings.HasSuffix(path, "/instances"):
		level = query.Image
	case strings.HasSuffix(path, "/series"):
		level = query.Series
	}
	p, err := parseQIDO(v, level, e.h.opt.MaxResults)
	if err != nil {
		t.Fatal(err)
	}
	segs := strings.Split(strings.TrimPrefix(path, "/dicomweb/"), "/")
	if len(segs) >= 3 && segs[0] == "studies" {
		p.q.Match[dcm.TagStudyInstanceUID] = segs[1]
	}
	if len(segs) >= 5 && segs[2] == "series" {
		p.q.Match[dcm.TagSeriesInstanceUID] = segs[3]
	}
	p.q.Scope = query.Scope{Facilities: []string{"SGH"}}
	res, err := e.h.q.Find(context.Background(), p.q)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, ds := range res.Datasets {
		if i > 0 {
			b.WriteByte(',')
		}
		ds.Put(dcm.StrElement(query.TagRetrieveURL, "UR", string(appendRetrieveURL(nil, base, level, ds))))
		b.Write(dcm.MarshalJSON(ds, dcm.JSONOptions{SkipMeta: true}))
	}
	b.WriteByte(']')
	return b.Bytes()
}

// The response, written from one reused data set per row into one
// buffer, is byte for byte the data sets query.Find builds, marshalled one
// by one: at every level, with includefield (from the index and from the
// stored metadata), paging, fuzzy matching and matching on lower levels.
func TestQIDOMatchesFind(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ct := f.ct[0]
		studyPath := "/dicomweb/studies/" + ct.study
		seriesPath := studyPath + "/series/" + ct.series
		cases := []struct{ path, q string }{
			{"/dicomweb/studies", ""},
			{"/dicomweb/studies", "limit=2&offset=1"},
			{"/dicomweb/studies", "includefield=all"},
			{"/dicomweb/studies", "includefield=PatientAge,00081030&includefield=InstitutionName"},
			{"/dicomweb/studies", "PatientName=a&fuzzymatching=true"},
			{"/dicomweb/studies", "Modality=CT&SOPInstanceUID=" + ct.sop},
			{"/dicomweb/series", "Modality=CT"},
			{"/dicomweb/series", "includefield=all&limit=2"},
			{studyPath + "/series", ""},
			{"/dicomweb/instances", "limit=5&offset=2"},
			{"/dicomweb/instances", "includefield=ImageType,SliceThickness"},
			{"/dicomweb/instances", "includefield=all&limit=3"},
			{studyPath + "/instances", "InstanceNumber=2"},
			{studyPath + "/instances", ""},
			{studyPath + "/instances", "limit=3&offset=2"},
			{seriesPath + "/instances", ""},
			{seriesPath + "/instances", "limit=2&offset=1"},
			{seriesPath + "/instances", "includefield=all"},
			{seriesPath + "/instances", "includefield=PatientName,StudyDate,Modality,NumberOfSeriesRelatedInstances"},
		}
		for _, c := range cases {
			want := referenceQIDO(t, f.env, f.srv.URL+"/dicomweb", c.path, c.q)
			// Twice: a series' instance list is answered from the cache the
			// second time.
			for range 2 {
				r := f.get(c.path+"?"+c.q, "tokA", nil)
				if r.code != 200 {
					t.Fatalf("%s?%s: %d %s", c.path, c.q, r.code, r.body)
				}
				if !bytes.Equal(r.body, want) {
					t.Errorf("%s?%s:\n got %s\nwant %s", c.path, c.q, r.body, want)
				}
				if len(jsonArray(t, r.body)) == 0 {
					t.Errorf("%s?%s: no results", c.path, c.q)
				}
			}
		}
	})
}

// A series' (or study's) cached instance list follows the series (an
// instance stored into it shows at once), keeps its paging Warning, is gzipped when asked
// and is not shown to a caller who cannot see the study.
func TestQIDOSeriesCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ct := f.ct[0]
		path := "/dicomweb/studies/" + ct.study + "/series/" + ct.series + "/instances"
		for range 2 {
			r := f.get(path+"?limit=3", "tokA", nil)
			if got := jsonArray(t, r.body); len(got) != 3 || !strings.Contains(r.h.Get("Warning"), "offset=3") {
				t.Fatalf("limit=3: %d results, Warning %q", len(got), r.h.Get("Warning"))
			}
			if r := f.get(path, "tokB", nil); r.code != 200 || string(r.body) != "[]" {
				t.Fatalf("other facility: %d %s", r.code, r.body)
			}
		}
		before := f.get(path, "tokA", nil)
		gz := f.get(path, "tokA", map[string]string{"Accept-Encoding": "gzip"})
		if gz.h.Get("Content-Encoding") != "gzip" {
			t.Fatalf("not gzipped: %v", gz.h)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz.body))
		if err != nil {
			t.Fatal(err)
		}
		if plain, err := io.ReadAll(zr); err != nil || !bytes.Equal(plain, before.body) {
			t.Fatalf("gzipped body differs: %v", err)
		}

		studyPath := "/dicomweb/studies/" + ct.study + "/instances"
		f.get(studyPath, "tokA", nil) // kept
		sop := f.storeCopy(ct, "99")
		after := f.get(path, "tokA", nil)
		got := jsonArray(t, after.body)
		if len(got) != len(jsonArray(t, before.body))+1 || jsonStr(got[len(got)-1], "00080018") != sop {
			t.Fatalf("stored instance missing from the series' list: %s", after.body)
		}
		for _, p := range []string{path, studyPath} {
			r := f.get(p, "tokA", nil)
			if want := referenceQIDO(t, f.env, f.srv.URL+"/dicomweb", p, ""); !bytes.Equal(r.body, want) {
				t.Fatalf("%s after a store:\n got %s\nwant %s", p, r.body, want)
			}
		}
	})
}

// storeCopy stores a copy of s under a new SOP Instance UID (s's with a
// suffix) and instance number into s's series, returning the new UID.
// cut, when not nil, gives the bytes sent from the Part 10 file and where
// its data set starts (to send it without preamble or meta).
func (f *fixture) storeCopy(s *stored, suffix string, cut ...func(file []byte, dataset int64) []byte) string {
	f.t.Helper()
	file, err := dcm.ReadFile(bytes.NewReader(s.data), dcm.ReadOptions{LoadBulk: true})
	if err != nil {
		f.t.Fatal(err)
	}
	sop := s.sop + "." + suffix
	file.Dataset.SetStr(dcm.TagSOPInstanceUID, sop)
	file.Dataset.SetStr(dcm.TagInstanceNumber, suffix)
	var b bytes.Buffer
	if err := dcm.WriteFile(&b, file.Dataset, file.TransferSyntax.UID, ""); err != nil {
		f.t.Fatal(err)
	}
	data := b.Bytes()
	if len(cut) > 0 {
		again, err := dcm.ReadFile(bytes.NewReader(data), dcm.ReadOptions{})
		if err != nil {
			f.t.Fatal(err)
		}
		data = cut[0](data, again.DatasetOffset)
	}
	if _, err := f.a.Store(context.Background(), bytes.NewReader(data), archive.Source{Facility: "SGH"}); err != nil {
		f.t.Fatal(err)
	}
	return sop
}

// A whole series' instance list, kept between requests, follows the
// series: a stored instance is in the next response. From the second
// request on, the response has a Content-Length (each part's prefix was
// learnt by the first) and is byte for byte the first, whatever the
// instances' prefixes and sizes (parts of 32 KB go by sendfile).
func TestWADOSeriesFilesCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		big := generate(t, gen.Options{Modality: "CT", Slices: 2, Patients: 1, FirstPatient: 7, Rows: 128, Columns: 128, Facility: "SGH"})
		f.add("SGH", big)
		f.storeCopy(big[0], "90", func(b []byte, _ int64) []byte { return b[128:] })
		f.storeCopy(big[0], "91", func(b []byte, _ int64) []byte { return b[132:] })
		f.storeCopy(big[0], "92", func(b []byte, ds int64) []byte { return b[ds:] })
		f.storeCopy(f.ct[0], "93", func(b []byte, ds int64) []byte { return b[ds:] })
		accept := map[string]string{"Accept": `multipart/related; type="application/dicom"; transfer-syntax=*`}
		for _, c := range []struct {
			s *stored
			n int
		}{{f.ct[0], len(f.ct) + 1}, {big[0], len(big) + 3}} {
			path := "/dicomweb/studies/" + c.s.study + "/series/" + c.s.series
			var first resp
			for i := range 3 {
				r := f.get(path, "tokA", accept)
				ps := parts(t, r)
				if r.code != 200 || len(ps) != c.n {
					t.Fatalf("series: %d, %d parts", r.code, len(ps))
				}
				for _, p := range ps {
					if !bytes.Equal(p.body[128:132], []byte("DICM")) {
						t.Fatalf("part without preamble: %q", p.body[:8])
					}
				}
				if i > 0 && (!bytes.Equal(r.body, first.body) || r.h.Get("Content-Length") != strconv.Itoa(len(r.body))) {
					t.Fatalf("request %d: the same bytes %v, Content-Length %q of %d", i, bytes.Equal(r.body, first.body), r.h.Get("Content-Length"), len(r.body))
				}
				first = r
				if r := f.get(path, "tokB", accept); r.code != 404 {
					t.Fatalf("other facility: %d", r.code)
				}
			}
		}
		ct := f.ct[0]
		path := "/dicomweb/studies/" + ct.study + "/series/" + ct.series
		sop := f.storeCopy(ct, "99")
		ps := parts(t, f.get(path, "tokA", accept))
		if len(ps) != len(f.ct)+2 || !strings.HasSuffix(ps[len(ps)-1].header["Content-Location"][0], sop) {
			t.Fatalf("stored instance missing: %d parts", len(ps))
		}
		for _, p := range ps {
			if in := f.insts[p.header["Content-Location"][0][strings.LastIndex(p.header["Content-Location"][0], "/")+1:]]; in != nil && !bytes.Equal(p.body, in.data) {
				t.Fatalf("%s: not the stored bytes", in.sop)
			}
		}
	})
}
