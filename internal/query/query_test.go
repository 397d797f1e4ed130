package query

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"lightbox/internal/archive"
	"lightbox/internal/archive/archivetest"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
)

type inst struct {
	facility                                string
	study, series, sop                      string
	pid, issuer, name, birth, sex           string
	date, tm, acc, desc, referring, station string
	modality                                string
	seriesNo, instNo                        string
}

func (in inst) dataset() *dcm.Dataset {
	ds := &dcm.Dataset{}
	ds.SetStr(dcm.TagSpecificCharacterSet, "ISO_IR 192")
	ds.SetStr(dcm.TagSOPClassUID, "1.2.840.10008.5.1.4.1.1.2")
	ds.SetStr(dcm.TagSOPInstanceUID, in.sop)
	ds.SetStr(dcm.TagStudyInstanceUID, in.study)
	ds.SetStr(dcm.TagSeriesInstanceUID, in.series)
	ds.SetStr(dcm.TagPatientID, in.pid)
	ds.SetStr(dcm.TagIssuerOfPatientID, in.issuer)
	ds.SetStr(dcm.TagPatientName, in.name)
	ds.SetStr(dcm.TagPatientBirthDate, in.birth)
	ds.SetStr(dcm.TagPatientSex, in.sex)
	ds.SetStr(dcm.TagPatientAge, "055Y")
	ds.SetStr(dcm.TagStudyDate, in.date)
	ds.SetStr(dcm.TagStudyTime, in.tm)
	ds.SetStr(dcm.TagAccessionNumber, in.acc)
	ds.SetStr(dcm.TagStudyDescription, in.desc)
	ds.SetStr(dcm.TagReferringPhysicianName, in.referring)
	ds.SetStr(dcm.TagStationName, in.station)
	ds.SetStr(dcm.TagInstitutionName, "Hôpital "+in.facility)
	ds.SetStr(dcm.TagModality, in.modality)
	ds.SetStr(dcm.TagSeriesNumber, in.seriesNo)
	ds.SetStr(dcm.TagInstanceNumber, in.instNo)
	ds.SetStr(dcm.TagImageType, "ORIGINAL", "PRIMARY", "AXIAL")
	ds.SetStr(dcm.TagSliceThickness, "2.5")
	ds.SetUint16(dcm.TagRows, 4)
	ds.SetUint16(dcm.TagColumns, 4)
	ds.SetUint16(dcm.TagBitsAllocated, 16)
	ds.SetUint16(dcm.TagBitsStored, 12)
	ds.SetUint16(dcm.TagSamplesPerPixel, 1)
	ds.SetStr(dcm.TagPhotometricInterpretation, "MONOCHROME2")
	ds.SetBytes(dcm.TagPixelData, "OW", make([]byte, 32))
	return ds
}

