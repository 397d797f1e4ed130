package assign

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/model"
)

// harness drives an engine with random events and checks every decision
// independently against model.Check, using its own presence model.
type harness struct {
	t         *testing.T
	e         *Engine
	w         *world
	rng       *rand.Rand
	now       time.Time
	lastHB    map[string]time.Time
	connected map[string]bool
	readers   map[string]*model.Reader
	holder    map[string]string
	stage     map[string]model.ReadKind
	studies   map[string]*model.Study
	nextID    int
	log       []Decision
	signed    map[string][]rvuAt // per reader, for the RVU/hour cap
}

func newHarness(t *testing.T, seed uint64, policy Policy, nReaders, nFac int) *harness {
	rng := rand.New(rand.NewPCG(seed, 7))
	w := randomWorld(rng, nReaders, nFac)
	cfg := DefaultConfig()
	cfg.Policy = policy
	cfg.Rand = rand.New(rand.NewPCG(seed, 99))
	h := &harness{t: t, e: New(cfg), w: w, rng: rng, now: t0, lastHB: map[string]time.Time{}, connected: map[string]bool{},
		readers: map[string]*model.Reader{}, holder: map[string]string{}, stage: map[string]model.ReadKind{}, studies: map[string]*model.Study{}, signed: map[string][]rvuAt{}}
	for _, f := range w.facilities {
		h.apply(FacilityUpdated{Facility: f})
	}
	for _, r := range w.readers {
		h.readers[r.ID] = r
		h.apply(ReaderUpdated{Reader: r})
		h.connected[r.ID] = rng.IntN(5) > 0
	}
	return h
}

func (h *harness) presence(id string) model.Presence {
	return model.PresenceAt(h.lastHB[id], false, h.now)
}

