package assign

import (
	"slices"
	"strings"
	"testing"
	"time"

	"lightbox/internal/model"
)

// fixture: two US readers licensed and privileged for one TX facility,
// on shift all day.
func fixture(t *testing.T, cfg Config) (*Engine, *model.Facility, []*model.Reader) {
	t.Helper()
	f := &model.Facility{ID: "F12", Name: "Facility 12", State: "TX", TimeZone: "America/Chicago", Medicare: true, ReadType: model.ReadFinalType}
	mk := func(id string) *model.Reader {
		return &model.Reader{ID: id, Name: "Dr " + id, TimeZone: "America/Chicago", Modalities: []string{"CT", "MR", "CR"},
			Location: model.Location{Country: "US", State: "TX"}, RVUTargetPerHour: 8, MaxOpenCases: 4, Workstation: model.WS3MP,
			Licenses:    []model.License{{State: "TX", Number: id, Status: model.LicenceActive, Expires: model.MustDate("2027-01-01")}},
			Privileges:  []model.Privilege{{Facility: "F12", Basis: model.Direct, Expires: model.MustDate("2027-01-01")}},
			Enrolments:  []model.Enrolment{{Payer: model.PayerMedicare, Active: true}},
			Malpractice: []model.Malpractice{{Carrier: "C", States: []string{"TX"}, Telemedicine: true}},
			Blocks:      []model.Block{{Type: model.Dayhawk, Start: t0.Add(-time.Hour), End: t0.Add(48 * time.Hour)}}}
	}
	a, b := mk("A"), mk("B")
	a.Subspecialties = []string{"neuro"}
	e := New(cfg)
	must(t)(e.Apply(FacilityUpdated{Facility: f}, t0))
	for _, r := range []*model.Reader{a, b} {
		must(t)(e.Apply(ReaderUpdated{Reader: r}, t0))
		must(t)(e.Apply(Heartbeat{ReaderID: r.ID}, t0))
	}
	return e, f, []*model.Reader{a, b}
}

func must(t *testing.T) func([]Decision, error) []Decision {
	return func(d []Decision, err error) []Decision {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
}

func study(f *model.Facility, id string, at time.Time) *model.Study {
	return &model.Study{ID: id, FacilityID: f.ID, Modality: "CT", BodyPart: "HEAD", CPT: "70450", WorkRVU: 0.85,
		Priority: model.STAT, Subspecialty: "neuro", ExamTime: at, ArrivalTime: at}
}

func find(ds []Decision, k Kind, study string) *Decision {
	for i := range ds {
		if ds[i].Kind == k && ds[i].StudyID == study {
			return &ds[i]
		}
	}
	return nil
}

func TestAssignRecordsReasons(t *testing.T) {
	e, f, _ := fixture(t, DefaultConfig())
	ds := must(t)(e.Apply(StudyReady{Study: study(f, "S1", t0)}, t0))
	d := find(ds, KindAssign, "S1")
	if d == nil || d.ReaderID != "A" || d.Score == nil || d.Score.Subspec == 0 {
		t.Fatalf("want S1→A with subspecialty bonus, got %+v", ds)
	}
	if len(d.Others) != 1 || d.Others[0].ReaderID != "B" || d.Others[0].Score == nil || d.Others[0].Rank != 2 {
		t.Fatalf("others %+v", d.Others)
	}
	if d.Stage != model.Final || !d.LeaseExpires.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("stage/lease %+v", d)
	}
}

func TestHeartbeatStopMovesStudiesWithin60s(t *testing.T) {
	e, f, _ := fixture(t, DefaultConfig())
	must(t)(e.Apply(StudyReady{Study: study(f, "S1", t0)}, t0))
	must(t)(e.Apply(Opened{StudyID: "S1", ReaderID: "A"}, t0))
	// A stops sending heartbeats after t0; B keeps going; ticks every 5 s.
	moved := time.Duration(-1)
	for s := 5; s <= 120; s += 5 {
		now := t0.Add(time.Duration(s) * time.Second)
		ds := must(t)(e.Apply(Heartbeat{ReaderID: "B"}, now))
		ds = append(ds, must(t)(e.Apply(Tick{}, now))...)
		if d := find(ds, KindAssign, "S1"); d != nil {
			if d.ReaderID != "B" {
				t.Fatalf("moved to %s", d.ReaderID)
			}
			u := find(ds, KindUnassign, "S1")
			if u == nil || u.Code != ReasonOffline {
				t.Fatalf("unassign %+v", u)
			}
			moved = now.Sub(t0)
			break
		}
	}
	if moved < 0 || moved > 60*time.Second {
		t.Fatalf("study moved after %v, want ≤ 60 s", moved)
	}
}