// corpus: facility A has patient P1 (two studies) and P2; facility B has
// a different patient also called P1.
var corpus = []inst{
	{facility: "A", study: "1.1", series: "1.1.1", sop: "1.1.1.1", pid: "P1", issuer: "A-MRN", name: "Doe^John", birth: "19700101", sex: "M",
		date: "20250110", tm: "083000", acc: "ACC1", desc: "CT CHEST", referring: "Ref^Doc", station: "CT1", modality: "CT", seriesNo: "1", instNo: "1"},
	{facility: "A", study: "1.1", series: "1.1.1", sop: "1.1.1.2", pid: "P1", issuer: "A-MRN", name: "Doe^John", birth: "19700101", sex: "M",
		date: "20250110", tm: "083000", acc: "ACC1", desc: "CT CHEST", referring: "Ref^Doc", station: "CT1", modality: "CT", seriesNo: "1", instNo: "2"},
	{facility: "A", study: "1.1", series: "1.1.2", sop: "1.1.2.1", pid: "P1", issuer: "A-MRN", name: "Doe^John", birth: "19700101", sex: "M",
		date: "20250110", tm: "083000", acc: "ACC1", desc: "CT CHEST", referring: "Ref^Doc", station: "CT1", modality: "CT", seriesNo: "2", instNo: "1"},
	{facility: "A", study: "1.2", series: "1.2.1", sop: "1.2.1.1", pid: "P2", issuer: "A-MRN", name: "Smith^Anna", birth: "19800202", sex: "F",
		date: "20250120", tm: "221500", acc: "AB_1%", desc: "MR BRAIN", referring: "Other^Doc", station: "MR1", modality: "MR", seriesNo: "1", instNo: "1"},
	{facility: "B", study: "1.3", series: "1.3.1", sop: "1.3.1.1", pid: "P1", issuer: "B-MRN", name: "Other^Person", birth: "19600303", sex: "O",
		date: "20250115", tm: "120000", acc: "ACC3", desc: "CT CHEST", referring: "Ref^Doc", station: "CT9", modality: "CT", seriesNo: "1", instNo: "1"},
	{facility: "A", study: "1.4", series: "1.4.1", sop: "1.4.1.1", pid: "P1", issuer: "A-MRN", name: "Doe^John", birth: "19700101", sex: "M",
		date: "20250121", tm: "050000", acc: "ACC4", desc: "CT HEAD", referring: "Ref^Doc", station: "CT1", modality: "CT", seriesNo: "1", instNo: "1"},
}

func seed(t *testing.T, d *db.DB) *Engine {
	t.Helper()
	a := archivetest.New(t, d)
	for _, in := range corpus {
		var buf bytes.Buffer
		if err := dcm.WriteFile(&buf, in.dataset(), dcm.ExplicitVRLittleEndian, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Store(context.Background(), &buf, archive.Source{Facility: in.facility}); err != nil {
			t.Fatal(err)
		}
	}
	return New(d)
}

func forEachDB(t *testing.T, fn func(t *testing.T, e *Engine)) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) { fn(t, seed(t, d)) })
}

var scopeA = Scope{Facilities: []string{"A"}}

