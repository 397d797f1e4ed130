package simulate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/model"
	"lightbox/internal/stats"
)

// Pct is a percentile summary in minutes.
type Pct struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// HourTAT is the TAT in one arrival hour (America/New_York).
type HourTAT struct {
	Hour      int     `json:"hour"`
	Studies   int     `json:"studies"`
	UrgentP50 float64 `json:"urgent_p50"`
	UrgentP95 float64 `json:"urgent_p95"`
	AllP50    float64 `json:"all_p50"`
}

// ShiftFairness compares readers who work the same shift type: their
// RVU per hour on duty (Gini), and whether anyone's mix is harder (mean
// RVU per case and share of hard cases, as the 10th–90th percentile range
// across readers). All over the arrival window.
type ShiftFairness struct {
	Shift       model.ShiftType `json:"shift"`
	Readers     int             `json:"readers"`
	RVUPerHour  float64         `json:"rvu_per_hour_mean"`
	Gini        float64         `json:"gini_rvu_per_hour"`
	RVUPerCase  [2]float64      `json:"rvu_per_case_p10_p90"`
	HardShare   [2]float64      `json:"hard_case_share_p10_p90"`
	RVUPerHour2 [2]float64      `json:"rvu_per_hour_p10_p90"`
}

// Result is one simulation run. Everything but Wall is deterministic.
type Result struct {
	Scenario          string             `json:"scenario"`
	Policy            assign.Policy      `json:"policy"`
	Label             string             `json:"label,omitempty"` // names a variant of the day in comparisons
	Seed              uint64             `json:"seed"`
	Hours             int                `json:"hours"`
	Readers           int                `json:"readers"`
	ReadersOnDuty     int                `json:"readers_on_duty"`
	Facilities        int                `json:"facilities"`
	Studies           int                `json:"studies"`
	Read              int                `json:"read"`              // first interpretation signed
	Completed         int                `json:"completed"`         // everything the facility buys is signed
	Pending           int                `json:"pending_at_end"`    // still on the worklist when the run stopped
	PendingUncovered  int                `json:"pending_uncovered"` // of those, reported uncovered at some point
	Prelims           int                `json:"prelims_needing_final"`
	Assignments       int                `json:"assignments"`
	Violations        int                `json:"violations"`
	ViolationLog      []string           `json:"violation_log,omitempty"`
	Uncovered         int                `json:"uncovered"`
	UncoveredExamples []string           `json:"uncovered_examples,omitempty"`
	SLABreachPct      float64            `json:"sla_breach_pct"`
	SLABreachByClass  map[string]float64 `json:"sla_breach_pct_by_priority"`
	Gini              float64            `json:"gini_rvu_per_hour"`
	GiniShift         float64            `json:"gini_rvu_per_hour_worst_shift"` // the largest of Fairness[].Gini
	Fairness          []ShiftFairness    `json:"fairness_by_shift,omitempty"`
	Utilisation       float64            `json:"utilisation"`
	TAT               map[string]Pct     `json:"tat_minutes"`       // first read, per priority class
	FinalTAT          map[string]Pct     `json:"final_tat_minutes"` // final signed, per class
	Reassign          map[string]int     `json:"reassignments"`
	ByHour            []HourTAT          `json:"tat_by_hour"`
	Wall              time.Duration      `json:"-"`

	firstRead map[string]time.Duration // per study, for checks of the bound
}

func newResult(sc *Scenario, opt Options) *Result {
	return &Result{Scenario: sc.Name, Policy: opt.Policy, Seed: opt.Seed, Hours: opt.Hours, Readers: len(sc.Readers),
		Facilities: len(sc.Facilities), Reassign: map[string]int{}}
}