// replaceReader swaps in a new version of a reader everywhere the harness
// and the engine know it.
func (h *harness) replaceReader(r *model.Reader) {
	h.readers[r.ID] = r
	for i, x := range h.w.readers {
		if x.ID == r.ID {
			h.w.readers[i] = r
		}
	}
	if _, err := h.apply(ReaderUpdated{Reader: r}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) apply(ev Event) ([]Decision, error) {
	h.t.Helper()
	ds, err := h.e.Apply(ev, h.now)
	for _, d := range ds {
		h.log = append(h.log, d)
		switch d.Kind {
		case KindAssign:
			if cur := h.holder[d.StudyID]; cur != "" {
				h.t.Fatalf("%s leased to %s while %s holds it", d.StudyID, d.ReaderID, cur)
			}
			r := h.readers[d.ReaderID]
			ss := model.ShiftState{OnShift: model.OnShift(r, h.now), Presence: h.presence(d.ReaderID)}
			if ex := model.Check(r, h.studies[d.StudyID], d.Stage, h.now, ss); len(ex) > 0 {
				h.t.Fatalf("assignment %s→%s (%s) breaks hard rules: %v (event %T %+v, now %v)", d.StudyID, d.ReaderID, d.Stage, ex, ev, d, h.now)
			}
			h.holder[d.StudyID] = d.ReaderID
			h.stage[d.StudyID] = d.Stage
			if !strings.HasPrefix(d.Reason, "reassigned") { // a coordinator may override caps
				h.checkCaps(r, d)
			}
		case KindUnassign:
			if h.holder[d.StudyID] != d.ReaderID {
				h.t.Fatalf("unassign %s from %s but holder is %q", d.StudyID, d.ReaderID, h.holder[d.StudyID])
			}
			delete(h.holder, d.StudyID)
		case KindDone:
			if d.ReaderID != "" && h.holder[d.StudyID] != d.ReaderID {
				h.t.Fatalf("done %s by %s but holder is %q", d.StudyID, d.ReaderID, h.holder[d.StudyID])
			}
			if d.ReaderID != "" {
				h.signed[d.ReaderID] = append(h.signed[d.ReaderID], rvuAt{h.now, h.studies[d.StudyID].WorkRVU})
			}
			delete(h.holder, d.StudyID)
		case KindUncovered:
			st := h.e.studies[d.StudyID]
			for _, r := range h.w.readers {
				ss := model.ShiftState{OnShift: model.OnShift(r, h.now), Presence: h.presence(r.ID)}
				if len(model.Check(r, st.s, st.stage, h.now, ss)) == 0 {
					h.t.Fatalf("%s reported uncovered but %s is eligible", d.StudyID, r.ID)
				}
			}
		}
	}
	h.invariants()
	return ds, err
}

// checkCaps: after an engine assignment the reader is within their own
// caps (open cases; RVU signed in the last hour plus RVU held), counted
// from the decisions, not from the engine's state.
func (h *harness) checkCaps(r *model.Reader, d Decision) {
	h.t.Helper()
	n, held := 0, 0.0
	for s, who := range h.holder {
		if who == r.ID {
			n++
			held += h.studies[s].WorkRVU
		}
	}
	if r.MaxOpenCases > 0 && n > r.MaxOpenCases {
		h.t.Fatalf("%s→%s: %d open cases, own cap %d", d.StudyID, r.ID, n, r.MaxOpenCases)
	}
	if c := r.MaxRVUPerHour; c > 0 {
		done := 0.0
		for _, x := range h.signed[r.ID] {
			if x.at.After(h.now.Add(-time.Hour)) {
				done += x.rvu
			}
		}
		if done+held > c+1e-9 {
			h.t.Fatalf("%s→%s: %.2f RVU signed in the last hour + %.2f held > own cap %.2f", d.StudyID, r.ID, done, held, c)
		}
	}
}

func (h *harness) invariants() {
	h.t.Helper()
	seen := map[string]string{}
	for _, rs := range h.e.readers {
		for _, st := range rs.queue {
			if prev, dup := seen[st.s.ID]; dup {
				h.t.Fatalf("%s in queues of %s and %s", st.s.ID, prev, rs.r.ID)
			}
			seen[st.s.ID] = rs.r.ID
			if st.reader != rs {
				h.t.Fatalf("%s queue/holder mismatch", st.s.ID)
			}
			// A lapse takes the study out at once: credentials hold right now.
			if ex := model.Check(rs.r, st.s, st.stage, h.now, model.Signing()); len(ex) > 0 {
				h.t.Fatalf("%s still leased to %s after lapse: %v", st.s.ID, rs.r.ID, ex)
			}
			if h.presence(rs.r.ID) == model.Offline && h.now.Sub(h.lastHB[rs.r.ID]) > model.OfflineAfter {
				h.t.Fatalf("%s leased to offline %s", st.s.ID, rs.r.ID)
			}
			if !st.opened && !model.OnShift(rs.r, h.now) {
				h.t.Fatalf("unopened %s leased to off-shift %s", st.s.ID, rs.r.ID)
			}
		}
	}
	if len(seen) != len(h.holder) {
		h.t.Fatalf("engine has %d leases, decisions imply %d", len(seen), len(h.holder))
	}
	for s, r := range h.holder {
		if seen[s] != r {
			h.t.Fatalf("decisions say %s→%s, engine says %q", s, r, seen[s])
		}
	}
}

func (h *harness) leasedIDs() []string {
	ids := slices.Sorted(maps.Keys(h.holder))
	return ids
}

// mustLease applies a lease-holder event; it may only fail because the
// timers that ran first (same Apply) took the lease away.
func (h *harness) mustLease(id string, ev Event) {
	h.t.Helper()
	ds, err := h.apply(ev)
	if err == nil {
		return
	}
	if errors.Is(err, ErrNoLease) && slices.ContainsFunc(ds, func(d Decision) bool { return d.StudyID == id && d.Kind == KindUnassign }) {
		return
	}
	h.t.Fatal(err)
}

func (h *harness) step() {
	h.now = h.now.Add(time.Duration(h.rng.IntN(40)) * time.Second)
	for _, r := range h.w.readers {
		if h.connected[r.ID] && h.now.Sub(h.lastHB[r.ID]) >= 15*time.Second {
			h.lastHB[r.ID] = h.now
			h.apply(Heartbeat{ReaderID: r.ID})
		}
	}
	rng := h.rng
	switch x := rng.IntN(100); {
	case x < 35:
		h.nextID++
		s := randomStudy(rng, h.w, h.nextID, h.now)
		h.studies[s.ID] = s
		ds, err := h.apply(StudyReady{Study: s})
		if err != nil {
			h.t.Fatal(err)
		}
		ok := slices.ContainsFunc(ds, func(d Decision) bool {
			return d.StudyID == s.ID && (d.Kind == KindAssign || d.Kind == KindUncovered || d.Kind == KindQueued)
		})
		if !ok {
			h.t.Fatalf("study %s neither assigned, queued nor reported uncovered: %+v", s.ID, ds)
		}
	case x < 50, x < 65:
		ids := h.leasedIDs()
		if len(ids) == 0 {
			return
		}
		id := ids[rng.IntN(len(ids))]
		var ev Event = Opened{StudyID: id, ReaderID: h.holder[id]}
		if x >= 50 {
			ev = Signed{StudyID: id, ReaderID: h.holder[id], Kind: h.stage[id]}
		}
		h.mustLease(id, ev)
	case x < 70:
		ids := h.leasedIDs()
		if len(ids) == 0 {
			return
		}
		id := ids[rng.IntN(len(ids))]
		h.mustLease(id, Released{StudyID: id, ReaderID: h.holder[id]})
	case x < 75:
		// A licence or privilege lapses (or is withdrawn) mid-shift.
		old := h.w.readers[rng.IntN(len(h.w.readers))]
		r := *old
		r.Licenses = slices.Clone(old.Licenses)
		r.Privileges = slices.Clone(old.Privileges)
		if len(r.Licenses) > 0 && rng.IntN(2) == 0 {
			r.Licenses[rng.IntN(len(r.Licenses))].Expires = model.DateOf(h.now.AddDate(0, 0, -1))
		} else if len(r.Privileges) > 0 {
			i := rng.IntN(len(r.Privileges))
			r.Privileges = slices.Delete(r.Privileges, i, i+1)
		}
		// Flush due timers first so every decision of the next Apply is
		// judged against the reader version it was made with.
		h.apply(Tick{})
		h.replaceReader(&r)
	case x < 80:
		id := h.w.readers[rng.IntN(len(h.w.readers))].ID
		h.connected[id] = !h.connected[id]
	case x < 84:
		ids := h.leasedIDs()
		if len(ids) == 0 {
			return
		}
		id := ids[rng.IntN(len(ids))]
		to := ""
		if rng.IntN(2) == 0 {
			to = h.w.readers[rng.IntN(len(h.w.readers))].ID
		}
		if _, err := h.apply(Reassign{StudyID: id, ToReader: to, Reason: "test", By: "coord"}); err != nil && !errors.Is(err, ErrNotEligible) {
			h.t.Fatal(err)
		}
	case x < 88:
		ids := h.leasedIDs()
		if len(ids) == 0 {
			return
		}
		id := ids[rng.IntN(len(ids))]
		if _, err := h.apply(StudyChanged{StudyID: id, Priority: model.STAT, Stroke: rng.IntN(2) == 0}); err != nil {
			h.t.Fatal(err)
		}
	case x < 90:
		// A reader opts in to (or out of) extra work.
		r := *h.w.readers[rng.IntN(len(h.w.readers))]
		r.ExtraWork = rng.IntN(2) == 0
		h.apply(Tick{})
		h.replaceReader(&r)
	default:
		h.apply(Tick{})
	}
}

func TestPropertyHardRulesAndLeases(t *testing.T) {
	seeds, steps := 25, 400
	if testing.Short() {
		seeds = 8
	}
	for _, pol := range []Policy{PolicyLightbox, PolicyRoundRobin, PolicySharedPool} {
		t.Run(string(pol), func(t *testing.T) {
			for seed := range uint64(seeds) {
				h := newHarness(t, seed, pol, 12+int(seed%20), 4+int(seed%8))
				for range steps {
					h.step()
				}
				// Long quiet: hours pass with ticks only.
				for range 200 {
					h.now = h.now.Add(5 * time.Minute)
					h.apply(Tick{})
				}
			}
		})
	}
}

func TestDeterminism(t *testing.T) {
	run := func() []byte {
		h := newHarness(t, 42, PolicyLightbox, 25, 8)
		for range 350 {
			h.step()
		}
		b, err := json.Marshal(h.log)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := run(), run()
	if string(a) != string(b) {
		t.Fatal("same seed, different decisions")
	}
	hs := newHarness(t, 42, PolicySharedPool, 25, 8)
	for range 300 {
		hs.step()
	}
}

func TestConcurrentSafe(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := randomWorld(rng, 30, 6)
	s := NewSafe(New(DefaultConfig()))
	for _, f := range w.facilities {
		s.Apply(FacilityUpdated{Facility: f}, t0)
	}
	for _, r := range w.readers {
		s.Apply(ReaderUpdated{Reader: r}, t0)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	clock := t0
	tick := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 3))
			for i := range 300 {
				now := tick()
				switch r.IntN(4) {
				case 0:
					st := randomStudy(r, w, g*10000+i, now)
					s.Apply(StudyReady{Study: st}, now)
				case 1:
					s.Apply(Tick{}, now)
				default:
					s.Apply(Heartbeat{ReaderID: w.readers[r.IntN(len(w.readers))].ID}, now)
				}
			}
		}()
	}
	wg.Wait()
	s.Do(func(e *Engine) {
		seen := map[string]bool{}
		for _, rs := range e.readers {
			for _, st := range rs.queue {
				if seen[st.s.ID] {
					t.Fatalf("two leases for %s", st.s.ID)
				}
				seen[st.s.ID] = true
			}
		}
		st := e.Stats()
		if st.Leased+st.Waiting != st.Studies {
			t.Fatalf("stats %+v", st)
		}
		t.Logf("%+v", st)
	})
}

func ExampleEngine() {
	f := &model.Facility{ID: "F12", Name: "Facility 12", State: "WY", TimeZone: "America/Denver"}
	e := New(DefaultConfig())
	e.Apply(FacilityUpdated{Facility: f}, t0)
	ds, _ := e.Apply(StudyReady{Study: &model.Study{ID: "S1", FacilityID: "F12", Modality: "CT", WorkRVU: 0.85}}, t0)
	fmt.Println(ds[0].Kind, ds[0].Reason)
	// Output: uncovered no reader with a US location, an active WY licence and privileges at Facility 12
}
