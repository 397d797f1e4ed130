package api

import (
	"net/http"
	"slices"
	"sort"
	"time"

	"lightbox/internal/auth"
	"lightbox/internal/dispatch"
	"lightbox/internal/httpx"
	"lightbox/internal/report"
)

// Dashboard data: the volume that reached the worklist, by hour, facility
// and SLA class, for a date range (the charts and their CSV exports).

// dayRange reads ?from=YYYY-MM-DD&to=YYYY-MM-DD (UTC days, to inclusive;
// from defaults to `back` days before today, to to today), at most 92 days
// apart; it answers 400 itself when they are not.
func (a *API) dayRange(w http.ResponseWriter, r *http.Request, back int) (from, to time.Time, ok bool) {
	today := a.now().UTC().Truncate(24 * time.Hour)
	from, ok1 := dayParam(r, "from", today.AddDate(0, 0, -back))
	to, ok2 := dayParam(r, "to", today)
	if !ok1 || !ok2 || to.Before(from) || to.Sub(from) > 92*24*time.Hour {
		writeError(w, http.StatusBadRequest, "from and to are YYYY-MM-DD, to not before from, at most 92 days apart")
		return from, to, false
	}
	return from, to, true
}

// discrepancy: prelim→final discrepancy rates per facility for finals
// signed in ?from..?to (the definition is report.DiscrepancyRate's).
func (a *API) discrepancy(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	from, to, ok := a.dayRange(w, r, 6)
	if !ok {
		return
	}
	rates, err := report.New(a.db, report.Options{}).DiscrepancyRates(r.Context(), from, to.Add(24*time.Hour))
	if err != nil {
		a.fail(w, err)
		return
	}
	rows := slices.DeleteFunc(rates, func(d report.DiscrepancyRate) bool { return !p.Sees(d.FacilityID) })
	httpx.JSON(w, http.StatusOK, map[string]any{"from": from.Format("2006-01-02"), "to": to.Format("2006-01-02"), "rows": rows})
}

type volumeRow struct {
	Hour       string `json:"hour"` // RFC 3339, UTC, start of the hour
	FacilityID string `json:"facility_id"`
	Class      string `json:"class"`
	Studies    int    `json:"studies"`
}

// volume: studies that arrived in ?from..?to (default today).
func (a *API) volume(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	from, to, ok := a.dayRange(w, r, 0)
	if !ok {
		return
	}
	studies, err := dispatch.Arrivals(r.Context(), a.db, from, to.Add(24*time.Hour))
	if err != nil {
		a.fail(w, err)
		return
	}
	counts := map[volumeRow]int{}
	for _, st := range studies {
		if !p.Sees(st.FacilityID) {
			continue
		}
		k := volumeRow{Hour: st.ArrivalTime.UTC().Truncate(time.Hour).Format(time.RFC3339), FacilityID: st.FacilityID, Class: string(st.Class())}
		counts[k]++
	}
	rows := make([]volumeRow, 0, len(counts))
	for k, n := range counts {
		k.Studies = n
		rows = append(rows, k)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Hour != rows[j].Hour {
			return rows[i].Hour < rows[j].Hour
		}
		if rows[i].FacilityID != rows[j].FacilityID {
			return rows[i].FacilityID < rows[j].FacilityID
		}
		return rows[i].Class < rows[j].Class
	})
	httpx.JSON(w, http.StatusOK, map[string]any{"from": from.Format("2006-01-02"), "to": to.Format("2006-01-02"), "rows": rows})
}