// find runs a query that must succeed.
func find(t *testing.T, e *Engine, q Query) *Result {
	t.Helper()
	res, err := e.Find(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func uids(res *Result, t dcm.Tag) []string {
	var out []string
	for _, ds := range res.Datasets {
		out = append(out, ds.Str(t))
	}
	return out
}

func TestStudyMatching(t *testing.T) {
	cases := []struct {
		name  string
		match map[dcm.Tag]string
		fuzzy bool
		want  []string
		err   bool
	}{
		{name: "universal", want: []string{"1.4", "1.2", "1.1"}},
		{name: "pn wildcard case-insensitive", match: map[dcm.Tag]string{dcm.TagPatientName: "doe*"}, want: []string{"1.4", "1.1"}},
		{name: "pn exact", match: map[dcm.Tag]string{dcm.TagPatientName: "DOE^JOHN"}, want: []string{"1.4", "1.1"}},
		{name: "pn exact no prefix", match: map[dcm.Tag]string{dcm.TagPatientName: "Doe"}},
		{name: "pn question mark", match: map[dcm.Tag]string{dcm.TagPatientName: "D?E*"}, want: []string{"1.4", "1.1"}},
		{name: "pn fuzzy given name", match: map[dcm.Tag]string{dcm.TagPatientName: "joh"}, fuzzy: true, want: []string{"1.4", "1.1"}},
		{name: "pn fuzzy family", match: map[dcm.Tag]string{dcm.TagPatientName: "SMI"}, fuzzy: true, want: []string{"1.2"}},
		{name: "pn fuzzy no infix", match: map[dcm.Tag]string{dcm.TagPatientName: "mith"}, fuzzy: true},
		{name: "referring pn", match: map[dcm.Tag]string{dcm.TagReferringPhysicianName: "ref*"}, want: []string{"1.4", "1.1"}},
		{name: "patient id scoped", match: map[dcm.Tag]string{dcm.TagPatientID: "P1"}, want: []string{"1.4", "1.1"}},
		{name: "accession literal percent", match: map[dcm.Tag]string{dcm.TagAccessionNumber: "AB_1%"}, want: []string{"1.2"}},
		{name: "accession wildcard with underscore", match: map[dcm.Tag]string{dcm.TagAccessionNumber: "AB_*"}, want: []string{"1.2"}},
		{name: "accession escaped underscore", match: map[dcm.Tag]string{dcm.TagAccessionNumber: "A_*"}},
		{name: "accession escaped percent", match: map[dcm.Tag]string{dcm.TagAccessionNumber: "A%*"}},
		{name: "accession case-sensitive", match: map[dcm.Tag]string{dcm.TagAccessionNumber: "acc*"}},
		{name: "accession question", match: map[dcm.Tag]string{dcm.TagAccessionNumber: "ACC?"}, want: []string{"1.4", "1.1"}},
		{name: "accession list", match: map[dcm.Tag]string{dcm.TagAccessionNumber: `ACC4\ACC1`}, want: []string{"1.4", "1.1"}},
		{name: "description infix", match: map[dcm.Tag]string{dcm.TagStudyDescription: "*HEAD*"}, want: []string{"1.4"}},
		{name: "date single", match: map[dcm.Tag]string{dcm.TagStudyDate: "20250110"}, want: []string{"1.1"}},
		{name: "date range", match: map[dcm.Tag]string{dcm.TagStudyDate: "20250115-20250121"}, want: []string{"1.4", "1.2"}},
		{name: "date open start", match: map[dcm.Tag]string{dcm.TagStudyDate: "-20250111"}, want: []string{"1.1"}},
		{name: "date open end", match: map[dcm.Tag]string{dcm.TagStudyDate: "20250120-"}, want: []string{"1.4", "1.2"}},
		{name: "bad date", match: map[dcm.Tag]string{dcm.TagStudyDate: "2025-13-45"}, err: true},
		{name: "bad month", match: map[dcm.Tag]string{dcm.TagStudyDate: "20251345"}, err: true},
		{name: "date wildcard", match: map[dcm.Tag]string{dcm.TagStudyDate: "2025*"}, err: true},
		{name: "time range", match: map[dcm.Tag]string{dcm.TagStudyTime: "0800-0900"}, want: []string{"1.1"}},
		{name: "time single prefix", match: map[dcm.Tag]string{dcm.TagStudyTime: "0830"}, want: []string{"1.1"}},
		{name: "bad time", match: map[dcm.Tag]string{dcm.TagStudyTime: "2500"}, err: true},
		{name: "combined date time", match: map[dcm.Tag]string{dcm.TagStudyDate: "20250120-20250121", dcm.TagStudyTime: "220000-060000"}, want: []string{"1.4", "1.2"}},
		{name: "combined date time narrow", match: map[dcm.Tag]string{dcm.TagStudyDate: "20250120-20250121", dcm.TagStudyTime: "230000-060000"}, want: []string{"1.4"}},
		{name: "combined upper", match: map[dcm.Tag]string{dcm.TagStudyDate: "-20250121", dcm.TagStudyTime: "-0400"}, want: []string{"1.2", "1.1"}},
		{name: "uid list", match: map[dcm.Tag]string{dcm.TagStudyInstanceUID: `1.1\1.2\1.3`}, want: []string{"1.2", "1.1"}},
		{name: "uid other facility", match: map[dcm.Tag]string{dcm.TagStudyInstanceUID: "1.3"}},
		{name: "modalities", match: map[dcm.Tag]string{dcm.TagModalitiesInStudy: "MR"}, want: []string{"1.2"}},
		{name: "modalities list", match: map[dcm.Tag]string{dcm.TagModalitiesInStudy: `CT\MR`}, want: []string{"1.4", "1.2", "1.1"}},
		{name: "birth date", match: map[dcm.Tag]string{dcm.TagPatientBirthDate: "19800101-19801231"}, want: []string{"1.2"}},
		{name: "sex", match: map[dcm.Tag]string{dcm.TagPatientSex: "F"}, want: []string{"1.2"}},
		{name: "series attribute at study level is ignored", match: map[dcm.Tag]string{dcm.TagModality: "MR"}, want: []string{"1.4", "1.2", "1.1"}},
	}
	forEachDB(t, func(t *testing.T, e *Engine) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res, err := e.Find(context.Background(), Query{Level: Study, Match: c.match, Fuzzy: c.fuzzy, Scope: scopeA})
				if c.err {
					var ke *KeyError
					if !errors.As(err, &ke) {
						t.Fatalf("want KeyError, got %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := uids(res, dcm.TagStudyInstanceUID); !slices.Equal(got, c.want) {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			})
		}
	})
}

func TestStudyAttributesAndPaging(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *Engine) {
		ctx := context.Background()
		res := find(t, e, Query{Level: Study, Scope: scopeA, Limit: 2,
			Match:  map[dcm.Tag]string{dcm.TagPatientAge: "055Y"},
			Return: []dcm.Tag{dcm.TagInstitutionName, dcm.TagStationName}})
		if !res.More || len(res.Datasets) != 2 {
			t.Fatalf("more=%v n=%d", res.More, len(res.Datasets))
		}
		if !slices.Equal(res.Unsupported, []dcm.Tag{dcm.TagPatientAge}) {
			t.Fatalf("unsupported %v", res.Unsupported)
		}
		ds := res.Datasets[1] // study 1.2
		for tag, want := range map[dcm.Tag]string{
			dcm.TagPatientName: "Smith^Anna", dcm.TagPatientID: "P2", dcm.TagIssuerOfPatientID: "A-MRN", dcm.TagAccessionNumber: "AB_1%",
			dcm.TagModalitiesInStudy: "MR", dcm.TagNumberOfStudyRelatedSeries: "1", dcm.TagNumberOfStudyRelatedInstances: "1",
			dcm.TagStudyDate: "20250120", dcm.TagStudyTime: "221500", dcm.TagInstitutionName: "Hôpital A", dcm.TagPatientAge: "055Y",
			dcm.TagSpecificCharacterSet: "ISO_IR 192", dcm.TagReferringPhysicianName: "Other^Doc",
		} {
			if got := ds.Str(tag); got != want {
				t.Errorf("%s = %q, want %q", tag, got, want)
			}
		}
		// An explicitly requested attribute the index lacks comes from the
		// study's first instance, whatever its module.
		if ds.Str(dcm.TagStationName) != "MR1" {
			t.Errorf("StationName = %q", ds.Str(dcm.TagStationName))
		}
		res = find(t, e, Query{Level: Study, Scope: scopeA, Limit: 2, Offset: 2})
		if res.More || !slices.Equal(uids(res, dcm.TagStudyInstanceUID), []string{"1.1"}) {
			t.Fatalf("page 2: more=%v %v", res.More, uids(res, dcm.TagStudyInstanceUID))
		}
		res = find(t, e, Query{Level: Study, Scope: scopeA, Offset: 1})
		if !slices.Equal(uids(res, dcm.TagStudyInstanceUID), []string{"1.2", "1.1"}) {
			t.Fatalf("offset without limit: %v", uids(res, dcm.TagStudyInstanceUID))
		}
		// Scopes.
		res = find(t, e, Query{Level: Study, Scope: Scope{All: true}})
		if len(res.Datasets) != 4 {
			t.Fatalf("all scope: %d", len(res.Datasets))
		}
		res = find(t, e, Query{Level: Study, Scope: Scope{}})
		if len(res.Datasets) != 0 {
			t.Fatalf("empty scope: %d", len(res.Datasets))
		}
		res = find(t, e, Query{Level: Study, Scope: Scope{Facilities: []string{"B"}}, Match: map[dcm.Tag]string{dcm.TagPatientID: "P1"}})
		if got := uids(res, dcm.TagStudyInstanceUID); !slices.Equal(got, []string{"1.3"}) {
			t.Fatalf("facility B: %v", got)
		}
		if res.Datasets[0].Str(dcm.TagPatientName) != "Other^Person" {
			t.Fatalf("facility B patient is a different patient")
		}
		if _, err := e.Find(ctx, Query{Level: Study, Scope: scopeA, Limit: -1}); err == nil {
			t.Fatal("negative limit accepted")
		}
	})
}

func TestSeriesAndImage(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *Engine) {
		ctx := context.Background()
		res := find(t, e, Query{Level: Series, Scope: scopeA, Match: map[dcm.Tag]string{dcm.TagStudyInstanceUID: "1.1"}})
		if got := uids(res, dcm.TagSeriesInstanceUID); !slices.Equal(got, []string{"1.1.1", "1.1.2"}) {
			t.Fatalf("series: %v", got)
		}
		ds := res.Datasets[0]
		if ds.Str(dcm.TagModality) != "CT" || ds.Str(dcm.TagSeriesNumber) != "1" || ds.Str(dcm.TagNumberOfSeriesRelatedInstances) != "2" {
			t.Fatalf("series attributes: %s", dcm.MarshalJSON(ds, dcm.JSONOptions{}))
		}
		res = find(t, e, Query{Level: Series, Scope: scopeA, Match: map[dcm.Tag]string{dcm.TagSeriesNumber: "2"}})
		if got := uids(res, dcm.TagSeriesInstanceUID); !slices.Equal(got, []string{"1.1.2"}) {
			t.Fatalf("series number: %v", got)
		}
		if _, err := e.Find(ctx, Query{Level: Series, Scope: scopeA, Match: map[dcm.Tag]string{dcm.TagSeriesNumber: "x"}}); err == nil {
			t.Fatal("bad series number accepted")
		}
		res = find(t, e, Query{Level: Series, Scope: scopeA, Match: map[dcm.Tag]string{dcm.TagModality: "MR"}, IncludeAll: true})
		if got := uids(res, dcm.TagSeriesInstanceUID); !slices.Equal(got, []string{"1.2.1"}) {
			t.Fatalf("modality: %v", got)
		}
		if res.Datasets[0].Str(dcm.TagStationName) != "MR1" || res.Datasets[0].Has(dcm.TagSOPInstanceUID) {
			t.Fatalf("series includefield=all: %s", dcm.MarshalJSON(res.Datasets[0], dcm.JSONOptions{}))
		}

		res = find(t, e, Query{Level: Image, Scope: scopeA, Match: map[dcm.Tag]string{dcm.TagSeriesInstanceUID: "1.1.1"}, IncludeAll: true})
		if got := uids(res, dcm.TagSOPInstanceUID); !slices.Equal(got, []string{"1.1.1.1", "1.1.1.2"}) {
			t.Fatalf("instances: %v", got)
		}
		ds = res.Datasets[1]
		if ds.Str(TagAvailableTransferSyntaxUID) != dcm.ExplicitVRLittleEndian || ds.Str(dcm.TagInstanceNumber) != "2" ||
			ds.IntOr(dcm.TagRows, 0) != 4 || ds.Str(dcm.TagSliceThickness) != "2.5" || len(ds.Strs(dcm.TagImageType)) != 3 {
			t.Fatalf("instance attributes: %s", dcm.MarshalJSON(ds, dcm.JSONOptions{}))
		}
		if ds.Has(dcm.TagPixelData) {
			t.Fatal("bulk data returned by query")
		}
		res = find(t, e, Query{Level: Image, Scope: Scope{Facilities: []string{"B"}}, Match: map[dcm.Tag]string{dcm.TagSeriesInstanceUID: "1.1.1"}})
		if len(res.Datasets) != 0 {
			t.Fatal("instances of facility A visible to B")
		}
	})
}