func TestLicenceLapseLeavesQueueAtOnce(t *testing.T) {
	e, f, rs := fixture(t, DefaultConfig())
	loc := f.Loc
	// A's TX licence expires 2026-03-07 (last valid day, Chicago time).
	a := *rs[0]
	a.Licenses = []model.License{{State: "TX", Number: "A", Status: model.LicenceActive, Expires: model.MustDate("2026-03-07")}}
	must(t)(e.Apply(ReaderUpdated{Reader: &a}, t0))
	late := time.Date(2026, 3, 7, 23, 59, 0, 0, loc)
	for _, now := range []time.Time{late.Add(-30 * time.Second), late, late.Add(30 * time.Second)} {
		must(t)(e.Apply(Heartbeat{ReaderID: "A"}, now))
		must(t)(e.Apply(Heartbeat{ReaderID: "B"}, now))
	}
	ds := must(t)(e.Apply(StudyReady{Study: study(f, "S1", late)}, late))
	if d := find(ds, KindAssign, "S1"); d == nil || d.ReaderID != "A" {
		t.Fatalf("want A before midnight: %+v", ds)
	}
	midnight := time.Date(2026, 3, 8, 0, 0, 0, 0, loc)
	ds = must(t)(e.Apply(Heartbeat{ReaderID: "B"}, midnight))
	u := find(ds, KindUnassign, "S1")
	if u == nil || u.Code != ReasonIneligible || !strings.Contains(u.Reason, "TX licence expired 2026-03-07") {
		t.Fatalf("want immediate removal at midnight, got %+v", ds)
	}
	if d := find(ds, KindAssign, "S1"); d == nil || d.ReaderID != "B" {
		t.Fatalf("want re-route to B: %+v", ds)
	}
	// Privilege withdrawn by a ReaderUpdated: removed in the same Apply.
	b := *rs[1]
	b.Privileges = nil
	ds = must(t)(e.Apply(ReaderUpdated{Reader: &b}, midnight.Add(time.Second)))
	if u := find(ds, KindUnassign, "S1"); u == nil || !strings.Contains(u.Reason, "no privilege at Facility 12") {
		t.Fatalf("privilege removal: %+v", ds)
	}
	if d := find(ds, KindUncovered, "S1"); d == nil {
		t.Fatalf("want uncovered: %+v", ds)
	}
}

func TestUncoveredNamesMissingCredential(t *testing.T) {
	e, _, _ := fixture(t, DefaultConfig())
	wy := &model.Facility{ID: "F99", Name: "Facility 99", State: "WY", TimeZone: "America/Denver"}
	must(t)(e.Apply(FacilityUpdated{Facility: wy}, t0))
	ds := must(t)(e.Apply(StudyReady{Study: study(wy, "S9", t0)}, t0))
	d := find(ds, KindUncovered, "S9")
	if d == nil || d.Reason != "no reader with a US location, an active WY licence and privileges at Facility 99" {
		t.Fatalf("got %+v", ds)
	}
	if len(d.Filtered) == 0 || d.Filtered[0].Reason != "no WY licence on file" || d.Filtered[0].Count != 2 {
		t.Fatalf("filtered %+v", d.Filtered)
	}
	// Same facility, readers exist but are offline.
	e2, f, _ := fixture(t, DefaultConfig())
	must(t)(e2.Apply(ReaderOffline{ReaderID: "A"}, t0))
	must(t)(e2.Apply(ReaderOffline{ReaderID: "B"}, t0))
	ds = must(t)(e2.Apply(StudyReady{Study: study(f, "S2", t0)}, t0))
	if d := find(ds, KindUncovered, "S2"); d == nil || !strings.HasPrefix(d.Reason, "no online reader with a US location, an active TX licence and privileges at Facility 12") {
		t.Fatalf("got %+v", ds)
	}
	// A reader coming online picks the uncovered study up.
	ds = must(t)(e2.Apply(Heartbeat{ReaderID: "B"}, t0.Add(time.Second)))
	if d := find(ds, KindAssign, "S2"); d == nil || d.ReaderID != "B" {
		t.Fatalf("want pickup on heartbeat: %+v", ds)
	}
}

