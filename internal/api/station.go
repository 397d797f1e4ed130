package api

import (
	"crypto/rand"
	"net/http"
	"strconv"
	"time"

	"lightbox/internal/auth"
	"lightbox/internal/db"
	"lightbox/internal/httpx"
	"lightbox/internal/station"
)

// The reader's station checks, recorded from the browser:
//
//	POST /api/station/checks               station.Check -> the recorded check
//	GET  /api/station/checks/latest?kind=K -> {"check": ..., "within_24h": bool} (404 when none)
//	GET  /api/station/probe?bytes=N        N incompressible bytes (at most 32 MiB) for the throughput test

func (a *API) recordCheck(w http.ResponseWriter, r *http.Request, p *auth.Principal, c station.Check) {
	c, err := a.stations().Record(r.Context(), p.Username, c)
	if err != nil {
		a.domainFail(w, err, station.ErrInvalid, nil)
		return
	}
	if c.Kind == station.KindDisplay {
		// The engine's mammography rule sees the check at once.
		at, _ := db.ParseTime(c.At)
		if err := a.dispatch.DisplayChecked(r.Context(), p.Username, at, c.Passed); err != nil {
			a.fail(w, err)
			return
		}
	}
	httpx.JSON(w, http.StatusCreated, c)
}

func (a *API) latestCheck(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	kind := r.URL.Query().Get("kind")
	c, ok, err := a.stations().Latest(r.Context(), p.Username, kind)
	if err != nil {
		a.fail(w, err)
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "no %s check recorded", kind)
		return
	}
	fresh := false
	if kind == station.KindDisplay {
		fresh, _ = a.stations().DisplayPassedWithin(r.Context(), p.Username, 24*time.Hour)
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"check": c, "within_24h": fresh})
}

const maxProbe = 32 << 20

// probeBlock is random so that no proxy or transport compression makes the
// link look faster than it is.
var probeBlock = func() []byte {
	b := make([]byte, 64<<10)
	_, _ = rand.Read(b)
	return b
}()

func (a *API) probe(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	n, err := strconv.Atoi(r.URL.Query().Get("bytes"))
	if err != nil || n < 0 || n > maxProbe {
		writeError(w, http.StatusBadRequest, "bytes must be 0 to %d", maxProbe)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	for n > 0 {
		k := min(n, len(probeBlock))
		if _, err := w.Write(probeBlock[:k]); err != nil {
			return
		}
		n -= k
	}
}
