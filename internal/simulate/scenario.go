package simulate

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"lightbox/internal/model"
)

//go:embed scenarios/*.json
var scenarioFS embed.FS

// ShiftPlan is one share of on-duty readers: a shift type starting at a
// wall-clock time in the reader's own zone.
type ShiftPlan struct {
	Type  model.ShiftType `json:"type"`
	Start string          `json:"start"`
	Hours float64         `json:"hours"`
	Share float64         `json:"share"`
}

// Params are generator parameters: a scenario file is these, not 500
// literal readers. Every number is documented in SCENARIOS.md.
type Params struct {
	Name                string      `json:"name"`
	Date                string      `json:"date"` // simulated day, America/New_York
	WorldSeed           uint64      `json:"world_seed"`
	Readers             int         `json:"readers"`
	Facilities          int         `json:"facilities"`
	States              []string    `json:"states,omitempty"` // restrict facilities to these; default all 51
	StudiesPerDay       float64     `json:"studies_per_day"`
	LicencesPerReader   int         `json:"licences_per_reader"`
	PrivilegesPerReader int         `json:"privileges_per_reader"`
	OnDutyShare         float64     `json:"on_duty_share"`
	OffshoreShare       float64     `json:"offshore_share"`
	MammoReaderShare    float64     `json:"mammo_reader_share"`
	NeuroShare          float64     `json:"neuro_share"`
	MedicareShare       float64     `json:"medicare_share"`
	PrelimOnlyShare     float64     `json:"prelim_only_share"`
	OutageProb          float64     `json:"outage_prob"`
	MaxOpen             int         `json:"max_open"`
	ShiftPlan           []ShiftPlan `json:"shift_plan"`
}

// Exam is one entry of the study mix.
type Exam struct {
	CPT, Modality, BodyPart, Subspecialty string
	Weight                                float64
	MedianMin, Sigma                      float64 // log-normal reading time
	RoutineOnly                           bool
}

// examMix is the default study mix (weights are estimates for an
// ED-heavy teleradiology practice; see SCENARIOS.md).
var examMix = [...]Exam{
	{"70450", "CT", "HEAD", "neuro", 24, 4, 0.45, false},
	{"71046", "CR", "CHEST", "", 13, 1.5, 0.5, false},
	{"74177", "CT", "ABDOMEN", "body", 18, 8, 0.45, false},
	{"74176", "CT", "ABDOMEN", "body", 4, 7, 0.45, false},
	{"71275", "CT", "CHEST", "body", 8, 7, 0.4, false},
	{"71250", "CT", "CHEST", "body", 5, 6, 0.4, false},
	{"76700", "US", "ABDOMEN", "body", 8, 5, 0.4, false},
	{"70553", "MR", "HEAD", "neuro", 4, 12, 0.4, false},
	{"70551", "MR", "HEAD", "neuro", 3, 9, 0.4, false},
	{"72148", "MR", "LSPINE", "msk", 3, 10, 0.4, false},
	{"77067", "MG", "BREAST", "breast", 6, 3, 0.35, true},
	{"77066", "MG", "BREAST", "breast", 1, 6, 0.35, true},
	{"G0279", "MG", "BREAST", "breast", 2, 6, 0.35, true},
}

// hourly arrival weights in facility local time (weekday, weekend):
// teleradiology volume is ED-driven, peaking in the evening.
var hourlyWeekday = [24]float64{3.2, 2.6, 2.1, 1.8, 1.6, 1.7, 2.2, 3.0, 4.0, 4.8, 5.3, 5.5, 5.5, 5.4, 5.3, 5.3, 5.4, 5.6, 5.8, 5.7, 5.3, 4.8, 4.3, 3.7}
var hourlyWeekend = [24]float64{3.6, 3.0, 2.5, 2.1, 1.9, 1.9, 2.3, 2.9, 3.6, 4.3, 4.8, 5.0, 5.1, 5.1, 5.0, 5.0, 5.0, 5.1, 5.2, 5.1, 4.8, 4.5, 4.2, 3.9}

