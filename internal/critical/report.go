package critical

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/scope"
)

// Scope is the one access rule (package scope).
type Scope = scope.Scope

// BoardItem is one open loop on the coordinators' board.
type BoardItem struct {
	ID               string    `json:"id"`
	FacilityID       string    `json:"facility_id"`
	StudyUID         string    `json:"study_uid"`
	Accession        string    `json:"accession,omitempty"`
	Category         string    `json:"category"`
	CategoryLabel    string    `json:"category_label,omitempty"`
	Colour           string    `json:"colour,omitempty"`
	Finding          string    `json:"finding"`
	State            State     `json:"state"`
	EscalationLevel  int       `json:"escalation_level"`
	Rung             string    `json:"rung,omitempty"`
	IdentifiedAt     time.Time `json:"identified_at"`
	DeadlineAt       time.Time `json:"deadline_at"`
	SecondsLeft      int64     `json:"seconds_left"` // negative when overdue
	Overdue          bool      `json:"overdue"`
	Communicator     string    `json:"communicator"`
	CommunicatorName string    `json:"communicator_name,omitempty"`
	HandedOffTo      string    `json:"handed_off_to,omitempty"`
	Recipient        string    `json:"recipient,omitempty"`
	Acknowledged     bool      `json:"acknowledged"`
}

