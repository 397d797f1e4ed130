package api

import (
	"net/http"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/httpx"
)

// The audit trail, for administrators (privacy officers): who accessed a
// patient's records. The read is itself audited. The same question in FHIR
// is GET /fhir/AuditEvent (internal/fhir).
func (a *API) registerAudit(mux Mux) {
	mux.HandleFunc("GET /api/audit/patient", a.with(a.patientAccesses, auth.Admin))
}

func (a *API) patientAccesses(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if a.audit == nil {
		writeError(w, http.StatusNotFound, "no audit trail configured")
		return
	}
	q, err := audit.ParsePatientQuery(r.URL.Query(), time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	evs, err := q.Answer(r.Context(), a.audit, audit.Actor{UserID: p.Username, Role: string(p.Role), NetworkAddr: httpx.RemoteHost(r), Interface: audit.HTTP})
	if err != nil {
		a.fail(w, err)
		return
	}
	if evs == nil {
		evs = []audit.Event{}
	}
	httpx.JSON(w, http.StatusOK, evs)
}
