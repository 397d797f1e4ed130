package stats

import (
	"testing"
	"time"

	"lightbox/internal/dispatch"
	"lightbox/internal/model"
)

func TestTATAndOwnView(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	fac := &model.Facility{ID: "F", TimeZone: "UTC"}
	read := func(id, reader string, pri model.Priority, arrive, signed int, rvu float64) dispatch.Read {
		return dispatch.Read{ReaderID: reader, Kind: "final", SignedAt: t0.Add(time.Duration(signed) * time.Minute),
			Study: model.Study{ID: id, Facility: fac, Priority: pri, WorkRVU: rvu, ArrivalTime: t0.Add(time.Duration(arrive) * time.Minute)}}
	}
	reads := []dispatch.Read{
		read("s1", "dr.a", model.STAT, 0, 10, 1),
		read("s2", "dr.a", model.STAT, 0, 40, 1), // breach (30 min)
		read("s1", "dr.b", model.STAT, 0, 50, 1), // a second read of s1: not the first
		read("s3", "dr.b", model.Routine, 0, 60, 2),
	}
	first := First(reads)
	if len(first) != 3 {
		t.Fatalf("%d first reads", len(first))
	}
	got := TAT(first)
	want := []ClassTAT{
		{Class: "stat", TAT: Pct{N: 2, P50: 10, P90: 40, P95: 40}, SLAMinutes: 30, Breaches: 1, BreachPct: 50},
		{Class: "routine", TAT: Pct{N: 1, P50: 60, P90: 60, P95: 60}, SLAMinutes: 1440},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("class %d: got %+v want %+v", i, got[i], want[i])
		}
	}
	day := model.Shift{Type: model.Nighthawk, Start: model.MustClock("00:00"), End: model.MustClock("08:00")}
	rs := map[string]*model.Reader{
		"dr.a": {ID: "dr.a", TimeZone: "UTC", RVUTargetPerHour: 1, Shifts: []model.Shift{day}},
		"dr.b": {ID: "dr.b", TimeZone: "UTC", RVUTargetPerHour: 1, Shifts: []model.Shift{day}},
	}
	days := RVUByReaderDay(first, rs)
	if len(days) != 2 || days[0].ReaderID != "dr.a" || days[0].RVU != 2 || days[0].HoursOnDuty != 8 || days[0].RVUPerHour != 0.3 {
		t.Fatalf("reader days %+v", days)
	}
	own := OwnView("dr.a", first, days, 1)
	if own.Reads != 2 || own.RVU != 2 || own.TATP50 != 10 || own.GroupReaders != 2 || own.GroupTATP50 != 35 || len(own.Days) != 1 {
		t.Fatalf("own view %+v", own)
	}
}
