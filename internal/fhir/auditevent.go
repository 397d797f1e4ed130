package fhir

import (
	"net/http"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/httpx"
)

// SearchAuditEvent handles GET [base]/AuditEvent?patient=issuer|id
// [&since=YYYY-MM-DD]: who accessed the patient's records, for
// administrators (privacy officers), as a Bundle of AuditEvent (DICOM PS3.15
// Annex A.5 mapped to FHIR R4 AuditEvent). The read is itself audited.
func (h *Handler) SearchAuditEvent(w http.ResponseWriter, r *http.Request) {
	var p *auth.Principal
	if h.Principal != nil {
		p, _ = h.Principal(r)
	}
	if p == nil {
		writeOutcome(w, http.StatusUnauthorized, "login", "", "authentication required")
		return
	}
	if p.Role != auth.Admin {
		writeOutcome(w, http.StatusForbidden, "forbidden", "", "only administrators (privacy officers) read the audit trail")
		return
	}
	q, err := audit.ParsePatientQuery(r.URL.Query(), time.Now())
	if err != nil {
		writeOutcome(w, http.StatusBadRequest, "value", "patient", err.Error())
		return
	}
	evs, err := q.Answer(r.Context(), h.Audit, audit.Actor{UserID: p.Username, Role: string(p.Role), NetworkAddr: httpx.RemoteHost(r), Interface: audit.HTTP})
	if err != nil {
		h.log().Error("fhir: audit query failed", "err", err)
		writeOutcome(w, http.StatusInternalServerError, "exception", "", "internal error")
		return
	}
	writeJSON(w, http.StatusOK, audit.FHIRBundle(evs, h.SiteID, h.base(), ""))
}
