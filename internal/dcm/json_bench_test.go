package dcm_test

import (
	"bytes"
	"context"
	"testing"

	"lightbox/internal/dcm"
	"lightbox/internal/gen"
)

// BenchmarkMarshalJSON encodes a generated CT instance's data set as the
// archive does at ingest (its stored metadata): once per stored instance.
func BenchmarkMarshalJSON(b *testing.B) {
	var data []byte
	err := gen.Each(context.Background(), gen.Options{Modality: "CT", Slices: 1, Patients: 1, Rows: 128, Columns: 144, Facility: "SGH", Seed: 18}, func(in *gen.Instance) error {
		var err error
		data, err = gen.Encode(in)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	f, err := dcm.ReadFile(bytes.NewReader(data), dcm.ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	opt := dcm.JSONOptions{SkipMeta: true, BulkURI: func(t dcm.Tag) string { return "{{dicomweb}}/studies/1/series/2/instances/3/bulk/" + t.Hex() }}
	b.ReportAllocs()
	for b.Loop() {
		dcm.MarshalJSON(f.Dataset, opt)
	}
}
