package fhir

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/report"
)

// ReadDiagnosticReport handles GET [base]/DiagnosticReport/{id}; reports outside the
// caller's scope are not found.
func (h *Handler) ReadDiagnosticReport(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	uid, fac, err := h.Reports.ByID(r.Context(), id)
	if errors.Is(err, report.ErrNotFound) || (err == nil && !scope.AllowsFacility(fac)) {
		writeJSON(w, http.StatusNotFound, Outcome("not-found", "", "DiagnosticReport not found"))
		return
	}
	if err != nil {
		h.log().Error("report: fhir read failed", "error", err)
		writeJSON(w, http.StatusInternalServerError, Outcome("exception", "", "internal error"))
		return
	}
	dr, err := DiagnosticReportOf(r.Context(), h.Reports, uid, true, nil)
	if err != nil {
		h.log().Error("report: fhir read failed", "error", err)
		writeJSON(w, http.StatusInternalServerError, Outcome("exception", "", "internal error"))
		return
	}
	writeJSON(w, http.StatusOK, dr)
}

// SearchDiagnosticReport handles GET [base]/DiagnosticReport with patient (Patient/<id>),
// identifier ([system|]accession or report ID), status (comma list) and
// _count.
func (h *Handler) SearchDiagnosticReport(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	v := r.URL.Query()
	for k := range v {
		switch k {
		case "patient", "identifier", "status", "_count", "_format":
		default:
			writeJSON(w, http.StatusBadRequest, Outcome("not-supported", k, "unsupported search parameter"))
			return
		}
	}
	q := report.Query{Scope: scope, Limit: 100}
	if s := v.Get("patient"); s != "" {
		pk, err := strconv.ParseInt(strings.TrimPrefix(s, "Patient/"), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, Outcome("value", "patient", "patient must be a Patient id"))
			return
		}
		q.PatientPK = pk
	}
	if s := v.Get("identifier"); s != "" {
		if i := strings.IndexByte(s, '|'); i >= 0 {
			s = s[i+1:]
		}
		q.Identifier = s
	}
	if s := v.Get("status"); s != "" {
		for _, st := range strings.Split(s, ",") {
			if !report.ValidStatus(st) {
				writeJSON(w, http.StatusBadRequest, Outcome("code-invalid", "status", "unsupported status value"))
				return
			}
			q.Statuses = append(q.Statuses, st)
		}
	}
	if s := v.Get("_count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, Outcome("value", "_count", "_count must be a non-negative integer"))
			return
		}
		q.Limit = min(n, 500)
	}
	uids, err := h.Reports.Find(r.Context(), q)
	pdfURL := h.PDFURL
	if pdfURL == nil {
		pdfURL = func(uid string) string { return "/api/reports/studies/" + uid + "/pdf" }
	}
	searchset(h, w, r, "DiagnosticReport", uids, err, true, func(u string) (string, any, error) {
		dr, err := DiagnosticReportOf(r.Context(), h.Reports, u, false, pdfURL)
		if err != nil {
			return "", nil, err
		}
		return dr.ID, dr, nil
	})
}

// DiagnosticReportOf maps a study's report to FHIR R4: status registered |
// preliminary | final | amended | appended; basedOn the order's
// ServiceRequest; imagingStudy by Study Instance UID; conclusion = the
// impression; presentedForm = the PDF (inline when withPDF, else by
// pdfURL). Drafts are never exposed: a report with only drafts is
// "registered" without content.
func DiagnosticReportOf(ctx context.Context, s *report.Service, studyUID string, withPDF bool, pdfURL func(string) string) (DiagnosticReport, error) {
	rep, err := s.Get(ctx, studyUID)
	if err != nil {
		return DiagnosticReport{}, err
	}
	dr := DiagnosticReport{
		ResourceType: "DiagnosticReport", ID: rep.ID, Status: rep.Status,
		Identifier: []Identifier{
			{System: "urn:lightbox:report", Value: rep.ID},
			{Type: &CodeableConcept{Coding: []Coding{{System: SystemV20203, Code: "ACSN"}}}, Value: rep.Accession,
				Assigner: &Reference{Identifier: &Identifier{Value: rep.FacilityID}}},
		},
		Category:     []CodeableConcept{{Coding: []Coding{{System: "http://terminology.hl7.org/CodeSystem/v2-0074", Code: "RAD", Display: "Radiology"}}}},
		Code:         CodeableConcept{Coding: []Coding{{System: "http://loinc.org", Code: "18748-4", Display: "Diagnostic imaging study"}}},
		ImagingStudy: []Reference{{Type: "ImagingStudy", Identifier: &Identifier{System: "urn:dicom:uid", Value: "urn:oid:" + rep.StudyUID}}},
	}
	if rep.PatientPK != 0 {
		dr.Subject = &Reference{Reference: "Patient/" + strconv.FormatInt(rep.PatientPK, 10)}
	}
	if rep.OrderID != "" {
		dr.BasedOn = []Reference{{Reference: "ServiceRequest/" + rep.OrderID}}
	}
	if rep.Base == nil {
		return dr, nil
	}
	last := rep.Base
	if n := len(rep.Addenda); n > 0 && rep.Addenda[n-1].Seq > last.Seq {
		last = &rep.Addenda[n-1]
	}
	dr.Issued = last.SignedAt.UTC().Format(time.RFC3339)
	if rep.Base.Signer != nil {
		dr.Performer = []Reference{{Display: rep.Base.Signer.Display, Identifier: &Identifier{System: "urn:lightbox:reader", Value: rep.Base.Signer.ReaderID}}}
	}
	dr.Conclusion = rep.Base.Content.Impression
	att := Attachment{ContentType: "application/pdf", Title: "Radiology report"}
	if withPDF {
		b, err := s.PDF(ctx, studyUID, 0)
		if err != nil {
			return dr, err
		}
		att.Data = b
	} else if pdfURL != nil {
		att.URL = pdfURL(studyUID)
	}
	dr.PresentedForm = []Attachment{att}
	return dr, nil
}
