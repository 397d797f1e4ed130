package keyimage

import (
	"context"
	"errors"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

func TestKeyImagesRoundTrip(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC)
		s := Store{DB: d, Now: func() time.Time { return at }}
		k := KeyImage{StudyUID: "1.2.3", SeriesUID: "1.2.3.4", SOPUID: "1.2.3.4.5", Frame: 1, Note: "bleed",
			Annotations: []Annotation{{Kind: "length", Points: [][2]float64{{1, 2}, {11, 2}}, Value: 7.5, Unit: "mm"}}}
		saved, err := s.Add(ctx, "dr.alpha", k)
		if err != nil || saved.ID == 0 || saved.CreatedBy != "dr.alpha" {
			t.Fatalf("add: %+v %v", saved, err)
		}
		if _, err := s.Add(ctx, "dr.bravo", KeyImage{StudyUID: "1.2.3", SeriesUID: "1.2.3.4", SOPUID: "1.2.3.4.6", Frame: 2}); err != nil {
			t.Fatal(err)
		}
		got, err := s.List(ctx, "1.2.3")
		if err != nil || len(got) != 2 || got[0].Annotations[0].Value != 7.5 || got[0].CreatedAt == "" || got[1].Annotations == nil {
			t.Fatalf("list: %+v %v", got, err)
		}
		if other, _ := s.List(ctx, "9.9"); len(other) != 0 {
			t.Fatalf("another study's key images: %+v", other)
		}
		if err := s.Delete(ctx, "dr.bravo", "1.2.3", saved.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a colleague deleted dr.alpha's key image: %v", err)
		}
		if err := s.Delete(ctx, "dr.alpha", "1.2.3", saved.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.List(ctx, "1.2.3"); len(got) != 1 {
			t.Fatalf("after delete: %+v", got)
		}
	})
}

func TestKeyImageValidate(t *testing.T) {
	ok := KeyImage{StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.4", Frame: 1}
	for _, c := range []struct {
		name string
		edit func(*KeyImage)
		ok   bool
	}{
		{"valid", func(*KeyImage) {}, true},
		{"no study", func(k *KeyImage) { k.StudyUID = "" }, false},
		{"not a UID", func(k *KeyImage) { k.SOPUID = "1.2.x" }, false},
		{"frame 0", func(k *KeyImage) { k.Frame = 0 }, false},
		{"angle", func(k *KeyImage) { k.Annotations = []Annotation{{Kind: "angle", Points: [][2]float64{{0, 0}, {1, 1}}}} }, false},
		{"one point", func(k *KeyImage) { k.Annotations = []Annotation{{Kind: "length", Points: [][2]float64{{0, 0}}}} }, false},
	} {
		k := ok
		c.edit(&k)
		if err := k.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
