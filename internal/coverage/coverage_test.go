package coverage

import (
	"strings"
	"testing"
	"time"

	"lightbox/internal/model"
)

func reader(id, licence string, start, end string) *model.Reader {
	r := &model.Reader{ID: id, Name: id, TimeZone: "America/Chicago", Modalities: []string{"CT"}, Location: model.Location{Country: "US", State: "TX"},
		Licenses:    []model.License{{State: licence, Number: "1", Status: model.LicenceActive, Expires: model.MustDate("2030-01-01")}},
		Privileges:  []model.Privilege{{Facility: "F1", Basis: model.Direct, Expires: model.MustDate("2030-01-01")}},
		Malpractice: []model.Malpractice{{States: []string{"TX", "OK"}, Telemedicine: true}},
		Shifts:      []model.Shift{{Type: model.Dayhawk, Start: model.MustClock(start), End: model.MustClock(end)}}}
	if err := r.Resolve(); err != nil {
		panic(err)
	}
	return r
}

// The gap map names the missing licence, and who lacks only that.
func TestGapMap(t *testing.T) {
	f := &model.Facility{ID: "F1", Name: "One", State: "TX", TimeZone: "America/Chicago", ReadType: model.ReadFinalType}
	if err := f.Resolve(); err != nil {
		t.Fatal(err)
	}
	rs := []*model.Reader{reader("day", "TX", "08:00", "16:00"), reader("swing", "OK", "16:00", "00:00")}
	from := time.Date(2026, 12, 8, 6, 0, 0, 0, time.UTC) // 00:00 in Chicago
	m := Compute([]*model.Facility{f}, rs, from, 24, []string{"CT"})
	if len(m.Rows) != 1 {
		t.Fatalf("%d rows", len(m.Rows))
	}
	row := m.Rows[0]
	for h, c := range row.Covered {
		want := h >= 8 && h < 16
		if c != want {
			t.Errorf("hour %d (Chicago) covered %v, want %v", h, c, want)
		}
	}
	if len(row.Gaps) != 2 {
		t.Fatalf("gaps %+v", row.Gaps)
	}
	night, evening := row.Gaps[0], row.Gaps[1]
	if night.Missing != "no reader on shift" || !night.From.Equal(from) || !night.To.Equal(from.Add(8*time.Hour)) {
		t.Errorf("night gap %+v", night)
	}
	if !strings.Contains(evening.Missing, "TX") || len(evening.Closest) != 1 || evening.Closest[0] != "swing" ||
		!evening.From.Equal(from.Add(16*time.Hour)) || !evening.To.Equal(from.Add(24*time.Hour)) {
		t.Errorf("evening gap %+v", evening)
	}
}
