package teaching

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
	"lightbox/internal/deid"
	"lightbox/internal/gen"
)

func study(t *testing.T) [][]byte {
	var out [][]byte
	err := gen.Each(context.Background(), gen.Options{Modality: "CT", Slices: 2, Patients: 1, Seed: 3, Rows: 64, Columns: 64}, func(inst *gen.Instance) error {
		b, err := gen.Encode(inst)
		out = append(out, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A shared case is stored anonymised (one new study UID for all its
// instances, no patient name), browsable by subspecialty and finding.
func TestShareAndBrowse(t *testing.T) {
	src := study(t)
	orig, _ := dcm.ReadFile(bytes.NewReader(src[0]), dcm.ReadOptions{})
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := Store{DB: d}
		open := func(i int) ([]byte, error) { return src[i], nil }
		if _, err := s.Share(ctx, Case{Subspecialty: "neuro", Finding: "x"}, len(src), open); !errors.Is(err, ErrInvalid) {
			t.Fatalf("no note accepted: %v", err)
		}
		c, err := s.Share(ctx, Case{Subspecialty: "Neuro", Finding: "Subdural haematoma", Note: "Note the mixed density.", Modality: "CT", Author: "dr.a"}, len(src), open)
		if err != nil || c.Instances != len(src) || c.StudyUID == orig.Dataset.Str(0x0020000D) || c.BurnedInUnknown {
			t.Fatalf("share: %+v %v", c, err)
		}
		for i := 1; i <= c.Instances; i++ {
			b, err := s.Instance(ctx, c.ID, i)
			if err != nil {
				t.Fatal(err)
			}
			f, err := dcm.ReadFile(bytes.NewReader(b), dcm.ReadOptions{})
			if err != nil || f.Dataset.Str(0x0020000D) != c.StudyUID || f.Dataset.Str(0x00100010) != "TEACHING^CASE" || f.Dataset.Str(deid.TagPatientIdentityRemoved) != "YES" {
				t.Fatalf("instance %d: %v", i, err)
			}
		}
		if got, _ := s.List(ctx, "neuro", "subdural"); len(got) != 1 {
			t.Fatalf("browse: %+v", got)
		}
		if got, _ := s.List(ctx, "body", ""); len(got) != 0 {
			t.Fatalf("browse other subspecialty: %+v", got)
		}
	})
}

func TestBurnedInCaseRefused(t *testing.T) {
	src := study(t)
	f, _ := dcm.ReadFile(bytes.NewReader(src[0]), dcm.ReadOptions{LoadBulk: true})
	f.Dataset.SetStr(deid.TagBurnedInAnnotation, "YES")
	var b bytes.Buffer
	if err := dcm.WriteFile(&b, f.Dataset, f.TransferSyntax.UID, ""); err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		_, err := Store{DB: d}.Share(context.Background(), Case{Subspecialty: "neuro", Finding: "x", Note: "y"}, 1, func(int) ([]byte, error) { return b.Bytes(), nil })
		if !errors.Is(err, deid.ErrBurnedIn) {
			t.Fatalf("burned-in case shared: %v", err)
		}
		if got, _ := (Store{DB: d}).List(context.Background(), "", ""); len(got) != 0 {
			t.Fatal("refused case stored")
		}
	})
}
