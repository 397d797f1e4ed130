package simulate

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/model"
)

var policies = []assign.Policy{assign.PolicyLightbox, assign.PolicySharedPool, assign.PolicyRoundRobin}

func run(t testing.TB, opt Options) *Result {
	t.Helper()
	r, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// replay runs the Lightbox policy over one facility and one reader's
// arrivals for hours from start, as the server's replay of its database does.
func replay(t testing.TB, start time.Time, hours int, f model.Facility, r model.Reader, arr []model.Study) *Result {
	t.Helper()
	sc, err := ScenarioFromConfig(Config{Name: "db", Start: start, Hours: hours, Facilities: []model.Facility{f}, Readers: []model.Reader{r}, Arrivals: arr})
	if err != nil {
		t.Fatal(err)
	}
	return run(t, Options{Built: sc, Policy: assign.PolicyLightbox, Seed: 1, Hours: hours})
}

func TestDeterminism(t *testing.T) {
	for _, p := range policies {
		var a, b bytes.Buffer
		run(t, Options{Scenario: "small", Policy: p, Seed: 7}).WriteJSON(&a)
		run(t, Options{Scenario: "small", Policy: p, Seed: 7}).WriteJSON(&b)
		if a.String() != b.String() {
			t.Fatalf("%s: same seed, different JSON", p)
		}
		var c bytes.Buffer
		run(t, Options{Scenario: "small", Policy: p, Seed: 8}).WriteJSON(&c)
		if a.String() == c.String() {
			t.Fatalf("%s: seed ignored", p)
		}
	}
}

func TestJSONFields(t *testing.T) {
	var b bytes.Buffer
	run(t, Options{Scenario: "small", Policy: assign.PolicyLightbox, Seed: 1}).WriteJSON(&b)
	for _, k := range []string{`"policy"`, `"studies"`, `"violations"`, `"uncovered"`, `"sla_breach_pct"`, `"gini_rvu_per_hour"`, `"utilisation"`, `"tat_minutes"`, `"stat": {`, `"p95"`, `"p99"`} {
		if !strings.Contains(b.String(), k) {
			t.Errorf("JSON lacks %s", k)
		}
	}
}

// Every arrival ends read, or still on the worklist at the end; the run
// never loses or duplicates a study.
func TestConservationAndZeroViolations(t *testing.T) {
	seeds := 25
	if testing.Short() {
		seeds = 6
	}
	for _, p := range policies {
		for seed := range uint64(seeds) {
			r := run(t, Options{Scenario: "small", Policy: p, Seed: seed})
			if r.Violations != 0 {
				t.Fatalf("%s seed %d: %d violations %v", p, seed, r.Violations, r.ViolationLog)
			}
			if r.Completed+r.Pending != r.Studies {
				t.Fatalf("%s seed %d: completed %d + pending %d != studies %d", p, seed, r.Completed, r.Pending, r.Studies)
			}
			if r.Studies == 0 || r.Read == 0 {
				t.Fatalf("%s seed %d: empty run %+v", p, seed, r)
			}
			n := 0
			for _, c := range r.TAT {
				n += c.N
			}
			if n != r.Read {
				t.Fatalf("TAT counts %d != read %d", n, r.Read)
			}
		}
	}
}

func TestShortRunAndChart(t *testing.T) {
	var rs []*Result
	for _, p := range policies {
		r := run(t, Options{Scenario: "small", Policy: p, Seed: 3, Hours: 6, Drain: time.Hour})
		if r.Hours != 6 {
			t.Fatal(r.Hours)
		}
		rs = append(rs, r)
	}
	var b bytes.Buffer
	if err := WriteChartSVG(&b, rs); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b.Bytes(), new(struct{})); err != nil {
		t.Fatalf("SVG is not well-formed XML: %v", err)
	}
	if strings.Count(b.String(), "<polyline") != 2*len(rs) {
		t.Fatal("want two lines per policy")
	}
	var tb bytes.Buffer
	rs[0].WriteTable(&tb)
	WriteComparison(&tb, rs)
	if !strings.Contains(tb.String(), "shared-pool") {
		t.Fatal(tb.String())
	}
}

