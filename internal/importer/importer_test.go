package importer

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lightbox/internal/archive"
	"lightbox/internal/blob"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
)

func instance(t *testing.T, i int) []byte {
	ds := &dcm.Dataset{}
	ds.SetStr(dcm.TagSOPClassUID, "1.2.840.10008.5.1.4.1.1.7")
	ds.SetStr(dcm.TagSOPInstanceUID, fmt.Sprintf("1.9.1.%d", i))
	ds.SetStr(dcm.TagStudyInstanceUID, "1.9")
	ds.SetStr(dcm.TagSeriesInstanceUID, "1.9.1")
	ds.SetStr(dcm.TagPatientID, "IMP1")
	var b bytes.Buffer
	if err := dcm.WriteFile(&b, ds, dcm.ExplicitVRLittleEndian, ""); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestImportFoldersAndZips(t *testing.T) {
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "a", "b"), 0o750)
	for i := range 5 {
		_ = os.WriteFile(filepath.Join(dir, "a", fmt.Sprintf("%d.dcm", i)), instance(t, i), 0o640)
	}
	_ = os.WriteFile(filepath.Join(dir, "a", "b", "dup.dcm"), instance(t, 0), 0o640)
	_ = os.WriteFile(filepath.Join(dir, "a", "notes.txt"), []byte("not an image"), 0o640)
	bad := instance(t, 99)
	_ = os.WriteFile(filepath.Join(dir, "a", "b", "truncated.dcm"), bad[:len(bad)-3], 0o640)
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for i := 10; i < 13; i++ {
		w, _ := zw.Create(fmt.Sprintf("study/%d.dcm", i))
		_, _ = w.Write(instance(t, i))
	}
	_ = zw.Close()
	_ = os.WriteFile(filepath.Join(dir, "more.zip"), zb.Bytes(), 0o640)

	b, _ := blob.OpenDir(t.TempDir())
	defer b.Close()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := archive.New(d, b, archive.Options{})
		defer a.Close()
		var logs bytes.Buffer
		sum, err := Run(context.Background(), a, []string{dir}, Options{Workers: 3, Progress: NewBar(&logs)})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Files != 11 || sum.Stored != 8 || sum.Duplicates != 1 || len(sum.Skipped) != 1 || len(sum.Rejected) != 1 {
			t.Fatalf("summary %+v", sum)
		}
		if !strings.HasSuffix(sum.Skipped[0].Path, "notes.txt") || !strings.Contains(sum.Rejected[0].Reason, "truncated") {
			t.Errorf("problems %+v %+v", sum.Skipped, sum.Rejected)
		}
	})
}
