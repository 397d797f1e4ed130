package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/db"
)

// PayRate is a per-case rate by contract. FacilityID "*" matches any
// facility; set CPT or Modality (neither = any case of the facility).
type PayRate struct {
	FacilityID string `json:"facility_id"`
	CPT        string `json:"cpt,omitempty"`
	Modality   string `json:"modality,omitempty"`
	ReadKind   string `json:"read_kind"` // prelim | final
	Cents      int64  `json:"cents"`
}

func (p PayRate) match() (kind, value string) {
	switch {
	case p.CPT != "":
		return "cpt", strings.ToUpper(p.CPT)
	case p.Modality != "":
		return "modality", strings.ToUpper(p.Modality)
	}
	return "any", "*"
}

// SetPayRate creates or replaces a pay rate.
func (s *Service) SetPayRate(ctx context.Context, p PayRate) error {
	if p.FacilityID == "" {
		p.FacilityID = "*"
	}
	if p.ReadKind != string(KindPrelim) && p.ReadKind != string(KindFinal) {
		return fmt.Errorf("%w: read kind must be prelim or final", ErrInvalid)
	}
	if p.Cents < 0 {
		return fmt.Errorf("%w: negative rate", ErrInvalid)
	}
	mk, mv := p.match()
	_, err := s.db.Exec(ctx, `INSERT INTO report_pay_rate (facility_id, match_kind, match_value, read_kind, cents, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (facility_id, match_kind, match_value, read_kind) DO UPDATE SET cents = excluded.cents, updated_at = excluded.updated_at`,
		p.FacilityID, mk, mv, p.ReadKind, p.Cents, db.Now(s.opt.Now()))
	if err != nil {
		return fmt.Errorf("report: save pay rate: %w", err)
	}
	return nil
}

// PayRates lists the pay rates.
func (s *Service) PayRates(ctx context.Context) ([]PayRate, error) {
	rates, err := db.Collect(db.Rows(s.db.Query(ctx, "SELECT facility_id, match_kind, match_value, read_kind, cents FROM report_pay_rate ORDER BY facility_id, match_kind, match_value, read_kind")),
		func(r db.Scanner) (PayRate, error) {
			var p PayRate
			var mk, mv string
			err := r.Scan(&p.FacilityID, &mk, &mv, &p.ReadKind, &p.Cents)
			switch mk {
			case "cpt":
				p.CPT = mv
			case "modality":
				p.Modality = mv
			}
			return p, err
		})
	if err != nil {
		return nil, fmt.Errorf("report: pay rates: %w", err)
	}
	return rates, nil
}

type rateKey struct{ fac, kind, value, read string }

// rate finds the most specific rate: facility+CPT, facility+modality,
// any+CPT, any+modality, facility, any.
func rate(rates map[rateKey]int64, fac, cpt, modality, read string) (int64, bool) {
	for _, k := range []rateKey{{fac, "cpt", cpt, read}, {fac, "modality", modality, read}, {"*", "cpt", cpt, read},
		{"*", "modality", modality, read}, {fac, "any", "*", read}, {"*", "any", "*", read}} {
		if c, ok := rates[k]; ok {
			return c, true
		}
	}
	return 0, false
}

// Shift is one reader's contiguous run of signatures: signatures closer
// than the shift gap belong together.
type Shift struct {
	ReaderID    string    `json:"reader_id"`
	Date        string    `json:"date"` // the reader's local date at the first signature
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Hours       float64   `json:"hours"`
	Finals      int       `json:"finals"`
	Prelims     int       `json:"prelims"`
	WorkRVU     float64   `json:"work_rvu"`     // billed: finals, credited to the final signer
	UnbilledRVU float64   `json:"unbilled_rvu"` // prelim-only workload
	RVUPerHour  float64   `json:"rvu_per_hour"` // (work + unbilled) / hours
	PayCents    int64     `json:"pay_cents"`
	Unpriced    int       `json:"unpriced"` // cases without a pay rate
}

// ReaderProductivity is one reader's totals over the window.
type ReaderProductivity struct {
	ReaderID    string  `json:"reader_id"`
	Finals      int     `json:"finals"`
	Prelims     int     `json:"prelims"`
	WorkRVU     float64 `json:"work_rvu"`
	UnbilledRVU float64 `json:"unbilled_rvu"`
	Hours       float64 `json:"hours"`
	RVUPerHour  float64 `json:"rvu_per_hour"`
	PayCents    int64   `json:"pay_cents"`
	Unpriced    int     `json:"unpriced"`
	Shifts      []Shift `json:"shifts"`
}

// Productivity is the productivity report of a window.
type Productivity struct {
	From    time.Time            `json:"from"`
	To      time.Time            `json:"to"`
	Readers []ReaderProductivity `json:"readers"`
}

// Shift detection: signatures more than ShiftGap apart start a new shift;
// each shift's hours are first-to-last signature plus ReadAllowance (the
// time the first case of the shift took).
const (
	ShiftGap      = 2 * time.Hour
	ReadAllowance = 10 * time.Minute
)

