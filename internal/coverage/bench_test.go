package coverage

import (
	"testing"

	"lightbox/internal/simulate"
)

// BenchmarkNationalWeek: the gap map of the national scenario (2,000
// facilities, 500 readers) over 168 hours. Its roster is one simulated
// day of blocks; a week of weekly shifts costs about seven such days.
func BenchmarkNationalWeek(b *testing.B) {
	p, err := simulate.LoadParams("national")
	if err != nil {
		b.Fatal(err)
	}
	sc, err := simulate.Generate(p, 1, 24)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Compute(sc.Facilities, sc.Readers, sc.Start, 168, []string{"CT"})
	}
}
