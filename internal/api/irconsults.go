package api

import (
	"fmt"
	"net/http"

	"lightbox/internal/auth"
	"lightbox/internal/fhir"
	"lightbox/internal/httpx"
	"lightbox/internal/irconsult"
	"lightbox/internal/notify"
	"lightbox/internal/report"
)

// IR teleconsults (internal/irconsult):
//
//	GET  /api/ir-consults                 -> the caller's consults (staff: all)
//	POST /api/ir-consults                 {"study_uid","source","indication","question","urgency","report_id"}
//	GET  /api/ir-consults/{id}            -> irconsult.Consult (requester, consultant, staff)
//	POST /api/ir-consults/{id}/accept     (the consultant)
//	POST /api/ir-consults/{id}/recommend  {"imaging_reviewed","recommendation"}
//	POST /api/ir-consults/{id}/close      {"decision":"transfer|local","receiving_centre"}
//	GET  /api/ir-consults/{id}/fhir       -> FHIR R4 Bundle (collection): ServiceRequest + DocumentReference
//
// A request is routed to the IR on call for the facility's region (its
// state); the study must be in the requester's scope.

func (a *API) irConsults() irconsult.Store {
	return irconsult.Store{DB: a.db, Roster: a.roster, Now: a.now}
}

func (a *API) listIRConsults(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	cs, err := a.irConsults().List(r.Context(), ownOrAll(p))
	a.reply(w, http.StatusOK, cs, err)
}

func (a *API) requestConsult(w http.ResponseWriter, r *http.Request, p *auth.Principal, c irconsult.Consult) {
	ctx := r.Context()
	fac, ok := a.studyInScope(w, r, p, c.StudyUID)
	if !ok {
		return
	}
	c.FacilityID, c.Requester, c.Region = fac, p.Username, ""
	if p.Role == auth.Clinician {
		c.Source = "clinician"
	}
	if f := a.facilityMap(ctx)[fac]; f != nil {
		c.Region = f.State
	}
	if c.ReportID != "" {
		// A consult links only to its own study's report.
		if st, _, err := report.New(a.db, report.Options{}).ByID(ctx, c.ReportID); err != nil || st != c.StudyUID {
			writeError(w, http.StatusUnprocessableEntity, "report_id is not a report of this study")
			return
		}
	}
	c, err := a.irConsults().Request(ctx, c)
	if err != nil {
		a.domainFail(w, err, irconsult.ErrInvalid, irconsult.ErrNotFound, irconsult.ErrNoOnCall)
		return
	}
	a.tell(ctx, notify.Message{Event: notify.IRConsult, Key: fmt.Sprintf("ir-consult/%d/requested", c.ID),
		Subject: fmt.Sprintf("IR consult requested (%s, %s)", c.Urgency, c.Indication),
		Text:    "An interventional radiology consult is routed to you as the IR on call.", Link: "/ir-consults"}, c.Consultant)
	httpx.JSON(w, http.StatusCreated, c)
}

// consult loads a consult the caller requested or answers (staff: any).
func (a *API) consult(w http.ResponseWriter, r *http.Request, p *auth.Principal) (irconsult.Consult, bool) {
	return byPathID(a, w, r, a.irConsults().Get, func(c irconsult.Consult) bool {
		return isStaff(p) || p.Username == c.Requester || p.Username == c.Consultant
	}, irconsult.ErrInvalid, irconsult.ErrNotFound)
}

func (a *API) consultStep(step string) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		c, ok := a.consult(w, r, p)
		if !ok {
			return
		}
		var req struct {
			ImagingReviewed string `json:"imaging_reviewed"`
			Recommendation  string `json:"recommendation"`
			Decision        string `json:"decision"`
			ReceivingCentre string `json:"receiving_centre"`
		}
		if r.ContentLength != 0 {
			if !decodeBody(w, r, &req) {
				return
			}
		}
		ctx, s := r.Context(), a.irConsults()
		var err error
		switch step {
		case "accept":
			c, err = s.Accept(ctx, c.ID, p.Username)
		case "recommend":
			c, err = s.Recommend(ctx, c.ID, p.Username, req.ImagingReviewed, req.Recommendation)
		default:
			c, err = s.Close(ctx, c.ID, p.Username, req.Decision, req.ReceivingCentre)
		}
		if err != nil {
			a.domainFail(w, err, irconsult.ErrInvalid, irconsult.ErrNotFound, irconsult.ErrState)
			return
		}
		if step != "accept" {
			a.tell(ctx, notify.Message{Event: notify.IRConsult, Key: fmt.Sprintf("ir-consult/%d/%s", c.ID, step),
				Subject: "IR consult " + c.Status, Text: "The interventional radiologist recorded a " + map[string]string{"recommend": "recommendation", "close": "decision"}[step] + ".",
				Link: "/ir-consults"}, c.Requester)
		}
		httpx.JSON(w, http.StatusOK, c)
	}
}

func (a *API) consultFHIR(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	c, ok := a.consult(w, r, p)
	if !ok {
		return
	}
	httpx.JSONAs(w, http.StatusOK, fhir.ContentType, map[string]any{"resourceType": "Bundle", "type": "collection",
		"entry": []map[string]any{{"resource": c.ServiceRequest()}, {"resource": c.DocumentReference()}}})
}
