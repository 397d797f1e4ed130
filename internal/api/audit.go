package api

import (
	"net/http"
	"net/url"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/httpx"
)

// The audit trail, for administrators (privacy officers): who accessed a
// patient's records. The read is itself audited. The same question in FHIR
// is GET /fhir/AuditEvent (internal/fhir).
//
// POST takes the patient in a JSON body, so the identifiers never land in
// access logs (the web app's audit screen uses it); GET with query
// parameters stays for scripts.

// accessRow is one access as the audit screen shows it: when, who, from
// where, what, with which outcome (DICOM PS3.15 A.5 fields).
type accessRow struct {
	Seq        int64           `json:"seq"`
	Time       time.Time       `json:"time"`
	User       string          `json:"user"`
	Role       string          `json:"role"`
	From       string          `json:"from"`
	Via        audit.Interface `json:"via"`
	Peer       string          `json:"peer,omitempty"`
	Event      audit.EventID   `json:"event"`
	EventName  string          `json:"event_name"`
	Action     audit.Action    `json:"action"`
	Outcome    audit.Outcome   `json:"outcome"`
	ObjectType string          `json:"object_type"`
	StudyUIDs  []string        `json:"study_uids"`
	Detail     string          `json:"detail"`
	FacilityID string          `json:"facility_id"`
}

type patientAccessesPostBody struct {
	Issuer    string `json:"issuer"`
	PatientID string `json:"patient_id"`
	Since     string `json:"since"` // YYYY-MM-DD, inclusive
	Until     string `json:"until"` // YYYY-MM-DD, inclusive
}

func (a *API) patientAccessesPost(w http.ResponseWriter, r *http.Request, p *auth.Principal, b patientAccessesPostBody) {
	q := url.Values{"issuer": {b.Issuer}, "patient_id": {b.PatientID}, "since": {b.Since}, "until": {b.Until}}
	a.answerPatientAccesses(w, r, p, q)
}

func (a *API) patientAccesses(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.answerPatientAccesses(w, r, p, r.URL.Query())
}

func (a *API) answerPatientAccesses(w http.ResponseWriter, r *http.Request, p *auth.Principal, v url.Values) {
	if a.audit == nil {
		writeError(w, http.StatusNotFound, "no audit trail configured")
		return
	}
	q, err := audit.ParsePatientQuery(v, time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	evs, err := q.Answer(r.Context(), a.audit, audit.Actor{UserID: p.Username, Role: string(p.Role), NetworkAddr: httpx.RemoteHost(r), Interface: audit.HTTP})
	if err != nil {
		a.fail(w, err)
		return
	}
	rows := make([]accessRow, 0, len(evs))
	for _, e := range evs {
		rows = append(rows, accessRow{Seq: e.Seq, Time: e.Time, User: e.UserID, Role: e.UserRole, From: e.NetworkAddr, Via: e.Interface,
			Peer: e.PeerID, Event: e.EventID, EventName: e.EventID.Display(), Action: e.Action, Outcome: e.Outcome,
			ObjectType: e.ObjectType, StudyUIDs: append([]string{}, e.StudyUIDs...), Detail: e.Detail, FacilityID: e.FacilityID})
	}
	httpx.JSON(w, http.StatusOK, rows)
}
