package model

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

//go:embed rvu_2024_2026.csv
var defaultRVUCSV []byte

// RVUEntry is one versioned work-RVU value for a CPT code.
type RVUEntry struct {
	CPT         string
	Effective   Date
	WorkRVU     float64
	Deleted     bool
	Description string
}

// RVUTable maps CPT → work RVU by effective date (docs/domain.md §7). It is
// immutable after loading, so one table may be shared between goroutines.
type RVUTable struct {
	byCPT map[string][]RVUEntry // sorted by Effective
}

// DefaultRVU returns the table embedded from docs/domain.md §7 (2024 and 2026
// values). Production should load the annual CMS PPRRVU file with LoadRVU.
func DefaultRVU() *RVUTable {
	t, err := LoadRVU(bytes.NewReader(defaultRVUCSV))
	if err != nil {
		panic(err) // embedded data is tested
	}
	return t
}

// LoadRVU reads CSV with header cpt,effective,work_rvu[,description,...].
// work_rvu may be "deleted" to end a code from its effective date.
func LoadRVU(r io.Reader) (*RVUTable, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("credential: rvu header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	for _, need := range []string{"cpt", "effective", "work_rvu"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("credential: rvu csv lacks column %q", need)
		}
	}
	t := &RVUTable{byCPT: map[string][]RVUEntry{}}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("credential: rvu line %d: %w", line, err)
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		e := RVUEntry{CPT: strings.ToUpper(get("cpt")), Description: get("description")}
		if e.Effective, err = ParseDate(get("effective")); err != nil || e.Effective.IsZero() {
			return nil, fmt.Errorf("credential: rvu line %d: bad effective date", line)
		}
		if v := get("work_rvu"); strings.EqualFold(v, "deleted") {
			e.Deleted = true
		} else if e.WorkRVU, err = strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("credential: rvu line %d: %w", line, err)
		}
		t.byCPT[e.CPT] = append(t.byCPT[e.CPT], e)
	}
	for k := range t.byCPT {
		slices.SortFunc(t.byCPT[k], func(a, b RVUEntry) int { return int(a.Effective - b.Effective) })
	}
	return t, nil
}

// Lookup returns the work RVU of a CPT code on a date: the newest entry
// effective on or before it. ok is false for unknown, not-yet-effective
// or deleted codes.
func (t *RVUTable) Lookup(cpt string, on Date) (float64, bool) {
	e, ok := t.Entry(cpt, on)
	if !ok || e.Deleted {
		return 0, false
	}
	return e.WorkRVU, true
}

// Entry is Lookup returning the whole entry.
func (t *RVUTable) Entry(cpt string, on Date) (RVUEntry, bool) {
	rows := t.byCPT[strings.ToUpper(cpt)]
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Effective <= on {
			return rows[i], true
		}
	}
	return RVUEntry{}, false
}

// Codes lists the CPT codes in the table, sorted.
func (t *RVUTable) Codes() []string {
	out := slices.Sorted(maps.Keys(t.byCPT))
	return out
}
