package stats

import (
	"math"
	"slices"
	"sort"
	"time"

	"lightbox/internal/dispatch"
	"lightbox/internal/model"
)

// Pct is a percentile summary in minutes.
type Pct struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
}

// Percentiles summarises v (minutes), nearest-rank; v is sorted in place.
func Percentiles(v []float64) Pct {
	if len(v) == 0 {
		return Pct{}
	}
	slices.Sort(v)
	q := func(p float64) float64 { return round1(NearestRank(v, p)) }
	return Pct{N: len(v), P50: q(0.50), P90: q(0.90), P95: q(0.95)}
}

// NearestRank is the p-quantile (0 < p <= 1) of sorted, non-empty v by
// the nearest-rank method.
func NearestRank(v []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(v)))) - 1
	return v[max(0, min(len(v)-1, i))]
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// ClassTAT is the first-read turnaround of one SLA class.
type ClassTAT struct {
	Class      string  `json:"class"`
	TAT        Pct     `json:"tat_minutes"`
	SLAMinutes float64 `json:"sla_minutes"` // the contracted SLA (the most common one when facilities differ)
	Breaches   int     `json:"breaches"`
	BreachPct  float64 `json:"breach_pct"`
}

// First keeps each study's first signed read (the one the SLA measures).
func First(reads []dispatch.Read) []dispatch.Read {
	seen := map[string]bool{}
	var out []dispatch.Read
	for _, r := range reads {
		if seen[r.Study.ID] {
			continue
		}
		seen[r.Study.ID] = true
		out = append(out, r)
	}
	return out
}

// TAT is the first-read turnaround per SLA class against the SLA, in the
// order stroke, trauma, stat, asap, routine. reads are first reads with
// Study.Facility resolved (for the contract's SLA).
func TAT(reads []dispatch.Read) []ClassTAT {
	type acc struct {
		mins   []float64
		sla    map[float64]int
		breach int
	}
	by := map[model.Class]*acc{}
	for _, r := range reads {
		st := r.Study
		c := st.Class()
		a := by[c]
		if a == nil {
			a = &acc{sla: map[float64]int{}}
			by[c] = a
		}
		a.mins = append(a.mins, r.SignedAt.Sub(st.SLAStart()).Minutes())
		a.sla[st.Facility.SLAFor(c).Within.Minutes()]++
		if r.SignedAt.After(st.Deadline()) {
			a.breach++
		}
	}
	out := []ClassTAT{}
	for _, c := range []model.Class{model.ClassStroke, model.ClassTrauma, model.ClassSTAT, model.ClassASAP, model.ClassRoutine} {
		a := by[c]
		if a == nil {
			continue
		}
		ct := ClassTAT{Class: string(c), TAT: Percentiles(a.mins), Breaches: a.breach, BreachPct: round1(100 * float64(a.breach) / float64(len(a.mins)))}
		best := 0
		for m, n := range a.sla {
			if n > best || n == best && m < ct.SLAMinutes {
				ct.SLAMinutes, best = m, n
			}
		}
		out = append(out, ct)
	}
	return out
}

// ReaderDay is one reader's work on one day (UTC): their shift of that day.
type ReaderDay struct {
	ReaderID      string  `json:"reader_id"`
	Day           string  `json:"day"` // YYYY-MM-DD, UTC
	Reads         int     `json:"reads"`
	RVU           float64 `json:"rvu"`
	HoursOnDuty   float64 `json:"hours_on_duty"`
	RVUPerHour    float64 `json:"rvu_per_hour"`
	TargetPerHour float64 `json:"target_per_hour"`
	HoursFrom     string  `json:"hours_from"` // roster, or activity (first to last signature) when the roster has none
}

