package simulate

import (
	"bytes"
	"context"
	"testing"
)

// TestNationalCompare runs the national scenario for every policy and
// checks the headline claim. Skipped with -short (≈10 s).
func TestNationalCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("national scenario takes seconds per policy")
	}
	var rs []*Result
	for _, p := range policies {
		r := run(t, Options{Scenario: "national", Policy: p, Seed: 1})
		if r.Violations != 0 {
			t.Errorf("%s: %d violations: %v", p, r.Violations, r.ViolationLog[:min(5, len(r.ViolationLog))])
		}
		rs = append(rs, r)
	}
	var b bytes.Buffer
	WriteComparison(&b, rs)
	t.Log("\n" + b.String())
	lb, sp := rs[0], rs[1]
	if lb.TAT["stat"].P95 >= sp.TAT["stat"].P95 || lb.SLABreachPct >= sp.SLABreachPct {
		t.Errorf("lightbox does not beat shared-pool: STAT p95 %.1f vs %.1f, breach %.2f%% vs %.2f%%",
			lb.TAT["stat"].P95, sp.TAT["stat"].P95, lb.SLABreachPct, sp.SLABreachPct)
	}
}

// BenchmarkNational24h is `lightbox simulate --scenario national` for 24 h
// with the lightbox policy.
func BenchmarkNational24h(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), Options{Scenario: "national", Policy: "lightbox", Seed: uint64(i + 1)}); err != nil {
			b.Fatal(err)
		}
	}
}