// texasPair is a Texas facility and a reader fully credentialed for it,
// without a schedule.
func texasPair() (model.Facility, model.Reader) {
	f := model.Facility{ID: "F1", Name: "Facility 1", State: "TX", TimeZone: "America/Chicago", ReadType: model.ReadFinalType}
	r := model.Reader{ID: "R1", Name: "Dr One", TimeZone: "America/Chicago", Modalities: []string{"CT"}, RVUTargetPerHour: 10,
		Location:    model.Location{Country: "US", State: "TX"},
		Licenses:    []model.License{{State: "TX", Status: model.LicenceActive, Expires: model.MustDate("2027-01-01")}},
		Privileges:  []model.Privilege{{Facility: "F1", Basis: model.Direct}},
		Enrolments:  []model.Enrolment{{Payer: model.PayerMedicare, Active: true}},
		Malpractice: []model.Malpractice{{States: []string{"TX"}, Telemedicine: true}}}
	return f, r
}

func TestScenarioFromConfig(t *testing.T) {
	start := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f, r := texasPair()
	f.Medicare = true
	r.Blocks = []model.Block{{Start: start.Add(-time.Hour), End: start.Add(10 * time.Hour)}}
	var arr []model.Study
	for i := range 20 {
		arr = append(arr, model.Study{ID: fmt.Sprintf("S%d", i), FacilityID: "F1", Modality: "CT", CPT: "70450", WorkRVU: 0.83,
			Priority: model.STAT, ArrivalTime: start.Add(time.Duration(i) * 7 * time.Minute)})
	}
	arr = append(arr, model.Study{ID: "MG1", FacilityID: "F1", Modality: "MG", CPT: "77067", WorkRVU: 0.74, ArrivalTime: start})
	res := replay(t, start, 4, f, r, arr)
	if res.Studies != 21 || res.Completed != 20 || res.Uncovered != 1 || res.Violations != 0 {
		t.Fatalf("studies %d completed %d uncovered %d violations %d: %v", res.Studies, res.Completed, res.Uncovered, res.Violations, res.UncoveredExamples)
	}
}

// A roster from the database keeps weekly shifts, not blocks: the replay
// must put those readers on duty (it once reported 0 on duty and every
// study uncovered for a day the server had covered).
func TestScenarioFromConfigWeeklyShifts(t *testing.T) {
	start := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	f, r := texasPair()
	// Overnight in Chicago: covers 04:00–14:00 UTC of the replayed day, and
	// the shift that started the evening before.
	r.Shifts = []model.Shift{{Type: model.Nighthawk, Start: model.MustClock("22:00"), End: model.MustClock("08:00")}}
	var arr []model.Study
	for i := range 12 {
		arr = append(arr, model.Study{ID: fmt.Sprintf("S%d", i), FacilityID: "F1", Modality: "CT", CPT: "70450", WorkRVU: 0.83,
			Priority: model.STAT, ArrivalTime: start.Add(time.Duration(i)*10*time.Minute + 5*time.Hour)})
	}
	res := replay(t, start, 24, f, r, arr)
	if res.ReadersOnDuty != 1 || res.Uncovered != 0 || res.Completed != 12 || res.Violations != 0 {
		t.Fatalf("on duty %d uncovered %d completed %d violations %d: %v", res.ReadersOnDuty, res.Uncovered, res.Completed, res.Violations, res.UncoveredExamples)
	}
}

func TestScenarioFiles(t *testing.T) {
	for _, name := range []string{"small", "national"} {
		p, err := LoadParams(name)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != name || p.Readers == 0 {
			t.Fatalf("%+v", p)
		}
	}
	p, _ := LoadParams("national")
	sc, err := Generate(p, 1, 24)
	if err != nil {
		t.Fatal(err)
	}
	lic, priv := 0, 0
	zones := map[string]bool{}
	for _, r := range sc.Readers {
		lic += len(r.Licenses)
		priv += len(r.Privileges)
	}
	for _, f := range sc.Facilities {
		zones[f.TimeZone] = true
	}
	n := float64(len(sc.Readers))
	t.Logf("national: %d readers, %d facilities, %d arrivals, %.1f licences and %.1f privileges per reader, %d facility zones",
		len(sc.Readers), len(sc.Facilities), len(sc.Arrivals), float64(lic)/n, float64(priv)/n, len(zones))
	if len(sc.Arrivals) < 16000 || len(sc.Arrivals) > 20000 {
		t.Fatalf("arrivals %d", len(sc.Arrivals))
	}
	if _, err := LoadParams("nope"); err == nil {
		t.Fatal("want error")
	}
}