// RVUByReaderDay sums each reader's signed work RVU per UTC day against
// their target per hour on duty (hours from their roster that day).
func RVUByReaderDay(reads []dispatch.Read, readers map[string]*model.Reader) []ReaderDay {
	type key struct{ reader, day string }
	acc := map[key]*ReaderDay{}
	span := map[key]*[2]time.Time{} // first and last signature
	for _, r := range reads {
		k := key{r.ReaderID, r.SignedAt.UTC().Format("2006-01-02")}
		if span[k] == nil {
			span[k] = &[2]time.Time{}
		}
		d := acc[k]
		if d == nil {
			d = &ReaderDay{ReaderID: k.reader, Day: k.day}
			acc[k] = d
		}
		d.Reads++
		d.RVU += r.Study.WorkRVU
		if span[k][0].IsZero() || r.SignedAt.Before(span[k][0]) {
			span[k][0] = r.SignedAt
		}
		if r.SignedAt.After(span[k][1]) {
			span[k][1] = r.SignedAt
		}
	}
	out := make([]ReaderDay, 0, len(acc))
	for k, d := range acc {
		d.RVU = round1(d.RVU)
		var h float64
		d.HoursFrom = "roster"
		if rd := readers[d.ReaderID]; rd != nil {
			d.TargetPerHour = rd.RVUTargetPerHour
			day, _ := time.Parse("2006-01-02", d.Day)
			for _, b := range model.DutyBlocks(rd, day, day.Add(24*time.Hour)) {
				h += b.End.Sub(b.Start).Hours()
			}
		}
		if h == 0 {
			// not on the roster that day (an extra hour, a reader since
			// removed): the span of their signatures, at least an hour
			d.HoursFrom = "activity"
			h = max(1, span[k][1].Sub(span[k][0]).Hours())
		}
		d.HoursOnDuty = round1(h)
		d.RVUPerHour = round1(d.RVU / h)
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day < out[j].Day
		}
		return out[i].ReaderID < out[j].ReaderID
	})
	return out
}

// Own is a reader's own figures over a range against their target and the
// group median (of every reader who signed something), naming nobody else.
type Own struct {
	Reads           int         `json:"reads"`
	RVU             float64     `json:"rvu"`
	HoursOnDuty     float64     `json:"hours_on_duty"`
	RVUPerHour      float64     `json:"rvu_per_hour"`
	TargetPerHour   float64     `json:"target_per_hour"`
	TATP50          float64     `json:"tat_p50_minutes"`
	GroupRVUPerHour float64     `json:"group_median_rvu_per_hour"`
	GroupTATP50     float64     `json:"group_median_tat_p50_minutes"`
	GroupReaders    int         `json:"group_readers"`
	Days            []ReaderDay `json:"days"`
}

// OwnView computes me's figures from the group's reads and reader days.
func OwnView(me string, first []dispatch.Read, days []ReaderDay, target float64) Own {
	type tot struct {
		rvu, hours float64
		reads      int
		tat        []float64
	}
	per := map[string]*tot{}
	get := func(id string) *tot {
		if per[id] == nil {
			per[id] = &tot{}
		}
		return per[id]
	}
	o := Own{TargetPerHour: target, Days: []ReaderDay{}}
	for _, d := range days {
		t := get(d.ReaderID)
		t.rvu += d.RVU
		t.hours += d.HoursOnDuty
		t.reads += d.Reads
		if d.ReaderID == me {
			o.Days = append(o.Days, d)
		}
	}
	for _, r := range first {
		t := get(r.ReaderID)
		t.tat = append(t.tat, r.SignedAt.Sub(r.Study.SLAStart()).Minutes())
	}
	var rates, tats []float64
	for id, t := range per {
		rate := 0.0
		if t.hours > 0 {
			rate = t.rvu / t.hours
		}
		p50 := Percentiles(t.tat).P50
		rates = append(rates, rate)
		if len(t.tat) > 0 {
			tats = append(tats, p50)
		}
		if id == me {
			o.Reads, o.RVU, o.HoursOnDuty, o.RVUPerHour, o.TATP50 = t.reads, round1(t.rvu), round1(t.hours), round1(rate), p50
		}
	}
	o.GroupReaders = len(per)
	o.GroupRVUPerHour = median(rates)
	o.GroupTATP50 = median(tats)
	return o
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return round1(v[len(v)/2])
	}
	return round1((v[len(v)/2-1] + v[len(v)/2]) / 2)
}