func TestTwoStageOffshorePrelimThenUSFinal(t *testing.T) {
	e, f, rs := fixture(t, DefaultConfig())
	// Only an offshore reader is online.
	must(t)(e.Apply(ReaderOffline{ReaderID: "A"}, t0))
	must(t)(e.Apply(ReaderOffline{ReaderID: "B"}, t0))
	syd := *rs[1]
	syd.ID, syd.Location, syd.TimeZone, syd.Loc = "SYD", model.Location{Country: "AU"}, "Australia/Sydney", nil
	must(t)(e.Apply(ReaderUpdated{Reader: &syd}, t0))
	must(t)(e.Apply(Heartbeat{ReaderID: "SYD"}, t0))
	ds := must(t)(e.Apply(StudyReady{Study: study(f, "S1", t0)}, t0))
	d := find(ds, KindAssign, "S1")
	if d == nil || d.ReaderID != "SYD" || d.Stage != model.Prelim {
		t.Fatalf("want offshore prelim: %+v", ds)
	}
	// Offshore cannot sign a final even holding the lease.
	if _, err := e.Apply(Signed{StudyID: "S1", ReaderID: "SYD", Kind: model.Final}, t0.Add(time.Minute)); err == nil {
		t.Fatal("offshore final signature accepted")
	}
	must(t)(e.Apply(Heartbeat{ReaderID: "SYD"}, t0.Add(90*time.Second)))
	ds = must(t)(e.Apply(Signed{StudyID: "S1", ReaderID: "SYD", Kind: model.Prelim}, t0.Add(2*time.Minute)))
	if d := find(ds, KindUncovered, "S1"); d == nil || d.Stage != model.Final {
		t.Fatalf("final stage should be uncovered until a US reader is online: %+v", ds)
	}
	ds = must(t)(e.Apply(Heartbeat{ReaderID: "B"}, t0.Add(3*time.Minute)))
	if d := find(ds, KindAssign, "S1"); d == nil || d.ReaderID != "B" || d.Stage != model.Final {
		t.Fatalf("want US final: %+v", ds)
	}
	ds = must(t)(e.Apply(Signed{StudyID: "S1", ReaderID: "B", Kind: model.Final}, t0.Add(210*time.Second)))
	if d := find(ds, KindDone, "S1"); d == nil || d.Stage != model.Final {
		t.Fatalf("%+v", ds)
	}
	if _, ok := e.Holder("S1"); ok {
		t.Fatal("study still on worklist")
	}
}

func TestRebalanceMovesAtRiskStudyOnce(t *testing.T) {
	cfg := DefaultConfig()
	e, f, _ := fixture(t, cfg)
	must(t)(e.Apply(ReaderOffline{ReaderID: "B"}, t0))
	f2 := *f
	f2.SLA = map[model.Class]model.SLA{model.ClassSTAT: {Within: 10 * time.Minute, From: model.StartReceived}}
	must(t)(e.Apply(FacilityUpdated{Facility: &f2}, t0))
	mr := study(&f2, "MR1", t0)
	mr.Modality, mr.CPT, mr.WorkRVU, mr.Priority = "MR", "70553", 2.29, model.STAT
	must(t)(e.Apply(StudyReady{Study: mr}, t0))
	must(t)(e.Apply(Opened{StudyID: "MR1", ReaderID: "A"}, t0))
	must(t)(e.Apply(StudyReady{Study: study(&f2, "S1", t0)}, t0))
	if h, _ := e.Holder("S1"); h != "A" {
		t.Fatalf("S1 with %q", h)
	}
	ds := must(t)(e.Apply(Heartbeat{ReaderID: "B"}, t0.Add(30*time.Second)))
	u := find(ds, KindUnassign, "S1")
	a := find(ds, KindAssign, "S1")
	// An idle reader takes an urgent study queued behind a long read
	// (steal) before the deadline check would move it; either is right.
	if u == nil || (u.Code != ReasonDeadline && u.Code != ReasonStolen) || a == nil || a.ReaderID != "B" {
		t.Fatalf("want deadline move to B: %+v", ds)
	}
	// A is now idle-ish and B's queue is short: no move back (MaxMoves).
	for s := 1; s <= 10; s++ {
		now := t0.Add(30*time.Second + time.Duration(s)*10*time.Second)
		must(t)(e.Apply(Heartbeat{ReaderID: "A"}, now))
		ds = must(t)(e.Apply(Heartbeat{ReaderID: "B"}, now))
		if find(ds, KindUnassign, "S1") != nil {
			t.Fatalf("ping-pong: %+v", ds)
		}
	}
}