func pct(v []float64) Pct {
	if len(v) == 0 {
		return Pct{}
	}
	slices.Sort(v)
	q := func(p float64) float64 { return round1(stats.NearestRank(v, p)) }
	return Pct{N: len(v), P50: q(0.50), P95: q(0.95), P99: q(0.99)}
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func (res *Result) finish(s *sim) {
	east, _ := time.LoadLocation("America/New_York")
	first := map[string][]float64{}
	final := map[string][]float64{}
	breach, breachN := map[string]int{}, map[string]int{}
	urgentH, allH := make([][]float64, 24), make([][]float64, 24)
	nH := make([]int, 24)
	totalBreach := 0
	res.firstRead = map[string]time.Duration{}
	for _, st := range s.order {
		res.Studies++
		c := string(st.s.Class())
		h := st.s.ArrivalTime.In(east).Hour()
		nH[h]++
		if st.firstRead.IsZero() {
			res.Pending++
		} else {
			res.Read++
			res.firstRead[st.s.ID] = st.firstRead.Sub(st.s.ArrivalTime)
			m := st.firstRead.Sub(st.s.ArrivalTime).Minutes()
			first[c] = append(first[c], m)
			allH[h] = append(allH[h], m)
			if st.s.Class().Urgent() {
				urgentH[h] = append(urgentH[h], m)
			}
		}
		if !st.done && st.uncovered {
			res.PendingUncovered++
		}
		if st.done {
			res.Completed++
			final[c] = append(final[c], st.finalRead.Sub(st.s.ArrivalTime).Minutes())
		} else if !st.firstRead.IsZero() {
			res.Pending++
		}
		dl := st.s.Deadline()
		late := (st.firstRead.IsZero() && s.now.After(dl)) || st.firstRead.After(dl)
		breachN[c]++
		if late {
			breach[c]++
			totalBreach++
		}
	}
	res.TAT, res.FinalTAT = map[string]Pct{}, map[string]Pct{}
	res.SLABreachByClass = map[string]float64{}
	for _, c := range model.Classes {
		k := string(c)
		res.TAT[k] = pct(first[k])
		res.FinalTAT[k] = pct(final[k])
		if breachN[k] > 0 {
			res.SLABreachByClass[k] = round2(100 * float64(breach[k]) / float64(breachN[k]))
		}
	}
	if res.Studies > 0 {
		res.SLABreachPct = round2(100 * float64(totalBreach) / float64(res.Studies))
	}
	for h := range 24 {
		u, a := pct(urgentH[h]), pct(allH[h])
		res.ByHour = append(res.ByHour, HourTAT{Hour: h, Studies: nH[h], UrgentP50: u.P50, UrgentP95: u.P95, AllP50: a.P50})
	}
	var busy, duty time.Duration
	var rates []float64
	byShift := map[model.ShiftType][]*simReader{}
	for _, r := range s.readers {
		if r.onDuty <= 0 {
			continue
		}
		res.ReadersOnDuty++
		busy += r.busy
		duty += r.onDuty
		// Readers with under an hour in the window (a shift ending just
		// after midnight) say more about the clock than about fairness.
		if r.winDuty >= time.Hour {
			rates = append(rates, r.winRVU/r.winDuty.Hours())
			byShift[r.shift] = append(byShift[r.shift], r)
		}
	}
	if duty > 0 {
		res.Utilisation = round2(busy.Hours() / duty.Hours())
	}
	res.Gini = round2(gini(rates))
	for _, t := range []model.ShiftType{model.Dayhawk, model.Swing, model.Nighthawk} {
		rs := byShift[t]
		if len(rs) == 0 {
			continue
		}
		var rate, perCase, hard []float64
		sum := 0.0
		for _, r := range rs {
			rate = append(rate, r.winRVU/r.winDuty.Hours())
			sum += rate[len(rate)-1]
			if r.winReads > 0 {
				perCase = append(perCase, r.winRVU/float64(r.winReads))
				hard = append(hard, float64(r.hard)/float64(r.winReads))
			}
		}
		f := ShiftFairness{Shift: t, Readers: len(rs), RVUPerHour: round2(sum / float64(len(rs))), Gini: round2(gini(rate)),
			RVUPerCase: p10p90(perCase), HardShare: p10p90(hard), RVUPerHour2: p10p90(rate)}
		res.Fairness = append(res.Fairness, f)
		res.GiniShift = max(res.GiniShift, f.Gini)
	}
}

// p10p90 is the 10th and 90th percentile, rounded to 2 decimals.
func p10p90(v []float64) [2]float64 {
	if len(v) == 0 {
		return [2]float64{}
	}
	slices.Sort(v)
	q := func(p float64) float64 { return round2(v[min(len(v)-1, int(p*float64(len(v))))]) }
	return [2]float64{q(0.1), q(0.9)}
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// gini is the Gini coefficient of non-negative values (0 = equal).
func gini(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	var cum, sum float64
	for i, x := range s {
		cum += float64(i+1) * x
		sum += x
	}
	if sum == 0 {
		return 0
	}
	n := float64(len(s))
	return (2*cum)/(n*sum) - (n+1)/n
}

// WriteJSON writes the result as indented JSON (deterministic).
func (res *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// WriteTable writes a human summary of one run.
func (res *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario %s  policy %s  seed %d  hours %d  (wall %v)\n", res.Scenario, res.Policy, res.Seed, res.Hours, res.Wall.Round(time.Millisecond))
	fmt.Fprintf(tw, "readers %d (%d on duty)  facilities %d  studies %d  read %d  completed %d  pending %d\n",
		res.Readers, res.ReadersOnDuty, res.Facilities, res.Studies, res.Read, res.Completed, res.Pending)
	fmt.Fprintf(tw, "violations %d  uncovered %d  SLA breach %.2f%%  utilisation %.2f  Gini RVU/h %.2f\n",
		res.Violations, res.Uncovered, res.SLABreachPct, res.Utilisation, res.Gini)
	for _, f := range res.Fairness {
		fmt.Fprintf(tw, "  %s: %d readers, RVU/h mean %.1f (p10–p90 %.1f–%.1f), Gini %.2f, RVU/case p10–p90 %.2f–%.2f, hard-case share p10–p90 %.2f–%.2f\n",
			f.Shift, f.Readers, f.RVUPerHour, f.RVUPerHour2[0], f.RVUPerHour2[1], f.Gini, f.RVUPerCase[0], f.RVUPerCase[1], f.HardShare[0], f.HardShare[1])
	}
	fmt.Fprintln(tw, "priority\tn\tp50 min\tp95 min\tp99 min\tbreach %\tfinal p50\tfinal p95")
	for _, c := range model.Classes {
		t, f := res.TAT[string(c)], res.FinalTAT[string(c)]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t%.1f\t%.1f\n", c, t.N, t.P50, t.P95, t.P99, res.SLABreachByClass[string(c)], f.P50, f.P95)
	}
	keys := slices.Sorted(maps.Keys(res.Reassign))
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, res.Reassign[k]))
	}
	fmt.Fprintf(tw, "re-routes: %s\n", cmp.Or(strings.Join(parts, " "), "none"))
	return tw.Flush()
}

// WriteComparison writes one line per run: the policy comparison table.
func WriteComparison(w io.Writer, rs []*Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tstudies\tviolations\tuncovered\tSLA breach %\tstroke p95\tSTAT p50\tSTAT p95\tSTAT p99\troutine p95\tutil\tGini\tGini/shift\twall\t")
	for _, r := range rs {
		st := r.TAT[string(model.ClassSTAT)]
		util, g, gs := fmt.Sprintf("%.2f", r.Utilisation), fmt.Sprintf("%.2f", r.Gini), fmt.Sprintf("%.2f", r.GiniShift)
		if r.Policy == PolicyBound {
			util, g, gs = "-", "-", "-" // a bound schedules no reader's day
		}
		name := string(r.Policy)
		if r.Label != "" {
			name += " " + r.Label
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t%v\t\n", name, r.Studies, r.Violations, r.Uncovered,
			r.SLABreachPct, r.TAT[string(model.ClassStroke)].P95, st.P50, st.P95, st.P99, r.TAT[string(model.ClassRoutine)].P95,
			util, g, gs, r.Wall.Round(time.Millisecond))
	}
	return tw.Flush()
}