// Scenario is a fully expanded world plus one day's arrivals.
type Scenario struct {
	Name       string
	Start      time.Time
	Hours      int
	Facilities []*model.Facility
	Readers    []*model.Reader
	Arrivals   []*model.Study // sorted by ArrivalTime
	// ReadTime gives the log-normal reading time (median minutes, sigma)
	// per CPT; unknown codes use RVU at the reader's target pace.
	ReadTime map[string][2]float64
	Outages  []Outage
	// TailShare of reads take 1+TailFactor×Exp(1) times longer (the
	// long-tail variant); zero for the plain log-normal.
	TailShare, TailFactor float64
}

// Outage is a reader dropping off mid-shift (network, workstation crash).
type Outage struct {
	ReaderID string
	Start    time.Time
	Duration time.Duration
}

// Config is the plain-struct input for ScenarioFromConfig (e.g. loaded
// from the database for `simulate --from-db`).
type Config struct {
	Name       string
	Start      time.Time
	Hours      int
	Facilities []model.Facility
	Readers    []model.Reader
	Arrivals   []model.Study // ArrivalTime set; FacilityID must match
	ReadTime   map[string][2]float64
	Outages    []Outage
}

// ScenarioFromConfig builds a scenario from plain structs. The inputs are
// copied, so callers keep theirs.
func ScenarioFromConfig(c Config) (*Scenario, error) {
	sc := &Scenario{Name: c.Name, Start: c.Start, Hours: c.Hours, ReadTime: c.ReadTime, Outages: slices.Clone(c.Outages)}
	if sc.Hours <= 0 {
		sc.Hours = 24
	}
	if sc.ReadTime == nil {
		sc.ReadTime = defaultReadTimes()
	}
	byID := map[string]*model.Facility{}
	for i := range c.Facilities {
		f := c.Facilities[i]
		if err := f.Resolve(); err != nil {
			return nil, err
		}
		sc.Facilities = append(sc.Facilities, &f)
		byID[f.ID] = &f
	}
	for i := range c.Readers {
		r := c.Readers[i]
		if err := r.Resolve(); err != nil {
			return nil, err
		}
		sc.Readers = append(sc.Readers, &r)
	}
	for i := range c.Arrivals {
		s := c.Arrivals[i]
		f := byID[s.FacilityID]
		if f == nil {
			return nil, fmt.Errorf("simulate: study %s: unknown facility %q", s.ID, s.FacilityID)
		}
		s.Facility = f
		if s.ArrivalTime.IsZero() {
			return nil, fmt.Errorf("simulate: study %s has no arrival time", s.ID)
		}
		sc.Arrivals = append(sc.Arrivals, &s)
	}
	sortArrivals(sc.Arrivals)
	if sc.Start.IsZero() && len(sc.Arrivals) > 0 {
		sc.Start = sc.Arrivals[0].ArrivalTime.Truncate(time.Hour)
	}
	// A configured roster keeps weekly shifts, but a run logs readers in
	// from blocks only: expand the shifts over the replayed window (from the
	// day before, for overnight shifts, past the longest drain) or nobody is
	// ever on duty.
	for _, r := range sc.Readers {
		if len(r.Shifts) > 0 || len(r.Away) > 0 { // absences cut blocks too
			r.Blocks = model.DutyBlocks(r, sc.Start.Add(-24*time.Hour), sc.Start.Add(time.Duration(sc.Hours)*time.Hour+48*time.Hour))
			r.Shifts, r.Away = nil, nil
		}
	}
	return sc, nil
}

func sortArrivals(a []*model.Study) {
	slices.SortStableFunc(a, func(a, b *model.Study) int {
		return cmp.Or(a.ArrivalTime.Compare(b.ArrivalTime), cmp.Compare(a.ID, b.ID))
	})
}

func defaultReadTimes() map[string][2]float64 {
	m := map[string][2]float64{}
	for _, e := range examMix {
		m[e.CPT] = [2]float64{e.MedianMin, e.Sigma}
	}
	return m
}

