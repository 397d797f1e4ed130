package assign

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"lightbox/internal/model"
)

var usStates = []string{"AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY"}

// nationalEngine builds 500 readers × 2000 facilities, ~14 licences and
// ~175 privileges per reader, everyone online and on shift, with `queued`
// studies on the worklist.
func nationalEngine(b *testing.B, queued int) (*Engine, []*model.Facility, []*model.Reader, *rand.Rand) {
	rng := rand.New(rand.NewPCG(1, 1))
	e := New(DefaultConfig())
	facs := make([]*model.Facility, 2000)
	byState := map[string][]*model.Facility{}
	for i := range facs {
		st := usStates[rng.IntN(len(usStates))]
		f := &model.Facility{ID: fmt.Sprintf("F%04d", i), Name: fmt.Sprintf("Facility %d", i), State: st,
			TimeZone: zones[rng.IntN(4)], Medicare: true, ReadType: model.ReadFinalType}
		facs[i] = f
		byState[st] = append(byState[st], f)
		e.Apply(FacilityUpdated{Facility: f}, t0)
	}
	readers := make([]*model.Reader, 500)
	for i := range readers {
		r := &model.Reader{ID: fmt.Sprintf("R%03d", i), TimeZone: "America/Chicago", Modalities: []string{"CT", "MR", "CR", "US"},
			Location: model.Location{Country: "US", State: "TX"}, RVUTargetPerHour: 10, MaxOpenCases: 12,
			Enrolments: []model.Enrolment{{Payer: model.PayerMedicare, Active: true}},
			Blocks:     []model.Block{{Start: t0.Add(-time.Hour), End: t0.Add(72 * time.Hour)}}}
		perm := rng.Perm(len(usStates))[:14]
		var lic []string
		for _, k := range perm {
			lic = append(lic, usStates[k])
			r.Licenses = append(r.Licenses, model.License{State: usStates[k], Status: model.LicenceActive, Expires: model.MustDate("2027-12-31")})
		}
		r.Malpractice = []model.Malpractice{{States: lic, Telemedicine: true}}
		var pool []*model.Facility
		for _, s := range lic {
			pool = append(pool, byState[s]...)
		}
		rng.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
		for _, f := range pool[:min(175, len(pool))] {
			r.Privileges = append(r.Privileges, model.Privilege{Facility: f.ID, Basis: model.Direct, Expires: model.MustDate("2027-12-31")})
		}
		readers[i] = r
		e.Apply(ReaderUpdated{Reader: r}, t0)
		e.Apply(Heartbeat{ReaderID: r.ID}, t0)
	}
	for i := range queued {
		e.Apply(StudyReady{Study: benchStudy(rng, facs, i, t0)}, t0)
	}
	return e, facs, readers, rng
}

func benchStudy(rng *rand.Rand, facs []*model.Facility, i int, at time.Time) *model.Study {
	f := facs[rng.IntN(len(facs))]
	c := cpts[rng.IntN(5)]
	s := &model.Study{ID: fmt.Sprintf("Q%06d", i), FacilityID: f.ID, Modality: c.mod, CPT: c.cpt, WorkRVU: c.rvu, ArrivalTime: at, ExamTime: at}
	if rng.IntN(5) == 0 {
		s.Priority = model.STAT
	}
	return s
}

// BenchmarkAssign measures one StudyReady decision (index lookup, Check on
// candidates, scoring, lease) against 500 readers, 2000 facilities and
// 5000 studies already on the worklist. Time advances 100 ms per decision,
// so periodic sweeps (presence, leases, rebalance) are included in the
// tail; the study is cancelled afterwards (untimed) to keep the load level.
func BenchmarkAssign(b *testing.B) {
	e, facs, readers, rng := nationalEngine(b, 5000)
	st := e.Stats()
	b.Logf("setup: %+v", st)
	lat := make([]time.Duration, 0, b.N)
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		now = now.Add(100 * time.Millisecond)
		if i%150 == 0 {
			for _, r := range readers {
				e.Apply(Heartbeat{ReaderID: r.ID}, now)
			}
		}
		s := benchStudy(rng, facs, 1_000_000+i, now)
		b.StartTimer()
		t := time.Now()
		ds, err := e.Apply(StudyReady{Study: s}, now)
		lat = append(lat, time.Since(t))
		b.StopTimer()
		if err != nil || len(ds) == 0 {
			b.Fatal(err, ds)
		}
		e.Apply(Cancelled{StudyID: s.ID}, now)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
}
