package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"lightbox/internal/auth"
	"lightbox/internal/dispatch"
	"lightbox/internal/httpx"
	"lightbox/internal/model"
	"lightbox/internal/setup"
	"lightbox/internal/simulate"
	"lightbox/internal/stats"
)

// The coordinator's console (issue #17 points 1, 3 and 5): the week
// calendar and its one-off changes, simulating the coming days, and the
// TAT/RVU dashboards with a reader's own view.

type weekReader struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	TimeZone       string          `json:"time_zone"`
	Subspecialties []string        `json:"subspecialties"`
	Location       string          `json:"location"` // US or offshore
	Duty           []model.Block   `json:"duty"`     // on duty, breaks and absences cut out
	Away           []model.Absence `json:"away"`
}

// rosterWeek: ?from=YYYY-MM-DD (UTC midnight; default today), ?days=1..14
// (7): every reader's on-duty blocks in the window.
func (a *API) rosterWeek(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	from, ok := dayParam(r, "from", a.now().UTC().Truncate(24*time.Hour))
	days, ok2 := intParam(r, "days", 7, 1, 14)
	if !ok || !ok2 {
		writeError(w, http.StatusBadRequest, "from is YYYY-MM-DD, days 1 to 14")
		return
	}
	to := from.Add(time.Duration(days) * 24 * time.Hour)
	rs, err := a.roster.Readers(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	out := make([]weekReader, 0, len(rs))
	for _, rd := range rs {
		wr := weekReader{ID: rd.ID, Name: rd.Name, TimeZone: rd.TimeZone, Subspecialties: orEmpty(rd.Subspecialties), Location: "US",
			Duty: model.DutyBlocks(rd, from, to), Away: []model.Absence{}}
		if rd.Location.Country != "" && rd.Location.Country != "US" {
			wr.Location = "offshore"
		}
		for _, ab := range rd.Away {
			if ab.End.After(from) && ab.Start.Before(to) {
				wr.Away = append(wr.Away, ab)
			}
		}
		out = append(out, wr)
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339), "readers": out})
}

func (a *API) rosterChange(w http.ResponseWriter, r *http.Request, p *auth.Principal, c setup.Change) {
	a.setupDone(w, r, a.setup.ApplyChange(r.Context(), actor(r, p), c), c)
}

// simulateAhead: ?days=1..7 (7). The coming days' roster against the
// volume of the same number of days just past, moved forward.
func (a *API) simulateAhead(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	days, ok := intParam(r, "days", 7, 1, 7)
	if !ok {
		writeError(w, http.StatusBadRequest, "days must be 1 to 7")
		return
	}
	ctx := r.Context()
	now := a.now().UTC() // not truncated: the last minute's arrivals count
	span := time.Duration(days) * 24 * time.Hour
	past, err := dispatch.Arrivals(ctx, a.db, now.Add(-span), now)
	if err != nil {
		a.fail(w, err)
		return
	}
	facs, err := a.roster.Facilities(ctx)
	if err != nil {
		a.fail(w, err)
		return
	}
	rs, err := a.roster.Readers(ctx)
	if err != nil {
		a.fail(w, err)
		return
	}
	res, err := simulate.Ahead(ctx, values(facs), values(rs), past, now, days)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"from": now.Format(time.RFC3339), "days": days, "volume_from": now.Add(-span).Format(time.RFC3339), "result": res})
}

// signedReads loads the reads signed in ?from..?to (UTC days, inclusive)
// in the caller's scope, each study with its facility resolved.
func (a *API) signedReads(w http.ResponseWriter, r *http.Request, p *auth.Principal) (from, to time.Time, reads []dispatch.Read, ok bool) {
	from, to, ok = a.dayRange(w, r, 6)
	if !ok {
		return from, to, nil, false
	}
	all, err := dispatch.Reads(r.Context(), a.db, from, to.Add(24*time.Hour))
	if err != nil {
		a.fail(w, err)
		return from, to, nil, false
	}
	facs := a.facilityMap(r.Context())
	for _, rd := range all {
		if !p.All && !p.Sees(rd.Study.FacilityID) && rd.ReaderID != p.Username {
			continue
		}
		rd.Study.Facility = facs[rd.Study.FacilityID]
		reads = append(reads, rd)
	}
	return from, to, reads, true
}

// facilityMap is every facility by ID (empty when they cannot be read:
// studies then fall back to the default SLA).
func (a *API) facilityMap(ctx context.Context) map[string]*model.Facility {
	facs := map[string]*model.Facility{}
	if fs, err := a.roster.Facilities(ctx); err == nil {
		for _, f := range fs {
			facs[f.ID] = f
		}
	}
	return facs
}

// readersOr500 is every reader by ID, or false after answering 500.
func (a *API) readersOr500(w http.ResponseWriter, r *http.Request) (map[string]*model.Reader, bool) {
	rs, err := a.roster.Readers(r.Context())
	if err != nil {
		a.fail(w, err)
		return nil, false
	}
	m := make(map[string]*model.Reader, len(rs))
	for _, rd := range rs {
		m[rd.ID] = rd
	}
	return m, true
}

// dashTAT: first-read TAT percentiles per SLA class against the SLA, and
// breaches, for ?from..?to.
func (a *API) dashTAT(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	from, to, reads, ok := a.signedReads(w, r, p)
	if !ok {
		return
	}
	first := stats.First(reads)
	httpx.JSON(w, http.StatusOK, map[string]any{"from": from.Format("2006-01-02"), "to": to.Format("2006-01-02"), "reads": len(reads), "classes": stats.TAT(first)})
}

// dashRVU: RVU per reader per day (their shift) against their target.
func (a *API) dashRVU(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	from, to, reads, ok := a.signedReads(w, r, p)
	if !ok {
		return
	}
	rm, ok := a.readersOr500(w, r)
	if !ok {
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"from": from.Format("2006-01-02"), "to": to.Format("2006-01-02"), "rows": stats.RVUByReaderDay(reads, rm)})
}

// dashMe: a reader's own numbers against their target and the group
// median; colleagues are counted, never named.
func (a *API) dashMe(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	all := *p
	all.All = true // the group median needs everyone's reads; only aggregates leave
	from, to, reads, ok := a.signedReads(w, r, &all)
	if !ok {
		return
	}
	rm, ok := a.readersOr500(w, r)
	if !ok {
		return
	}
	target := 0.0
	if me := rm[p.Username]; me != nil {
		target = me.RVUTargetPerHour
	}
	own := stats.OwnView(p.Username, stats.First(reads), stats.RVUByReaderDay(reads, rm), target)
	httpx.JSON(w, http.StatusOK, map[string]any{"from": from.Format("2006-01-02"), "to": to.Format("2006-01-02"), "reader": p.Username, "own": own})
}

func dayParam(r *http.Request, name string, dflt time.Time) (time.Time, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return dflt, true
	}
	t, err := time.Parse("2006-01-02", v)
	return t, err == nil
}

func intParam(r *http.Request, name string, dflt, lo, hi int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return dflt, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= lo && n <= hi
}
