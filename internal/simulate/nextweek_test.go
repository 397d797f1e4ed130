package simulate

import (
	"context"
	"testing"
	"time"

	"lightbox/internal/model"
)

func TestAhead(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	fac := model.Facility{ID: "F", State: "TX", TimeZone: "America/Chicago"}
	rd := model.Reader{ID: "dr.a", TimeZone: "UTC", Location: model.Location{Country: "US", State: "TX"}, Modalities: []string{"CT"}, RVUTargetPerHour: 8,
		Licenses:    []model.License{{State: "TX", Number: "1", Status: model.LicenceActive, Expires: model.DateIn(now.AddDate(1, 0, 0), time.UTC)}},
		Privileges:  []model.Privilege{{Facility: "F", Basis: model.Direct, Expires: model.DateIn(now.AddDate(1, 0, 0), time.UTC)}},
		Malpractice: []model.Malpractice{{Carrier: "C", States: []string{"TX"}, Telemedicine: true, Expires: model.DateIn(now.AddDate(1, 0, 0), time.UTC)}},
		Shifts:      []model.Shift{{Type: model.Dayhawk, Start: model.MustClock("00:00"), End: model.MustClock("00:00")}}}
	past := []model.Study{
		{ID: "s1", FacilityID: "F", Modality: "CT", CPT: "70450", WorkRVU: 0.85, Priority: model.STAT, ArrivalTime: now.Add(-3 * 24 * time.Hour)},
		{ID: "s2", FacilityID: "GONE", Modality: "CT", WorkRVU: 1, ArrivalTime: now.Add(-2 * 24 * time.Hour)},
	}
	for _, tc := range []struct {
		name    string
		readers []model.Reader
		away    bool
		days    int
		studies int
		read    int
		fails   bool
	}{
		{"covered", []model.Reader{rd}, false, 7, 1, 1, false},
		{"reader on vacation", []model.Reader{rd}, true, 7, 1, 0, false},
		{"no readers", nil, false, 7, 0, 0, true},
		{"too many days", []model.Reader{rd}, false, 8, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := tc.readers
			if tc.away {
				r := rd
				r.Away = []model.Absence{{Reason: "vacation", Start: now, End: now.Add(8 * 24 * time.Hour)}}
				rs = []model.Reader{r}
			}
			res, err := Ahead(context.Background(), []model.Facility{fac}, rs, past, now, tc.days)
			if tc.fails {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Studies != tc.studies || res.Read != tc.read {
				t.Fatalf("studies %d read %d, want %d %d (%v, %d on duty)", res.Studies, res.Read, tc.studies, tc.read, res.UncoveredExamples, res.ReadersOnDuty)
			}
		})
	}
}
