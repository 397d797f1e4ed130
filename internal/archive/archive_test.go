package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"lightbox/internal/blob"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
)

func testInstance(study, series, sop, patientID, issuer string, rows int) *dcm.Dataset {
	ds := &dcm.Dataset{}
	ds.SetStr(dcm.TagSOPClassUID, "1.2.840.10008.5.1.4.1.1.2")
	ds.SetStr(dcm.TagSOPInstanceUID, sop)
	ds.SetStr(dcm.TagStudyInstanceUID, study)
	ds.SetStr(dcm.TagSeriesInstanceUID, series)
	ds.SetStr(dcm.TagPatientID, patientID)
	if issuer != "" {
		ds.SetStr(dcm.TagIssuerOfPatientID, issuer)
	}
	ds.SetStr(dcm.TagPatientName, "TEST^ARCHIVE")
	ds.SetStr(dcm.TagModality, "CT")
	ds.SetStr(dcm.TagAccessionNumber, "ACC1")
	ds.SetStr(dcm.TagInstanceNumber, "1")
	ds.SetUint16(dcm.TagRows, uint16(rows))
	ds.SetUint16(dcm.TagColumns, uint16(rows))
	ds.SetUint16(dcm.TagBitsAllocated, 16)
	ds.SetUint16(dcm.TagSamplesPerPixel, 1)
	ds.SetBytes(dcm.TagPixelData, "OW", make([]byte, rows*rows*2))
	return ds
}

func part10(t testing.TB, ds *dcm.Dataset) []byte {
	var b bytes.Buffer
	if err := dcm.WriteFile(&b, ds, dcm.ExplicitVRLittleEndian, ""); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type fixture struct {
	a     *Archive
	db    *db.DB
	root  string
	blobs *blob.Dir
}

func newFixture(t *testing.T, d *db.DB, policy DuplicatePolicy) *fixture {
	root := t.TempDir()
	b, err := blob.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	a := New(d, b, Options{Duplicates: policy})
	t.Cleanup(func() { a.Close(); b.Close() })
	return &fixture{a: a, db: d, root: root, blobs: b}
}

// eachFixture runs fn with a keep-first archive on a folder store, once per
// index back-end (dbtest.Each).
// read returns the stored bytes of ref.
func (f *fixture) read(t *testing.T, ctx context.Context, ref *InstanceRef) []byte {
	t.Helper()
	o, err := f.a.Open(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	got, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func eachFixture(t *testing.T, fn func(t *testing.T, ctx context.Context, f *fixture)) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		fn(t, context.Background(), newFixture(t, d, KeepFirst))
	})
}

