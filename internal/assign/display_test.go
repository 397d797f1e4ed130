package assign

import (
	"slices"
	"testing"
	"time"

	"lightbox/internal/model"
)

func hasCode(ex []model.Exclusion, c model.Code) bool {
	return slices.ContainsFunc(ex, func(x model.Exclusion) bool { return x.Code == c })
}

// TestMammoDisplayCheckRule: with the group's display-check rule on, a
// mammography reader without a passed check in the last 24 h is excluded
// with workstation.display_check (shown by Explain); a pass makes them
// eligible and the waiting study goes to them; it lapses after 24 h and a
// later failure voids it. CT is never gated.
func TestMammoDisplayCheckRule(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rules.RequireMammoDisplayCheck = true
	e, f, rs := fixture(t, cfg)
	for _, r := range rs {
		r.Modalities = append(r.Modalities, "MG")
		r.Workstation = model.WS5MP
		r.MQSA = model.MQSA{Qualified: true, Initial: true}
		r.Privileges[0].Scope.Mammography = true
		must(t)(e.Apply(ReaderUpdated{Reader: r}, t0))
	}
	mg := &model.Study{ID: "M1", FacilityID: f.ID, Modality: "MG", BodyPart: "BREAST", CPT: "77067", WorkRVU: 0.76,
		Priority: model.Routine, ExamTime: t0, ArrivalTime: t0}
	if d := find(must(t)(e.Apply(StudyReady{Study: mg}, t0)), KindAssign, "M1"); d != nil {
		t.Fatalf("MG assigned without a display check: %+v", d)
	}
	explain := func(at time.Time) map[string][]model.Exclusion {
		t.Helper()
		for _, r := range rs {
			must(t)(e.Apply(Heartbeat{ReaderID: r.ID}, at))
		}
		cs, err := e.Explain("M1")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]model.Exclusion{}
		for _, c := range cs {
			m[c.ReaderID] = c.Exclusions
		}
		return m
	}
	for id, ex := range explain(t0) {
		if !hasCode(ex, model.CodeDisplayCheck) {
			t.Fatalf("reader %s not excluded for the display check: %v", id, ex)
		}
	}
	// B passes the check: eligible, and the waiting study goes to B.
	at := t0.Add(time.Minute)
	explain(at)
	ds := must(t)(e.Apply(DisplayChecked{ReaderID: "B", At: at, Passed: true}, at))
	if d := find(ds, KindAssign, "M1"); d == nil || d.ReaderID != "B" {
		t.Fatalf("after B's pass: %+v %+v", ds, explain(at))
	}
	m := explain(at)
	if len(m["B"]) != 0 || !hasCode(m["A"], model.CodeDisplayCheck) {
		t.Fatalf("after B's pass: %+v", m)
	}
	// The pass counts for 24 h.
	if m := explain(at.Add(DisplayCheckValid + time.Minute)); !hasCode(m["B"], model.CodeDisplayCheck) {
		t.Fatalf("a 24 h old pass still counts: %+v", m["B"])
	}
	// A passes, then fails: the failure voids the pass.
	later := at.Add(DisplayCheckValid + 2*time.Minute)
	explain(later)
	must(t)(e.Apply(DisplayChecked{ReaderID: "A", At: later, Passed: true}, later))
	if m := explain(later); hasCode(m["A"], model.CodeDisplayCheck) {
		t.Fatalf("A's fresh pass ignored: %+v", m["A"])
	}
	must(t)(e.Apply(DisplayChecked{ReaderID: "A", At: later.Add(time.Minute), Passed: false}, later.Add(time.Minute)))
	if m := explain(later.Add(time.Minute)); !hasCode(m["A"], model.CodeDisplayCheck) {
		t.Fatalf("A's failed check did not void the pass: %+v", m["A"])
	}
	// Not mammography: the rule does not apply.
	ct := study(f, "C1", later)
	must(t)(e.Apply(StudyReady{Study: ct}, later.Add(time.Minute)))
	cs, err := e.Explain("C1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if hasCode(c.Exclusions, model.CodeDisplayCheck) {
			t.Fatalf("CT gated by the display check: %+v", c)
		}
	}
}