// Board lists loops not yet closed, soonest deadline first; overdue loops
// stay (at the top). communicator limits it to one reader's loops ("" =
// all in scope).
func (s *Service) Board(ctx context.Context, sc Scope, communicator string) ([]BoardItem, error) {
	q := "SELECT " + resultCols + " FROM crit_result WHERE state <> ?"
	args := []any{string(StateClosed)}
	if communicator != "" {
		// Only loops they take part in, which scope.AllowsRecord grants
		// whatever the facility scope.
		q += " AND (communicator = ? OR handed_off_to = ?)"
		args = append(args, communicator, communicator)
	} else {
		var cl string
		cl, args = sc.FacilityClause("facility_id", args)
		q += cl
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY deadline_at, id LIMIT 1000", args...)
	if err != nil {
		return nil, fmt.Errorf("critical: board: %w", err)
	}
	defer rows.Close()
	now := s.now()
	out := []BoardItem{}
	for rows.Next() {
		r, err := scanResult(rows)
		if err != nil {
			return nil, err
		}
		r.finish(now)
		it := BoardItem{ID: r.ID, FacilityID: r.FacilityID, StudyUID: r.StudyUID, Accession: r.Accession, Category: r.Category,
			CategoryLabel: r.CategoryLabel, Colour: r.Colour, Finding: r.Finding.Text, State: r.State, EscalationLevel: r.EscalationLevel,
			IdentifiedAt: r.IdentifiedAt, DeadlineAt: r.DeadlineAt, SecondsLeft: int64(math.Floor(r.DeadlineAt.Sub(now).Seconds())),
			Overdue: r.Overdue, Communicator: r.Communicator, CommunicatorName: r.CommunicatorName, HandedOffTo: r.HandedOffTo,
			Recipient: r.Recipient.Name, Acknowledged: !r.AckAt.IsZero()}
		if it.Finding == "" {
			it.Finding = r.Finding.Code
		}
		if r.EscalationLevel < len(s.cfg.Ladder) {
			it.Rung = s.cfg.Ladder[r.EscalationLevel].Name
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// ComplianceRow is the NPSG.02.03.01 EP3 timeliness measure for one
// facility and category over a period (loops identified in [From, To)).
//
// A loop is on time when it was closed with a documented communication
// no later than its deadline. Pending loops (still open, deadline not yet
// reached) are left out of the percentage; open loops past their deadline
// count as late.
type ComplianceRow struct {
	FacilityID         string  `json:"facility_id"`
	Category           string  `json:"category"`
	CategoryLabel      string  `json:"category_label,omitempty"`
	Total              int     `json:"total"`
	Pending            int     `json:"pending"`
	Closed             int     `json:"closed"`
	ClosedOnTime       int     `json:"closed_on_time"`
	CommunicatedOnTime int     `json:"communicated_on_time"`
	OverdueOpen        int     `json:"overdue_open"`
	PercentOnTime      float64 `json:"percent_on_time"` // ClosedOnTime / (Total - Pending) × 100; 100 when nothing is due
	MedianMinutes      float64 `json:"median_minutes_to_communication"`
}

// Compliance computes the timeliness report over [from, to).
func (s *Service) Compliance(ctx context.Context, sc Scope, from, to time.Time) ([]ComplianceRow, error) {
	if !to.After(from) {
		return nil, invalid("the period must end after it starts")
	}
	q := "SELECT " + resultCols + " FROM crit_result WHERE identified_at >= ? AND identified_at < ?"
	args := []any{db.FormatOptional(from), db.FormatOptional(to)}
	var cl string
	cl, args = sc.FacilityClause("facility_id", args)
	rows, err := s.db.Query(ctx, q+cl+" ORDER BY facility_id, category, identified_at", args...)
	if err != nil {
		return nil, fmt.Errorf("critical: compliance: %w", err)
	}
	defer rows.Close()
	now := s.now()
	type key struct{ f, c string }
	acc := map[key]*ComplianceRow{}
	mins := map[key][]float64{}
	var keys []key
	for rows.Next() {
		r, err := scanResult(rows)
		if err != nil {
			return nil, err
		}
		k := key{r.FacilityID, r.Category}
		row := acc[k]
		if row == nil {
			row = &ComplianceRow{FacilityID: r.FacilityID, Category: r.Category, CategoryLabel: r.CategoryLabel}
			acc[k] = row
			keys = append(keys, k)
		}
		row.Total++
		closed := !r.ClosedAt.IsZero()
		switch {
		case closed:
			row.Closed++
			if !r.ClosedAt.After(r.DeadlineAt) {
				row.ClosedOnTime++
			}
		case now.Before(r.DeadlineAt):
			row.Pending++
		default:
			row.OverdueOpen++
		}
		if !r.CommunicatedAt.IsZero() {
			if !r.CommunicatedAt.After(r.DeadlineAt) {
				row.CommunicatedOnTime++
			}
			mins[k] = append(mins[k], r.CommunicatedAt.Sub(r.IdentifiedAt).Minutes())
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].f != keys[j].f {
			return keys[i].f < keys[j].f
		}
		return keys[i].c < keys[j].c
	})
	out := make([]ComplianceRow, 0, len(keys))
	for _, k := range keys {
		row := acc[k]
		row.PercentOnTime = 100
		if due := row.Total - row.Pending; due > 0 {
			row.PercentOnTime = math.Round(float64(row.ClosedOnTime)/float64(due)*1000) / 10
		}
		if m := mins[k]; len(m) > 0 {
			sort.Float64s(m)
			med := m[len(m)/2]
			if len(m)%2 == 0 {
				med = (m[len(m)/2-1] + m[len(m)/2]) / 2
			}
			row.MedianMinutes = math.Round(med*10) / 10
		}
		out = append(out, *row)
	}
	return out, nil
}

// WriteComplianceCSV writes rows as CSV with a header line.
func WriteComplianceCSV(w io.Writer, rows []ComplianceRow) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"facility_id", "category", "category_label", "total", "pending", "closed", "closed_on_time", "communicated_on_time",
		"overdue_open", "percent_on_time", "median_minutes_to_communication"})
	for _, r := range rows {
		_ = cw.Write([]string{r.FacilityID, r.Category, r.CategoryLabel, strconv.Itoa(r.Total), strconv.Itoa(r.Pending), strconv.Itoa(r.Closed),
			strconv.Itoa(r.ClosedOnTime), strconv.Itoa(r.CommunicatedOnTime), strconv.Itoa(r.OverdueOpen),
			strconv.FormatFloat(r.PercentOnTime, 'f', 1, 64), strconv.FormatFloat(r.MedianMinutes, 'f', 1, 64)})
	}
	cw.Flush()
	return cw.Error()
}