func TestPatientLevel(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *Engine) {
		ctx := context.Background()
		res := find(t, e, Query{Level: Patient, Scope: scopeA, Match: map[dcm.Tag]string{dcm.TagPatientID: "P1"}})
		if len(res.Datasets) != 1 || res.Datasets[0].Str(dcm.TagIssuerOfPatientID) != "A-MRN" ||
			res.Datasets[0].Str(tagNumberOfPatientRelatedStudies) != "2" {
			t.Fatalf("patient A: %d", len(res.Datasets))
		}
		res, _ = e.Find(ctx, Query{Level: Patient, Scope: Scope{All: true}, Match: map[dcm.Tag]string{dcm.TagPatientID: "P1"},
			Return: []dcm.Tag{dcm.TagPatientAge}})
		if got := uids(res, dcm.TagIssuerOfPatientID); !slices.Equal(got, []string{"A-MRN", "B-MRN"}) {
			t.Fatalf("issuer-aware patients: %v", got)
		}
		if res.Datasets[1].Str(dcm.TagPatientAge) != "055Y" {
			t.Fatal("patient extra attribute")
		}
	})
}

func TestFromIdentifierReturnOnly(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *Engine) {
		id := &dcm.Dataset{}
		id.SetStr(dcm.TagQueryRetrieveLevel, "STUDY")
		id.SetStr(dcm.TagPatientName, "DOE*")
		id.Put(&dcm.Element{Tag: dcm.TagStudyDate, VR: "DA"})
		id.Put(&dcm.Element{Tag: dcm.TagSeriesDescription, VR: "LO"})
		id.Put(&dcm.Element{Tag: dcm.TagStationName, VR: "SH"})
		id.SetStr(dcm.TagPatientAge, "055Y")
		q, err := FromIdentifier(id)
		if err != nil {
			t.Fatal(err)
		}
		q.Scope = scopeA
		res, err := e.Find(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Datasets) != 2 || len(res.Unsupported) != 1 {
			t.Fatalf("n=%d unsupported=%v", len(res.Datasets), res.Unsupported)
		}
		var got []string
		for _, el := range res.Datasets[0].Elements {
			got = append(got, dcm.Keyword(el.Tag))
		}
		want := []string{"StudyDate", "StationName", "SeriesDescription", "PatientName", "PatientAge", "StudyInstanceUID"}
		if !slices.Equal(got, want) {
			t.Fatalf("returned %v, want %v", got, want)
		}
		if res.Datasets[0].Str(dcm.TagSeriesDescription) != "" {
			t.Fatal("a series attribute at study level has a value")
		}
	})
}

