package archive

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"lightbox/internal/dcm"
)

// TestAcceptOddFilesWithWarnings: what DCMTK and Orthanc accept is stored,
// the data set winning over the meta, and the oddity is recorded; what is
// refused names the instance and says why with a typed code.
func TestAcceptOddFilesWithWarnings(t *testing.T) {
	eachFixture(t, func(t *testing.T, ctx context.Context, f *fixture) {
		ds := testInstance("1.9", "1.9.1", "1.9.1.1", "P", "", 2)
		var body bytes.Buffer
		meta := dcm.NewMeta("1.2.840.10008.5.1.4.1.1.4", "1.9.1.999", dcm.ExplicitVRLittleEndian, "")
		if err := dcm.WriteHeader(&body, meta); err != nil {
			t.Fatal(err)
		}
		if err := dcm.WriteDataset(&body, ds, dcm.ExplicitVRLittleEndian); err != nil {
			t.Fatal(err)
		}
		res, err := f.a.Store(ctx, bytes.NewReader(body.Bytes()), Source{AETitle: "MOD"})
		if err != nil || res.SOPInstanceUID != "1.9.1.1" || len(res.Warnings) != 2 {
			t.Fatalf("meta mismatch: %+v %v", res, err)
		}
		var bare bytes.Buffer
		if err := dcm.WriteDataset(&bare, testInstance("1.9", "1.9.1", "1.9.1.2", "P", "", 2), dcm.ImplicitVRLittleEndian); err != nil {
			t.Fatal(err)
		}
		res, err = f.a.Store(ctx, bytes.NewReader(bare.Bytes()), Source{})
		if err != nil || res.TransferSyntax != dcm.ImplicitVRLittleEndian {
			t.Fatalf("bare data set: %+v %v", res, err)
		}
		ws, err := f.a.Warnings(ctx, WarningFilter{All: true})
		if err != nil || len(ws) != 3 {
			t.Fatalf("warnings %+v %v", ws, err)
		}
		codes := map[string]bool{}
		for _, w := range ws {
			codes[w.Code] = true
		}
		for _, c := range []string{WarnMetaSOPInstance, WarnMetaSOPClass, string(dcm.QuirkNoMeta)} {
			if !codes[c] {
				t.Errorf("no %s warning in %+v", c, ws)
			}
		}
		if ws, _ := f.a.Warnings(ctx, WarningFilter{Facilities: []string{"ELSEWHERE"}}); len(ws) != 0 {
			t.Errorf("warnings leak across facilities: %+v", ws)
		}

		truncated := part10(t, testInstance("1.9", "1.9.1", "1.9.1.3", "P", "", 4))
		res, err = f.a.Store(ctx, bytes.NewReader(truncated[:len(truncated)-7]), Source{})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Code != InputMalformed || res == nil || res.SOPInstanceUID != "1.9.1.3" {
			t.Fatalf("truncated: %+v %v", res, err)
		}
		_, err = f.a.Store(ctx, bytes.NewReader([]byte("plain text, not DICOM, nothing to detect")), Source{})
		if !errors.As(err, &ie) || ie.Code != InputNotDICOM {
			t.Fatalf("text: %v", err)
		}
	})
}
