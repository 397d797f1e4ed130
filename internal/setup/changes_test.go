package setup

import (
	"context"
	"errors"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/model"
	"lightbox/internal/roster"
)

func TestRosterChanges(t *testing.T) {
	eachService(t, func(t *testing.T, ctx context.Context, d *db.DB, s *Service) {
		day := model.Shift{Type: model.Dayhawk, Start: model.MustClock("08:00"), End: model.MustClock("16:00")}
		for _, id := range []string{"dr.a", "dr.b"} {
			if err := s.PutReader(ctx, admin, &model.Reader{ID: id, Name: id, TimeZone: "UTC", Location: model.Location{Country: "US", State: "TX"}, Shifts: []model.Shift{day}}); err != nil {
				t.Fatal(err)
			}
		}
		mon := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		at := func(h int) time.Time { return mon.Add(time.Duration(h) * time.Hour) }
		for _, tc := range []struct {
			name string
			c    Change
			code string
		}{
			{"vacation", Change{Kind: ChangeVacation, ReaderID: "dr.a", Start: at(24), End: at(48)}, ""},
			{"swap", Change{Kind: ChangeSwap, ReaderID: "dr.b", With: "dr.a", Start: at(8), End: at(16)}, ""},
			{"extra", Change{Kind: ChangeExtra, ReaderID: "dr.b", Start: at(20), End: at(23)}, ""},
			{"swap without colleague", Change{Kind: ChangeSwap, ReaderID: "dr.b", Start: at(8), End: at(16)}, CodeInvalid},
			{"ends before start", Change{Kind: ChangeExtra, ReaderID: "dr.b", Start: at(9), End: at(8)}, CodeInvalid},
			{"shift too long", Change{Kind: ChangeExtra, ReaderID: "dr.b", Start: at(0), End: at(48)}, CodeInvalid},
			{"unknown kind", Change{Kind: "holiday", ReaderID: "dr.b", Start: at(0), End: at(1)}, CodeInvalid},
			{"unknown reader", Change{Kind: ChangeVacation, ReaderID: "dr.zz", Start: at(0), End: at(1)}, CodeUnknownReader},
			{"unknown colleague", Change{Kind: ChangeSwap, ReaderID: "dr.a", With: "dr.zz", Start: at(0), End: at(1)}, CodeUnknownReader},
		} {
			err := s.ApplyChange(ctx, admin, tc.c)
			var e *Error
			if tc.code == "" && err != nil || tc.code != "" && (!errors.As(err, &e) || e.Code != tc.code) {
				t.Errorf("%s: got %v, want %q", tc.name, err, tc.code)
			}
		}
		rs := roster.Store{DB: d}
		a, _ := rs.Reader(ctx, "dr.a")
		b, _ := rs.Reader(ctx, "dr.b")
		for _, tc := range []struct {
			who  *model.Reader
			at   time.Time
			want bool
		}{
			{a, at(10), true},       // took dr.b's Monday day shift
			{b, at(10), false},      // gave it away
			{b, at(21), true},       // extra evening
			{a, at(24 + 10), false}, // on vacation Tuesday
			{b, at(24 + 10), true},
			{a, at(48 + 10), true}, // back Wednesday
		} {
			if got := model.OnShift(tc.who, tc.at); got != tc.want {
				t.Errorf("%s at %s: on shift %v, want %v", tc.who.ID, tc.at.Format(time.RFC3339), got, tc.want)
			}
		}
		if n := auditCount(t, d, "shift"); n != 3 {
			t.Errorf("%d audited changes, want 3", n)
		}
	})
}
