package roster

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/facility"
	"lightbox/internal/model"
)

func reader(id string) *model.Reader {
	return &model.Reader{ID: id, Name: "Dr " + id, Modalities: []string{"CT", "MR"}, Location: model.Location{Country: "US", State: "TX"},
		TimeZone: "America/Chicago", Workstation: model.WS5MP,
		Licenses:   []model.License{{State: "TX", Number: "TX1", Status: model.LicenceActive, Expires: model.MustDate("2027-06-30")}},
		Privileges: []model.Privilege{{Facility: "SGH", Basis: model.Direct, Expires: model.MustDate("2027-01-31")}}}
}

func TestReadersContractsImportExport(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := Store{DB: d}
		if err := s.PutReader(ctx, reader("dr.alpha")); err != nil {
			t.Fatal(err)
		}
		bad := reader("dr.bad")
		bad.TimeZone = "Nowhere/Land"
		if err := s.PutReader(ctx, bad); err == nil {
			t.Fatal("bad time zone accepted")
		}
		got, err := s.Reader(ctx, "dr.alpha")
		if err != nil || got.Licenses[0].Expires != model.MustDate("2027-06-30") || got.Loc == nil {
			t.Fatalf("%+v %v", got, err)
		}
		_ = facility.Store{DB: d}.Upsert(ctx, facility.Facility{ID: "SGH", Name: "Springfield", State: "IL", TimeZone: "America/Chicago"})
		if err := s.PutContract(ctx, "SGH", Contract{Medicare: true, ReadType: model.ReadFinalRequiresUS}); err != nil {
			t.Fatal(err)
		}
		fs, err := s.Facilities(ctx)
		if err != nil || len(fs) != 1 || !fs[0].Medicare || fs[0].State != "IL" || fs[0].Loc == nil {
			t.Fatalf("%+v %v", fs, err)
		}
		var js, cs bytes.Buffer
		all, _ := s.Readers(ctx)
		_ = ExportJSON(&js, all)
		_ = ExportCSV(&cs, all)
		if n, err := s.ImportJSON(ctx, &js); err != nil || n != 1 {
			t.Fatalf("json import %d %v", n, err)
		}
		csvText := strings.Replace(cs.String(), "2027-06-30", "2028-06-30", 1)
		if n, err := s.ImportCSV(ctx, strings.NewReader(csvText)); err != nil || n != 2 {
			t.Fatalf("csv import %d %v", n, err)
		}
		got, _ = s.Reader(ctx, "dr.alpha")
		if got.Licenses[0].Expires != model.MustDate("2028-06-30") || len(got.Privileges) != 1 {
			t.Fatalf("csv not applied: %+v", got)
		}
		if _, err := s.ImportCSV(ctx, strings.NewReader("wrong,header\n")); err == nil {
			t.Fatal("bad header accepted")
		}
	})
}

func TestOnCall(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := Store{DB: d}
		day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
		if err := s.SetOnCall(ctx, "Neuro", day, day.Add(24*time.Hour), []OnCall{{ReaderID: "dr.b", Rank: 2}, {ReaderID: "dr.a", Rank: 1}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.OnCallAt(ctx, "neuro", day.Add(3*time.Hour))
		if err != nil || len(got) != 2 || got[0].ReaderID != "dr.a" {
			t.Fatalf("%+v %v", got, err)
		}
		if got, _ := s.OnCallAt(ctx, "neuro", day.Add(25*time.Hour)); len(got) != 0 {
			t.Fatalf("outside the window: %+v", got)
		}
		// Replacing the window's list.
		_ = s.SetOnCall(ctx, "neuro", day, day.Add(24*time.Hour), []OnCall{{ReaderID: "dr.c"}})
		if got, _ := s.OnCallAt(ctx, "neuro", day.Add(time.Hour)); len(got) != 1 || got[0].ReaderID != "dr.c" {
			t.Fatalf("replace: %+v", got)
		}
		if err := s.SetOnCall(ctx, "", day, day, nil); err == nil {
			t.Fatal("empty subspecialty accepted")
		}
	})
}
