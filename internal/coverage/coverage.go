package coverage

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"lightbox/internal/model"
)

// Gap is a run of uncovered hours at one facility for one modality.
type Gap struct {
	FacilityID string    `json:"facility_id"`
	Modality   string    `json:"modality"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	// Missing names what would close the gap: the credential the readers
	// on shift lack most often ("no reader on shift" when nobody is).
	Missing string `json:"missing"`
	// Closest are readers on shift who lack exactly that one credential.
	Closest []string `json:"closest,omitempty"`
}

// Row is one facility and modality across the window.
type Row struct {
	FacilityID string `json:"facility_id"`
	Name       string `json:"name"`
	State      string `json:"state"`
	TimeZone   string `json:"time_zone"`
	Modality   string `json:"modality"`
	// Covered[h] is true when some reader on shift is eligible in hour h.
	Covered []bool `json:"covered"`
	Gaps    []Gap  `json:"gaps"`
}

// Map is the gap map of a window.
type Map struct {
	From  time.Time `json:"from"`
	Hours int       `json:"hours"`
	Rows  []Row     `json:"rows"`
}

type verdict struct {
	covered bool
	missing string
	closest []string
}

// Compute builds the map of [from, from+hours) for each facility and each of
// modalities. Hours whose set of readers on shift and civil date are the
// same share one evaluation, so a week costs about one evaluation per
// shift change.
func Compute(facs []*model.Facility, readers []*model.Reader, from time.Time, hours int, modalities []string) Map {
	from = from.UTC().Truncate(time.Hour)
	m := Map{From: from, Hours: hours, Rows: []Row{}}
	type slot struct {
		key     string
		at      time.Time
		onShift []*model.Reader
	}
	slots := make([]slot, hours)
	for h := range hours {
		at := from.Add(time.Duration(h)*time.Hour + 30*time.Minute) // the middle of the hour
		var on []*model.Reader
		var ids []string
		for _, r := range readers {
			if model.OnShift(r, at) {
				on = append(on, r)
				ids = append(ids, r.ID)
			}
		}
		slots[h] = slot{key: at.Format("2006-01-02") + "|" + strings.Join(ids, ","), at: at, onShift: on}
	}
	// Who holds a privilege where, from one pass over the roster: a miss in
	// Reader.Privilege scans the reader's whole list, and a facility is
	// asked about every reader on shift.
	privAt := map[string]map[*model.Reader]bool{}
	for _, r := range readers {
		for _, p := range r.Privileges {
			if privAt[p.Facility] == nil {
				privAt[p.Facility] = map[*model.Reader]bool{}
			}
			privAt[p.Facility][r] = true
		}
	}
	for _, f := range facs {
		kind := model.Final
		if f.ReadType == model.ReadPrelimOnly {
			kind = model.Prelim
		}
		for _, mod := range modalities {
			row := Row{FacilityID: f.ID, Name: f.Name, State: f.State, TimeZone: f.TimeZone, Modality: mod, Covered: make([]bool, hours), Gaps: []Gap{}}
			cache := map[string]verdict{}
			var open *Gap
			for h, s := range slots {
				v, ok := cache[s.key]
				if !ok {
					v = evaluate(f, mod, kind, s.at, s.onShift, privAt[f.ID])
					cache[s.key] = v
				}
				row.Covered[h] = v.covered
				start := from.Add(time.Duration(h) * time.Hour)
				switch {
				case v.covered:
					open = nil
				case open != nil && open.Missing == v.missing:
					open.To = start.Add(time.Hour)
				default:
					row.Gaps = append(row.Gaps, Gap{FacilityID: f.ID, Modality: mod, From: start, To: start.Add(time.Hour), Missing: v.missing, Closest: v.closest})
					open = &row.Gaps[len(row.Gaps)-1]
				}
			}
			m.Rows = append(m.Rows, row)
		}
	}
	return m
}

// evaluate checks the readers on shift against a typical study of the
// facility; when none is eligible it names the most common single missing
// credential.
func evaluate(f *model.Facility, modality string, kind model.ReadKind, at time.Time, onShift []*model.Reader, privHere map[*model.Reader]bool) verdict {
	if len(onShift) == 0 {
		return verdict{missing: "no reader on shift"}
	}
	// Only readers privileged here can be eligible: a national roster has
	// hundreds on shift, a few dozen of them privileged at one facility.
	var privileged []*model.Reader
	for _, r := range onShift {
		if privHere[r] {
			privileged = append(privileged, r)
		}
	}
	if len(privileged) == 0 {
		var licensed []string
		for _, r := range onShift {
			if _, ok := r.Licence(f.State); ok {
				licensed = append(licensed, r.ID)
			}
		}
		sort.Strings(licensed)
		if len(licensed) > 10 {
			licensed = licensed[:10]
		}
		return verdict{missing: "no reader on shift has privileges at " + f.Name, closest: licensed}
	}
	st := &model.Study{ID: "coverage", Facility: f, FacilityID: f.ID, Modality: modality, ExamTime: at, ArrivalTime: at, Priority: model.Routine}
	online := model.ShiftState{OnShift: true, Presence: model.Online}
	single := map[string][]string{}
	all := map[string]int{}
	for _, r := range privileged {
		ex := model.Check(r, st, kind, at, online)
		if len(ex) == 0 {
			return verdict{covered: true}
		}
		if len(ex) == 1 {
			single[ex[0].Reason] = append(single[ex[0].Reason], r.ID)
		}
		for _, e := range ex {
			all[e.Reason]++
		}
	}
	best, bestN := "", -1
	pick := func(m map[string]int) {
		keys := slices.Sorted(maps.Keys(m))
		for _, k := range keys {
			if m[k] > bestN {
				best, bestN = k, m[k]
			}
		}
	}
	if len(single) > 0 {
		counts := map[string]int{}
		for k, v := range single {
			counts[k] = len(v)
		}
		pick(counts)
		closest := slices.Clone(single[best])
		sort.Strings(closest)
		return verdict{missing: best, closest: closest}
	}
	pick(all)
	return verdict{missing: best}
}
