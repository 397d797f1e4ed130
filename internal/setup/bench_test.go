package setup

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"lightbox/internal/db/dbtest"
)

// BenchmarkFacilityImport: a national group's 2,000 facilities from CSV
// into a fresh database per iteration (goal: under 10 s; issue #17).
//
//	go test -run '^$' -bench FacilityImport -benchtime 3x ./internal/setup/
func BenchmarkFacilityImport(b *testing.B) {
	var csv strings.Builder
	csv.WriteString(strings.Join(FacilityCSVHeader, ",") + "\n")
	for i := range 2000 {
		fmt.Fprintf(&csv, "F%04d,Facility %d,TX,America/Chicago,ISS%d,final,true\n", i, i, i)
	}
	for range b.N {
		b.StopTimer()
		d := dbtest.SQLite(b)
		s := newService(d)
		b.StartTimer()
		rep, err := s.ImportFacilities(context.Background(), admin, strings.NewReader(csv.String()), "csv")
		if err != nil || rep.Accepted != 2000 {
			b.Fatalf("%v %+v", err, rep)
		}
	}
}