// LoadParams returns an embedded scenario ("small", "national") or reads
// a JSON file of Params.
func LoadParams(name string) (Params, error) {
	var b []byte
	var err error
	if !strings.ContainsAny(name, "./") {
		b, err = scenarioFS.ReadFile("scenarios/" + name + ".json")
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return Params{}, fmt.Errorf("simulate: scenario %q: %w", name, err)
	}
	var p Params
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Params{}, fmt.Errorf("simulate: scenario %q: %w", name, err)
	}
	return p, nil
}

// Generate expands parameters into a scenario. The group (readers,
// facilities, credentials) depends only on WorldSeed; the day (arrivals,
// shifts worked, outages) on seed.
func Generate(p Params, seed uint64, hours int) (*Scenario, error) {
	if hours <= 0 {
		hours = 24
	}
	day, err := model.ParseDate(p.Date)
	if err != nil || day.IsZero() {
		return nil, fmt.Errorf("simulate: scenario date %q", p.Date)
	}
	east, _ := time.LoadLocation("America/New_York")
	start := day.Midnight(east)
	wrng := rand.New(rand.NewPCG(p.WorldSeed, 0x5eed))
	rng := rand.New(rand.NewPCG(seed, 0xda7))
	sc := &Scenario{Name: p.Name, Start: start, Hours: hours, ReadTime: defaultReadTimes()}
	expiry := day.AddDays(365)

	// Facilities, weighted by state population.
	var states []stateInfo
	for _, s := range usStates {
		if len(p.States) == 0 || slices.Contains(p.States, s.code) {
			states = append(states, s)
		}
	}
	stw := make([]float64, len(states))
	for i, s := range states {
		stw[i] = s.pop
	}
	byState := map[string][]*model.Facility{}
	for i := range p.Facilities {
		s := states[pickWeighted(wrng, stw)]
		if i < len(states) {
			s = states[i] // every listed state gets at least one facility
		}
		f := &model.Facility{ID: fmt.Sprintf("F%04d", i+1), Name: fmt.Sprintf("Facility %d", i+1), State: s.code, TimeZone: s.zone,
			Medicare: wrng.Float64() < p.MedicareShare, ReadType: model.ReadFinalType}
		if wrng.Float64() < p.PrelimOnlyShare {
			f.ReadType = model.ReadPrelimOnly
		}
		if err := f.Resolve(); err != nil {
			return nil, err
		}
		sc.Facilities = append(sc.Facilities, f)
		byState[s.code] = append(byState[s.code], f)
	}
	// Facility volume weight (bigger hospitals send more).
	facW := make([]float64, len(sc.Facilities))
	for i := range facW {
		facW[i] = math.Exp(wrng.NormFloat64() * 0.8)
	}

	// Readers. Licences are drawn by state volume (IMLC states a bit more
	// likely); privileges from facilities in licensed states.
	usZones := []string{"America/New_York", "America/New_York", "America/Chicago", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles"}
	offZones := []string{"Australia/Sydney", "Europe/Zurich"}
	volByState := map[string]float64{}
	for i, f := range sc.Facilities {
		volByState[f.State] += facW[i]
	}
	var stCodes []string
	var licW []float64
	for _, s := range states {
		if v := volByState[s.code]; v > 0 {
			stCodes = append(stCodes, s.code)
			w := math.Sqrt(v) // flatter than volume: groups license broadly
			if imlc[s.code] {
				w *= 1.3
			}
			licW = append(licW, w)
		}
	}
	for i := range p.Readers {
		r := &model.Reader{ID: fmt.Sprintf("R%03d", i+1), Name: fmt.Sprintf("Reader %d", i+1),
			Modalities: []string{"CT", "CR", "US", "MR"}, Workstation: model.WS3MP, RVUTargetPerHour: 9 + float64(wrng.IntN(5)),
			MaxOpenCases: p.MaxOpen, Enrolments: []model.Enrolment{{Payer: model.PayerMedicare, Active: true, Expires: expiry}}}
		if wrng.Float64() < p.OffshoreShare {
			z := offZones[wrng.IntN(len(offZones))]
			r.TimeZone, r.Location = z, model.Location{Country: map[string]string{"Australia/Sydney": "AU", "Europe/Zurich": "CH"}[z]}
			r.Enrolments = nil
		} else {
			r.TimeZone = usZones[wrng.IntN(len(usZones))]
			r.Location = model.Location{Country: "US", State: stCodes[pickWeighted(wrng, licW)]}
		}
		if wrng.Float64() < p.MammoReaderShare {
			r.Modalities = append(r.Modalities, "MG")
			r.Workstation = model.WS5MP
			r.MQSA = model.MQSA{Qualified: true, Last24Months: 1000 + wrng.IntN(3000), DBT: wrng.IntN(4) > 0, QualifiedUntil: expiry}
			r.Subspecialties = append(r.Subspecialties, "breast")
		}
		if wrng.Float64() < p.NeuroShare {
			r.Subspecialties = append(r.Subspecialties, "neuro")
		}
		if wrng.IntN(3) == 0 {
			r.Subspecialties = append(r.Subspecialties, "body")
		}
		nl := min(len(stCodes), max(1, p.LicencesPerReader+wrng.IntN(5)-2))
		lic := map[string]bool{}
		if r.Location.InUS() {
			lic[r.Location.State] = true
		}
		for len(lic) < nl {
			lic[stCodes[pickWeighted(wrng, licW)]] = true
		}
		var licStates []string
		for _, s := range stCodes { // ordered, not map order
			if lic[s] {
				licStates = append(licStates, s)
				exp := expiry.AddDays(wrng.IntN(700))
				if wrng.IntN(200) == 0 {
					exp = day // lapses at the end of the simulated day
				}
				r.Licenses = append(r.Licenses, model.License{State: s, Number: r.ID + "-" + s, Status: model.LicenceActive,
					Expires: exp, IMLC: imlc[s], Source: "board"})
			}
		}
		r.Malpractice = []model.Malpractice{{Carrier: "Group policy", States: licStates, Telemedicine: true, Expires: expiry}}
		var pool []*model.Facility
		for _, s := range licStates {
			pool = append(pool, byState[s]...)
		}
		wrng.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
		np := min(len(pool), max(1, p.PrivilegesPerReader+wrng.IntN(41)-20))
		for _, f := range pool[:np] {
			pr := model.Privilege{Facility: f.ID, Basis: model.Direct, Granted: day.AddDays(-400), Expires: expiry.AddDays(wrng.IntN(300)),
				Scope: model.Scope{Mammography: true, Paediatrics: wrng.IntN(5) > 0}}
			if wrng.IntN(3) == 0 {
				pr.Basis, pr.DistantSite, pr.AgreementID = model.Proxy, "Lightbox Telemedicine Entity", "AGR-"+f.ID
			}
			r.Privileges = append(r.Privileges, pr)
		}
		sc.Readers = append(sc.Readers, r)
	}

	// The day: who works, when, breaks and outages (seeded per run).
	planW := make([]float64, len(p.ShiftPlan))
	for i, s := range p.ShiftPlan {
		planW[i] = s.Share
	}
	end := start.Add(time.Duration(hours) * time.Hour)
	for _, r := range sc.Readers {
		if err := r.Resolve(); err != nil {
			return nil, err
		}
		if rng.Float64() >= p.OnDutyShare || len(p.ShiftPlan) == 0 {
			continue
		}
		plan := p.ShiftPlan[pickWeighted(rng, planW)]
		if !r.Location.InUS() {
			// Offshore readers work their local daytime, which is the US night.
			plan = ShiftPlan{Type: model.Nighthawk, Start: "08:00", Hours: 10}
		}
		clk := model.MustClock(plan.Start)
		// The shift that overlaps the window: starting on the previous or the
		// simulated local day.
		for back := -1; back <= 1; back++ {
			d := start.In(r.Loc).AddDate(0, 0, back)
			st := time.Date(d.Year(), d.Month(), d.Day(), int(clk)/60, int(clk)%60, 0, 0, r.Loc)
			st = st.Add(time.Duration(rng.IntN(61)-30) * time.Minute)
			en := st.Add(time.Duration(plan.Hours * float64(time.Hour)))
			if !en.After(start) || !st.Before(end) {
				continue
			}
			// A 30-minute break near the middle of shifts of 8 h or more.
			if plan.Hours >= 8 {
				mid := st.Add(en.Sub(st)/2 + time.Duration(rng.IntN(61)-30)*time.Minute)
				r.Blocks = append(r.Blocks, model.Block{Type: plan.Type, Start: st, End: mid},
					model.Block{Type: plan.Type, Start: mid.Add(30 * time.Minute), End: en})
			} else {
				r.Blocks = append(r.Blocks, model.Block{Type: plan.Type, Start: st, End: en})
			}
			if rng.Float64() < p.OutageProb {
				at := st.Add(time.Duration(rng.Float64() * float64(en.Sub(st))))
				sc.Outages = append(sc.Outages, Outage{ReaderID: r.ID, Start: at, Duration: time.Duration(3+rng.IntN(40)) * time.Minute})
			}
		}
	}

	// Arrivals: a Poisson count per facility-hour from the local curve.
	mixW := make([]float64, len(examMix))
	for i, e := range examMix {
		mixW[i] = e.Weight
	}
	totalW := 0.0
	for _, w := range facW {
		totalW += w
	}
	perDay := p.StudiesPerDay
	tab := model.DefaultRVU()
	n := 0
	for h := range hours {
		hs := start.Add(time.Duration(h) * time.Hour)
		for fi, f := range sc.Facilities {
			lt := hs.In(f.Loc)
			curve := &hourlyWeekday
			if wd := lt.Weekday(); wd == time.Saturday || wd == time.Sunday {
				curve = &hourlyWeekend
			}
			sum := 0.0
			for _, v := range curve {
				sum += v
			}
			lambda := perDay * facW[fi] / totalW * curve[lt.Hour()] / sum
			for k := poisson(rng, lambda); k > 0; k-- {
				n++
				at := hs.Add(time.Duration(rng.Float64() * float64(time.Hour))).Truncate(time.Second)
				sc.Arrivals = append(sc.Arrivals, makeStudy(rng, tab, f, n, at, lt.Hour(), mixW))
			}
		}
	}
	sortArrivals(sc.Arrivals)
	return sc, nil
}

func makeStudy(rng *rand.Rand, tab *model.RVUTable, f *model.Facility, n int, at time.Time, localHour int, mixW []float64) *model.Study {
	e := examMix[pickWeighted(rng, mixW)]
	night := localHour < 7 || localHour >= 19
	if e.RoutineOnly && night {
		e = examMix[0] // screening is not read overnight; the night slot is ED CT
	}
	s := &model.Study{ID: fmt.Sprintf("S%06d", n), Facility: f, FacilityID: f.ID, Modality: e.Modality, BodyPart: e.BodyPart, CPT: e.CPT,
		Subspecialty: e.Subspecialty, ExamTime: at.Add(-time.Duration(2+rng.IntN(10)) * time.Minute), ArrivalTime: at,
		RelatedKey: fmt.Sprintf("%s-P%d", f.ID, rng.IntN(400))}
	s.OrderTime = s.ExamTime.Add(-20 * time.Minute)
	s.WorkRVU, _ = tab.Lookup(e.CPT, model.DateIn(at, f.Loc))
	// Priority: ED-driven; more STAT at night (estimates, SCENARIOS.md).
	x := rng.Float64()
	statShare := 0.38
	if night {
		statShare = 0.55
	}
	switch {
	case e.RoutineOnly:
	case e.CPT == "70450" && x < 0.10:
		s.Stroke, s.Priority = true, model.STAT
	case (e.CPT == "74177" || e.CPT == "71250" || e.CPT == "70450") && x < 0.16:
		s.Trauma, s.Priority = true, model.STAT
	case x < statShare:
		s.Priority = model.STAT
	case x < statShare+0.12:
		s.Priority = model.ASAP
	}
	if rng.IntN(12) == 0 && !e.RoutineOnly {
		s.Paediatric = true
	}
	if f.ReadType == model.ReadPrelimOnly {
		s.Need = model.NeedPrelim
	}
	return s
}

func pickWeighted(rng *rand.Rand, w []float64) int {
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	x := rng.Float64() * sum
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

func poisson(rng *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