func TestInstancesAndMeta(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *Engine) {
		ctx := context.Background()
		ins, err := e.Instances(ctx, scopeA, Target{StudyUID: "1.1"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, in := range ins {
			got = append(got, in.SOPInstanceUID)
		}
		if !slices.Equal(got, []string{"1.1.1.1", "1.1.1.2", "1.1.2.1"}) {
			t.Fatalf("instances %v", got)
		}
		if in := ins[0]; in.BlobKey == "" || in.Size == 0 || len(in.Frames) != 1 || in.Frames[0][0][1] != 32 || in.TransferSyntax != dcm.ExplicitVRLittleEndian {
			t.Fatalf("instance fields %+v", in)
		}
		ins, _ = e.Instances(ctx, Scope{Facilities: []string{"B"}}, Target{StudyUID: "1.1"})
		if len(ins) != 0 {
			t.Fatal("scope ignored")
		}
		ins, _ = e.Instances(ctx, scopeA, Target{SOPInstanceUID: `1.1.2.1\1.2.1.1\1.3.1.1`})
		if len(ins) != 2 {
			t.Fatalf("sop list: %d", len(ins))
		}
		if _, err := e.Instances(ctx, scopeA, Target{}); err == nil {
			t.Fatal("empty target accepted")
		}
		n, err := e.EachMeta(ctx, scopeA, Target{StudyUID: "1.1", SeriesUID: "1.1.1"}, func(uid string, meta []byte) error {
			if !strings.Contains(string(meta), "{{dicomweb}}/studies/1.1/series/1.1.1/instances/"+uid+"/bulk/7FE00010") {
				t.Errorf("meta of %s lacks its bulk data URI", uid)
			}
			ds, err := DecodeJSON(meta)
			if err != nil {
				return err
			}
			if ds.Str(dcm.TagSOPInstanceUID) != uid {
				t.Errorf("decoded %s", ds.Str(dcm.TagSOPInstanceUID))
			}
			return nil
		})
		if err != nil || n != 2 {
			t.Fatalf("meta rows %d %v", n, err)
		}
	})
}