// Productivity totals signed prelims and finals with signed_at in
// [from, to) per reader and per shift (docs/domain.md §7): work RVUs of finals go
// to the final signer; prelims count as unbilled workload; RVU/hour comes
// from the reader's signing timestamps; pay from the per-case rates.
func (s *Service) Productivity(ctx context.Context, from, to time.Time) (*Productivity, error) {
	rates := map[rateKey]int64{}
	prs, err := s.PayRates(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range prs {
		mk, mv := p.match()
		rates[rateKey{p.FacilityID, mk, mv, p.ReadKind}] = p.Cents
	}
	type sig struct {
		reader, kind, cpt, modality, fac string
		at                               time.Time
		rvu                              float64
	}
	sigs, err := db.Collect(db.Rows(s.db.Query(ctx, `SELECT author, kind, signed_at, cpt, work_rvu, modality, facility_id FROM report_version
		WHERE kind IN ('prelim', 'final') AND signed_at >= ? AND signed_at < ? ORDER BY author, signed_at, pk`, db.Now(from), db.Now(to))),
		func(r db.Scanner) (sig, error) {
			var x sig
			var at string
			err := r.Scan(&x.reader, &x.kind, &at, &x.cpt, &x.rvu, &x.modality, &x.fac)
			x.at = db.ParseOptional(at)
			return x, err
		})
	if err != nil {
		return nil, fmt.Errorf("report: productivity: %w", err)
	}
	out := &Productivity{From: from, To: to}
	var cur *ReaderProductivity
	var sh *Shift
	loc := time.UTC
	closeShift := func() {
		if sh == nil {
			return
		}
		sh.Hours = round2((sh.End.Sub(sh.Start) + ReadAllowance).Hours())
		sh.RVUPerHour = round2((sh.WorkRVU + sh.UnbilledRVU) / sh.Hours)
		sh.WorkRVU, sh.UnbilledRVU = round2(sh.WorkRVU), round2(sh.UnbilledRVU)
		cur.Shifts = append(cur.Shifts, *sh)
		sh = nil
	}
	closeReader := func() {
		if cur == nil {
			return
		}
		closeShift()
		for _, x := range cur.Shifts {
			cur.Finals += x.Finals
			cur.Prelims += x.Prelims
			cur.WorkRVU += x.WorkRVU
			cur.UnbilledRVU += x.UnbilledRVU
			cur.Hours += x.Hours
			cur.PayCents += x.PayCents
			cur.Unpriced += x.Unpriced
		}
		cur.WorkRVU, cur.UnbilledRVU, cur.Hours = round2(cur.WorkRVU), round2(cur.UnbilledRVU), round2(cur.Hours)
		if cur.Hours > 0 {
			cur.RVUPerHour = round2((cur.WorkRVU + cur.UnbilledRVU) / cur.Hours)
		}
		out.Readers = append(out.Readers, *cur)
		cur = nil
	}
	for _, x := range sigs {
		if cur == nil || cur.ReaderID != x.reader {
			closeReader()
			cur = &ReaderProductivity{ReaderID: x.reader}
			loc = time.UTC
			if r, err := s.opt.Reader(ctx, x.reader); err == nil && r.Loc != nil {
				loc = r.Loc
			}
		}
		if sh != nil && x.at.Sub(sh.End) > ShiftGap {
			closeShift()
		}
		if sh == nil {
			sh = &Shift{ReaderID: x.reader, Date: x.at.In(loc).Format("2006-01-02"), Start: x.at}
		}
		sh.End = x.at
		if x.kind == string(KindFinal) {
			sh.Finals++
			sh.WorkRVU += x.rvu
		} else {
			sh.Prelims++
			sh.UnbilledRVU += x.rvu
		}
		if c, ok := rate(rates, x.fac, strings.ToUpper(x.cpt), strings.ToUpper(x.modality), x.kind); ok {
			sh.PayCents += c
		} else {
			sh.Unpriced++
		}
	}
	closeReader()
	return out, nil
}

func round2(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return math.Round(f*100) / 100
}

func money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// WriteCSV writes the payroll export: one row per reader shift.
func (p *Productivity) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"reader_id", "date", "shift_start", "shift_end", "hours", "finals", "prelims", "work_rvu", "unbilled_rvu", "rvu_per_hour", "pay", "unpriced_cases"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
	for _, r := range p.Readers {
		for _, s := range r.Shifts {
			_ = cw.Write([]string{csvSafe(s.ReaderID), s.Date, s.Start.UTC().Format(time.RFC3339), s.End.UTC().Format(time.RFC3339), f(s.Hours),
				strconv.Itoa(s.Finals), strconv.Itoa(s.Prelims), f(s.WorkRVU), f(s.UnbilledRVU), f(s.RVUPerHour), money(s.PayCents), strconv.Itoa(s.Unpriced)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formulas in a text cell.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