func TestReassignNeverBreaksHardRules(t *testing.T) {
	e, f, rs := fixture(t, DefaultConfig())
	c := *rs[1]
	c.ID, c.Licenses = "C", nil
	must(t)(e.Apply(ReaderUpdated{Reader: &c}, t0))
	must(t)(e.Apply(Heartbeat{ReaderID: "C"}, t0))
	must(t)(e.Apply(StudyReady{Study: study(f, "S1", t0)}, t0))
	if _, err := e.Apply(Reassign{StudyID: "S1", ToReader: "C", Reason: "balance", By: "coord"}, t0); err == nil || !strings.Contains(err.Error(), "no active TX licence") {
		t.Fatalf("want refusal, got %v", err)
	}
	ds := must(t)(e.Apply(Reassign{StudyID: "S1", ToReader: "B", Reason: "balance", By: "coord"}, t0))
	if d := find(ds, KindAssign, "S1"); d == nil || d.ReaderID != "B" || !strings.Contains(d.Reason, "coord") {
		t.Fatalf("%+v", ds)
	}
	ex, err := e.Explain("S1")
	if err != nil || len(ex) != 3 {
		t.Fatal(ex, err)
	}
	i := slices.IndexFunc(ex, func(c Candidate) bool { return c.ReaderID == "C" })
	if len(ex[i].Exclusions) == 0 {
		t.Fatal("explain lost C's exclusion")
	}
}

func TestUnopenedTimeoutAndRelease(t *testing.T) {
	e, f, _ := fixture(t, DefaultConfig())
	must(t)(e.Apply(StudyReady{Study: study(f, "S1", t0)}, t0))
	now := t0.Add(5 * time.Minute)
	for _, id := range []string{"A", "B"} {
		must(t)(e.Apply(Heartbeat{ReaderID: id}, now.Add(-30*time.Second)))
	}
	ds := must(t)(e.Apply(Heartbeat{ReaderID: "A"}, now))
	ds = append(ds, must(t)(e.Apply(Heartbeat{ReaderID: "B"}, now))...)
	if u := find(ds, KindUnassign, "S1"); u == nil || u.Code != ReasonUnopened {
		t.Fatalf("%+v", ds)
	}
	if d := find(ds, KindAssign, "S1"); d == nil || d.ReaderID != "B" {
		t.Fatalf("%+v", ds)
	}
	ds = must(t)(e.Apply(Released{StudyID: "S1", ReaderID: "B", Reason: "not my area"}, now.Add(time.Second)))
	if d := find(ds, KindAssign, "S1"); d == nil || d.ReaderID != "A" {
		t.Fatalf("%+v", ds)
	}
}

func TestSnapshotRestore(t *testing.T) {
	e, f, rs := fixture(t, DefaultConfig())
	must(t)(e.Apply(StudyReady{Study: study(f, "S1", t0)}, t0))
	snap := e.Snapshot()
	if len(snap.Leases) != 1 || snap.Leases[0].ReaderID != "A" {
		t.Fatalf("%+v", snap)
	}
	e2 := New(DefaultConfig())
	must(t)(e2.Apply(FacilityUpdated{Facility: f}, t0))
	for _, r := range rs {
		must(t)(e2.Apply(ReaderUpdated{Reader: r}, t0))
		must(t)(e2.Apply(Heartbeat{ReaderID: r.ID}, t0))
	}
	must(t)(e2.Apply(Restore{Study: study(f, "S1", t0), Lease: snap.Leases[0]}, t0.Add(time.Second)))
	if h, _ := e2.Holder("S1"); h != "A" {
		t.Fatalf("holder %q", h)
	}
}

// A reader's own caps hold for urgent work too, and Explain cites caps,
// target and opt-in.
func TestCapsCitedAndOptIn(t *testing.T) {
	e, f, rs := fixture(t, DefaultConfig())
	a := *rs[0]
	a.MaxRVUPerHour = 1.0 // one CT head (0.85) fits, a second does not
	must(t)(e.Apply(ReaderUpdated{Reader: &a}, t0))
	must(t)(e.Apply(ReaderOffline{ReaderID: "B"}, t0))
	must(t)(e.Apply(StudyReady{Study: study(f, "S1", t0)}, t0))
	ds := must(t)(e.Apply(StudyReady{Study: study(f, "S2", t0)}, t0))
	if find(ds, KindQueued, "S2") == nil {
		t.Fatalf("STAT beyond A's own RVU cap should wait: %+v", ds)
	}
	x, err := e.Explain("S2")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(x, func(c Candidate) bool { return c.ReaderID == "A" })
	if !strings.Contains(x[i].AtCap, "cap 1.0/h") || !strings.Contains(x[i].Limits, "own cap 1.0 RVU/h") || !strings.Contains(x[i].Limits, "target 8.0 RVU/h") {
		t.Fatalf("explain does not cite the cap: %+v", x[i])
	}
	a.ExtraWork = true
	must(t)(e.Apply(ReaderUpdated{Reader: &a}, t0))
	x, _ = e.Explain("S2")
	if !strings.Contains(x[i].Limits, "opted in to extra work") || x[i].AtCap == "" {
		t.Fatalf("opt-in must show and must not lift the own cap: %+v", x[i])
	}
}