func TestStoreAndDuplicates(t *testing.T) {
	eachFixture(t, func(t *testing.T, ctx context.Context, f *fixture) {
		data := part10(t, testInstance("1.2.1", "1.2.1.1", "1.2.1.1.1", "P1", "", 8))
		res, err := f.a.Store(ctx, bytes.NewReader(data), Source{Facility: "F1"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != Stored || res.Size != int64(len(data)) || res.FacilityID != "F1" {
			t.Fatalf("result %+v", res)
		}
		res, err = f.a.Store(ctx, bytes.NewReader(data), Source{Facility: "F1"})
		if err != nil || res.Outcome != SameDuplicate {
			t.Fatalf("same bytes again: %+v %v", res, err)
		}
		changed := testInstance("1.2.1", "1.2.1.1", "1.2.1.1.1", "P1", "", 8)
		changed.SetStr(dcm.TagPatientName, "TEST^CHANGED")
		res, err = f.a.Store(ctx, bytes.NewReader(part10(t, changed)), Source{Facility: "F1"})
		if err != nil || res.Outcome != KeptFirst {
			t.Fatalf("different bytes: %+v %v", res, err)
		}
		c, _ := f.a.Count(ctx)
		if c.Instances != 1 || c.Duplicates != 1 || c.Studies != 1 {
			t.Fatalf("counts %+v", c)
		}
		ref, err := f.a.Instance(ctx, "1.2.1.1.1")
		if err != nil || ref.SHA256 == res.Digest {
			t.Fatalf("first must be kept: %+v %v", ref, err)
		}
		if len(ref.Frames) != 1 || ref.Frames[0][0][1] != 128 {
			t.Errorf("frames %+v", ref.Frames)
		}
		if !bytes.Equal(f.read(t, ctx, ref), data) {
			t.Error("stored bytes differ from sent bytes")
		}
	})
}

func TestDuplicatePolicies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, p := range []DuplicatePolicy{Replace, Reject} {
			t.Run(string(p), func(t *testing.T) {
				ctx := context.Background()
				f := newFixture(t, d, p)
				sop := "1.3." + map[DuplicatePolicy]string{Replace: "1", Reject: "2"}[p]
				first := testInstance("1.3", "1.3.1", sop, "P1", "", 4)
				if _, err := f.a.Store(ctx, bytes.NewReader(part10(t, first)), Source{}); err != nil {
					t.Fatal(err)
				}
				second := testInstance("1.3", "1.3.1", sop, "P1", "", 4)
				second.SetStr(dcm.TagPatientName, "TEST^SECOND")
				res, err := f.a.Store(ctx, bytes.NewReader(part10(t, second)), Source{})
				ref, _ := f.a.Instance(ctx, sop)
				switch p {
				case Replace:
					if err != nil || res.Outcome != Replaced || ref.SHA256 != res.Digest {
						t.Fatalf("replace: %+v %v", res, err)
					}
				case Reject:
					if !errors.Is(err, ErrDuplicateRejected) || ref.SHA256 == res.Digest {
						t.Fatalf("reject: %+v %v", res, err)
					}
				}
			})
		}
	})
}

// Two facilities' "12345" are two patients.
func TestPatientsKeyedByIssuer(t *testing.T) {
	eachFixture(t, func(t *testing.T, ctx context.Context, f *fixture) {
		for i, fac := range []string{"FA", "FB"} {
			ds := testInstance(fmt.Sprintf("1.4.%d", i), fmt.Sprintf("1.4.%d.1", i), fmt.Sprintf("1.4.%d.1.1", i), "12345", "", 2)
			if _, err := f.a.Store(ctx, bytes.NewReader(part10(t, ds)), Source{Facility: fac}); err != nil {
				t.Fatal(err)
			}
		}
		if c, _ := f.a.Count(ctx); c.Patients != 2 {
			t.Fatalf("patients merged: %+v", c)
		}
	})
}

func TestRejectsBadInputWithoutTrace(t *testing.T) {
	eachFixture(t, func(t *testing.T, ctx context.Context, f *fixture) {
		good := part10(t, testInstance("1.5", "1.5.1", "1.5.1.1", "P", "", 4))
		noSOP := testInstance("1.5", "1.5.1", "1.5.1.2", "P", "", 4)
		noSOP.Delete(dcm.TagSOPInstanceUID)
		short := testInstance("1.5", "1.5.1", "1.5.1.3", "P", "", 4)
		short.SetBytes(dcm.TagPixelData, "OW", make([]byte, 10))
		cases := map[string][]byte{
			"truncated":    good[:len(good)-7],
			"not dicom":    []byte("hello, this is a text file and certainly not DICOM"),
			"missing SOP":  part10(t, noSOP),
			"short pixels": part10(t, short),
			"bad uid":      part10(t, testInstance("1.5", "1.5.1", "1.5.x.4", "P", "", 4)),
		}
		for name, data := range cases {
			_, err := f.a.Store(ctx, bytes.NewReader(data), Source{})
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("%s: want InputError, got %v", name, err)
			} else {
				t.Logf("%s: %v", name, err)
			}
		}
		if c, _ := f.a.Count(ctx); c.Instances != 0 || c.Studies != 0 {
			t.Errorf("rows written for rejected input: %+v", c)
		}
		var files []string
		_ = filepath.WalkDir(f.root, func(p string, de os.DirEntry, err error) error {
			if err == nil && !de.IsDir() && filepath.Ext(p) != ".lock" {
				files = append(files, p)
			}
			return nil
		})
		if len(files) != 0 {
			t.Errorf("files left behind: %v", files)
		}
	})
}