// The offline bound is never worse than any online policy: for every
// study an online policy read, the bound's first read is no later, so
// each percentile over those studies is no higher either.
func TestBoundNeverWorse(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 4
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		b := run(t, Options{Scenario: "small", Policy: PolicyBound, Seed: seed})
		for _, p := range policies {
			r := run(t, Options{Scenario: "small", Policy: p, Seed: seed})
			var on, off []float64
			for id, d := range r.firstRead {
				bd, ok := b.firstRead[id]
				if !ok || bd > d {
					t.Fatalf("seed %d %s: study %s read after %v online, bound %v (read %v)", seed, p, id, d, bd, ok)
				}
				on, off = append(on, d.Minutes()), append(off, bd.Minutes())
			}
			if pb, po := pct(off), pct(on); pb.P50 > po.P50 || pb.P95 > po.P95 || pb.P99 > po.P99 {
				t.Fatalf("seed %d %s: bound %+v worse than online %+v", seed, p, pb, po)
			}
			if b.Uncovered > r.Uncovered {
				t.Fatalf("seed %d %s: bound leaves %d uncovered, online %d", seed, p, b.Uncovered, r.Uncovered)
			}
		}
	}
}

// Suggestions name changes that cover studies, and applying them leaves
// the original scenario untouched and uncovers no more than before.
func TestSuggestionsCoverAndReRun(t *testing.T) {
	sg, err := Suggest(context.Background(), Options{Scenario: "small", Seed: 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if sg.Uncovered == 0 || len(sg.Changes) == 0 || sg.Changes[0].Covers == 0 {
		t.Fatalf("%+v", sg)
	}
	if sg.After.Uncovered > sg.Before.Uncovered || sg.After.Violations != 0 {
		t.Fatalf("uncovered %d -> %d, violations %d", sg.Before.Uncovered, sg.After.Uncovered, sg.After.Violations)
	}
	var b bytes.Buffer
	if err := sg.WriteSuggestions(&b); err != nil || !strings.Contains(b.String(), "put R") {
		t.Fatal(err, b.String())
	}
	again := run(t, Options{Scenario: "small", Policy: assign.PolicyLightbox, Seed: 1})
	if again.Uncovered != sg.Before.Uncovered {
		t.Fatal("suggestions changed the scenario they were computed from")
	}
}

// Every variant runs clean under every policy, changes the day it says it
// changes, and leaves the plain scenario alone.
func TestVariants(t *testing.T) {
	plain := run(t, Options{Scenario: "small", Policy: assign.PolicyLightbox, Seed: 3})
	for _, v := range Variants {
		for _, p := range policies {
			r := run(t, Options{Scenario: "small", Policy: p, Seed: 3, Variant: v})
			if r.Violations != 0 || r.Completed+r.Pending != r.Studies {
				t.Fatalf("%s %s: violations %d, %d+%d != %d", v, p, r.Violations, r.Completed, r.Pending, r.Studies)
			}
			if v == "surge" && r.Studies <= plain.Studies {
				t.Fatalf("surge added no studies: %d", r.Studies)
			}
		}
	}
	if again := run(t, Options{Scenario: "small", Policy: assign.PolicyLightbox, Seed: 3}); again.Studies != plain.Studies || again.SLABreachPct != plain.SLABreachPct {
		t.Fatal("a variant changed the plain scenario")
	}
	if _, err := Run(context.Background(), Options{Scenario: "small", Variant: "meteor"}); err == nil {
		t.Fatal("unknown variant accepted")
	}
}

// Policies run in parallel give exactly what they give one at a time.
func TestRunAllMatchesSequential(t *testing.T) {
	opts, rs := runEveryPolicy(t, "small", 5)
	for i, o := range opts {
		var a, b bytes.Buffer
		rs[i].WriteJSON(&a)
		run(t, o).WriteJSON(&b)
		if a.String() != b.String() {
			t.Fatalf("%s differs in parallel", o.Policy)
		}
	}
}

// runEveryPolicy runs scenario with every policy and the offline bound (in
// that order), in parallel, and returns the options and the results.
func runEveryPolicy(t *testing.T, scenario string, seed uint64) ([]Options, []*Result) {
	t.Helper()
	var opts []Options
	for _, p := range append(slices.Clone(policies), PolicyBound) {
		opts = append(opts, Options{Scenario: scenario, Policy: p, Seed: seed})
	}
	rs, err := RunAll(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return opts, rs
}