func TestDecodeJSONRoundTrip(t *testing.T) {
	ds := corpus[0].dataset()
	ds.Delete(dcm.TagPixelData)
	ds.SetSeq(dcm.TagProcedureCodeSequence, func() *dcm.Dataset {
		it := &dcm.Dataset{}
		it.SetStr(dcm.TagCodeValue, "71250")
		return it
	}())
	ds.SetStr(dcm.TagPatientName, "Doe^John=ド^ジョン")
	ds.Put(&dcm.Element{Tag: dcm.TagWindowCenter, VR: "DS", Value: []byte(`40\-600 `)})
	ds.SetUint32(0x00280106, 7)
	first := dcm.MarshalJSON(ds, dcm.JSONOptions{})
	back, err := DecodeJSON(first)
	if err != nil {
		t.Fatal(err)
	}
	if second := dcm.MarshalJSON(back, dcm.JSONOptions{}); !bytes.Equal(first, second) {
		t.Fatalf("round trip differs:\n%s\n%s", first, second)
	}
	for _, bad := range []string{`[]`, `{"zz":{"vr":"CS"}}`, `{"00100010":{"vr":"PN","Value":[3]}}`, `{"00280010":{"vr":"US","Value":["x"]}}`} {
		if _, err := DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// FindEach's reused data sets hold exactly what Find's fresh ones do, in
// the same order, at every level, with C-FIND keys of lower levels (empty
// elements), stored-metadata attributes, paging and fuzzy matching.
func TestFindEachMatchesFind(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *Engine) {
		ctx := context.Background()
		queries := []Query{
			{Level: Patient, Scope: scopeA},
			{Level: Study, Scope: scopeA},
			{Level: Study, Scope: Scope{All: true}, Match: map[dcm.Tag]string{dcm.TagPatientName: "doe", dcm.TagModality: "CT"}, Fuzzy: true},
			{Level: Study, Scope: scopeA, Match: map[dcm.Tag]string{dcm.TagSeriesInstanceUID: "", dcm.TagStudyDate: ""}, ReturnOnly: true},
			{Level: Series, Scope: scopeA, Limit: 2, Offset: 1},
			{Level: Series, Scope: scopeA, IncludeAll: true},
			{Level: Image, Scope: scopeA},
			{Level: Image, Scope: scopeA, Match: map[dcm.Tag]string{dcm.TagSeriesInstanceUID: "1.1.1"}, Return: []dcm.Tag{dcm.TagSliceThickness}},
			{Level: Image, Scope: scopeA, Match: map[dcm.Tag]string{dcm.TagSOPInstanceUID: "", dcm.TagRows: ""}, ReturnOnly: true, Limit: 3},
		}
		for i, q := range queries {
			res := find(t, e, q)
			var want [][]byte
			for _, ds := range res.Datasets {
				want = append(want, dcm.MarshalJSON(ds, dcm.JSONOptions{}))
			}
			var got [][]byte
			each, err := e.FindEach(ctx, q, func(ds *dcm.Dataset) error {
				got = append(got, dcm.MarshalJSON(ds, dcm.JSONOptions{}))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 || !slices.EqualFunc(got, want, bytes.Equal) || each.More != res.More || len(each.Datasets) != 0 {
				t.Errorf("query %d:\n got %s (more %v)\nwant %s (more %v)", i, bytes.Join(got, []byte("\n")), each.More,
					bytes.Join(want, []byte("\n")), res.More)
			}
		}
		stop := errors.New("stop")
		n := 0
		if _, err := e.FindEach(ctx, Query{Level: Image, Scope: scopeA}, func(*dcm.Dataset) error { n++; return stop }); err != stop || n != 1 {
			t.Fatalf("an error from fn: %v after %d results", err, n)
		}
	})
}