func TestConcurrentStoresGroupCommit(t *testing.T) {
	eachFixture(t, func(t *testing.T, ctx context.Context, f *fixture) {
		const n = 200
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				ds := testInstance(fmt.Sprintf("1.6.%d", i%3), fmt.Sprintf("1.6.%d.%d", i%3, i%7), fmt.Sprintf("1.6.9.%d", i), "P6", "", 16)
				_, err := f.a.Store(ctx, bytes.NewReader(part10(t, ds)), Source{})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		c, _ := f.a.Count(ctx)
		if c.Instances != n || c.Studies != 3 || c.Patients != 1 {
			t.Fatalf("counts %+v", c)
		}
		var sum int
		if err := f.db.QueryRow(ctx, "SELECT SUM(num_instances) FROM study").Scan(&sum); err != nil || sum != n {
			t.Fatalf("study counters %d %v", sum, err)
		}
		rep, err := f.a.Check(ctx, true)
		if err != nil || len(rep.Missing)+len(rep.Corrupt) != 0 || rep.Instances != n {
			t.Fatalf("check %+v %v", rep, err)
		}
	})
}

func TestStoreAfterCloseRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, KeepFirst)
		f.a.Close()
		_, err := f.a.Store(context.Background(), bytes.NewReader(nil), Source{})
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestStoreDatasetChecksCommand(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, KeepFirst)
		ds := testInstance("1.7", "1.7.1", "1.7.1.1", "P", "", 2)
		var body bytes.Buffer
		if err := dcm.WriteDataset(&body, ds, dcm.ImplicitVRLittleEndian); err != nil {
			t.Fatal(err)
		}
		res, err := f.a.StoreDataset(context.Background(), bytes.NewReader(body.Bytes()), "1.2.840.10008.5.1.4.1.1.2", "1.7.1.1", dcm.ImplicitVRLittleEndian, Source{AETitle: "MOD1"})
		if err != nil || res.TransferSyntax != dcm.ImplicitVRLittleEndian {
			t.Fatalf("%+v %v", res, err)
		}
		// A data set whose UIDs differ from the command's is refused before
		// anything is kept: the sender is told it failed and nothing is stored.
		other := testInstance("1.7", "1.7.1", "1.7.1.2", "P", "", 2)
		body.Reset()
		if err := dcm.WriteDataset(&body, other, dcm.ImplicitVRLittleEndian); err != nil {
			t.Fatal(err)
		}
		_, err = f.a.StoreDataset(context.Background(), bytes.NewReader(body.Bytes()), "1.2.840.10008.5.1.4.1.1.2", "9.9.9", dcm.ImplicitVRLittleEndian, Source{})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Code != InputCommandMismatch {
			t.Fatalf("mismatch not reported: %v", err)
		}
		var n int
		if err := f.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM instance WHERE sop_uid IN ('1.7.1.2', '9.9.9')").Scan(&n); err != nil || n != 0 {
			t.Fatalf("the refused instance was kept: %d %v", n, err)
		}
	})
}

func TestSourceCheckRefusesBeforeIndexing(t *testing.T) {
	eachFixture(t, func(t *testing.T, ctx context.Context, f *fixture) {
		if _, err := f.a.Store(ctx, bytes.NewReader(part10(t, testInstance("1.8", "1.8.1", "1.8.1.1", "P", "", 2))), Source{Facility: "FA"}); err != nil {
			t.Fatal(err)
		}
		onlyFB := func(study, facility string) error {
			if facility != "FB" {
				return fmt.Errorf("study belongs to %s", facility)
			}
			return nil
		}
		_, err := f.a.Store(ctx, bytes.NewReader(part10(t, testInstance("1.8", "1.8.1", "1.8.1.2", "P", "", 2))), Source{Facility: "FB", Check: onlyFB})
		if !errors.Is(err, ErrRefused) {
			t.Fatalf("want refusal, got %v", err)
		}
		if _, err := f.a.Instance(ctx, "1.8.1.2"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("refused instance was indexed: %v", err)
		}
		if c, _ := f.a.Count(ctx); c.Instances != 1 {
			t.Fatalf("counts %+v", c)
		}
	})
}
