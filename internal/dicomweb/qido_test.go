package dicomweb

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
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
			{seriesPath + "/instances", ""},
			{seriesPath + "/instances", "limit=2&offset=1"},
			{seriesPath + "/instances", "includefield=all"},
			{seriesPath + "/instances", "includefield=PatientName,StudyDate,Modality,NumberOfSeriesRelatedInstances"},
		}
		for _, c := range cases {
			r := f.get(c.path+"?"+c.q, "tokA", nil)
			if r.code != 200 {
				t.Fatalf("%s?%s: %d %s", c.path, c.q, r.code, r.body)
			}
			want := referenceQIDO(t, f.env, f.srv.URL+"/dicomweb", c.path, c.q)
			if !bytes.Equal(r.body, want) {
				t.Errorf("%s?%s:\n got %s\nwant %s", c.path, c.q, r.body, want)
			}
			if len(jsonArray(t, r.body)) == 0 {
				t.Errorf("%s?%s: no results", c.path, c.q)
			}
		}
	})
}
