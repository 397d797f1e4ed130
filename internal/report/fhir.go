package report

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/fhir"
	"lightbox/internal/httpx"
	"lightbox/internal/scope"
)

// FHIR serves DiagnosticReport read and search. Mount with Routes behind
// authentication; Scope says which facilities a request may see.
type FHIR struct {
	Service *Service
	Scope   func(r *http.Request) (scope.Scope, error)
	// Base is the FHIR URL prefix (default "/fhir").
	Base string
	// PDFURL is the presentedForm URL in search results (default
	// "/api/reports/studies/{uid}/pdf"); a read embeds the PDF itself.
	PDFURL func(studyUID string) string
	Logger *slog.Logger
}

// Routes registers GET [base]/DiagnosticReport and [base]/DiagnosticReport/{id}.
func (h *FHIR) Routes(mux Mux) {
	b := h.base()
	mux.HandleFunc("GET "+b+"/DiagnosticReport", h.Search)
	mux.HandleFunc("GET "+b+"/DiagnosticReport/{id}", h.Read)
}

func (h *FHIR) base() string {
	if h.Base == "" {
		return "/fhir"
	}
	return strings.TrimSuffix(h.Base, "/")
}

func (h *FHIR) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func writeFHIR(w http.ResponseWriter, status int, v any) {
	httpx.JSONAs(w, status, fhir.ContentType+"; charset=utf-8", v)
}

func (h *FHIR) scope(w http.ResponseWriter, r *http.Request) (scope.Scope, bool) {
	if h.Scope == nil {
		writeFHIR(w, http.StatusForbidden, fhir.Outcome("forbidden", "", "no access scope configured"))
		return scope.Scope{}, false
	}
	sc, err := h.Scope(r)
	if err != nil {
		writeFHIR(w, http.StatusForbidden, fhir.Outcome("forbidden", "", "access denied"))
		return scope.Scope{}, false
	}
	return sc, true
}

// Read handles GET [base]/DiagnosticReport/{id}; reports outside the
// caller's scope are not found.
func (h *FHIR) Read(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	var uid, fac string
	err := h.Service.db.QueryRow(r.Context(), "SELECT study_uid, facility_id FROM report WHERE id = ?", id).Scan(&uid, &fac)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !scope.AllowsFacility(fac)) {
		writeFHIR(w, http.StatusNotFound, fhir.Outcome("not-found", "", "DiagnosticReport not found"))
		return
	}
	if err != nil {
		h.log().Error("report: fhir read failed", "error", err)
		writeFHIR(w, http.StatusInternalServerError, fhir.Outcome("exception", "", "internal error"))
		return
	}
	dr, err := h.Service.DiagnosticReport(r.Context(), uid, true, nil)
	if err != nil {
		h.log().Error("report: fhir read failed", "error", err)
		writeFHIR(w, http.StatusInternalServerError, fhir.Outcome("exception", "", "internal error"))
		return
	}
	writeFHIR(w, http.StatusOK, dr)
}

// Search handles GET [base]/DiagnosticReport with patient (Patient/<id>),
// identifier ([system|]accession or report ID), status (comma list) and
// _count.
func (h *FHIR) Search(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	v := r.URL.Query()
	q := "SELECT study_uid FROM report WHERE 1 = 1"
	var args []any
	for k := range v {
		switch k {
		case "patient", "identifier", "status", "_count", "_format":
		default:
			writeFHIR(w, http.StatusBadRequest, fhir.Outcome("not-supported", k, "unsupported search parameter"))
			return
		}
	}
	if scope.Empty() {
		writeFHIR(w, http.StatusOK, fhir.Bundle{ResourceType: "Bundle", Type: "searchset"})
		return
	}
	clause, args := scope.FacilityClause("facility_id", nil)
	q += clause
	if s := v.Get("patient"); s != "" {
		pk, err := strconv.ParseInt(strings.TrimPrefix(s, "Patient/"), 10, 64)
		if err != nil {
			writeFHIR(w, http.StatusBadRequest, fhir.Outcome("value", "patient", "patient must be a Patient id"))
			return
		}
		q += " AND patient_pk = ?"
		args = append(args, pk)
	}
	if s := v.Get("identifier"); s != "" {
		if i := strings.IndexByte(s, '|'); i >= 0 {
			s = s[i+1:]
		}
		q += " AND (accession = ? OR id = ?)"
		args = append(args, s, s)
	}
	if s := v.Get("status"); s != "" {
		sts := strings.Split(s, ",")
		for _, st := range sts {
			switch st {
			case StatusRegistered, StatusPreliminary, StatusFinal, StatusAmended, StatusAppended:
			default:
				writeFHIR(w, http.StatusBadRequest, fhir.Outcome("code-invalid", "status", "unsupported status value"))
				return
			}
			args = append(args, st)
		}
		q += " AND status IN (?" + strings.Repeat(", ?", len(sts)-1) + ")"
	}
	limit := 100
	if s := v.Get("_count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeFHIR(w, http.StatusBadRequest, fhir.Outcome("value", "_count", "_count must be a non-negative integer"))
			return
		}
		limit = min(n, 500)
	}
	q += " ORDER BY updated_at DESC, id LIMIT ?"
	args = append(args, limit)
	rows, err := h.Service.db.Query(r.Context(), q, args...)
	if err != nil {
		h.log().Error("report: fhir search failed", "error", err)
		writeFHIR(w, http.StatusInternalServerError, fhir.Outcome("exception", "", "internal error"))
		return
	}
	var uids []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err == nil {
			uids = append(uids, u)
		}
	}
	rows.Close()
	b := fhir.Bundle{ResourceType: "Bundle", Type: "searchset", Link: []fhir.BundleLink{{Relation: "self", URL: r.URL.RequestURI()}}}
	pdfURL := h.PDFURL
	if pdfURL == nil {
		pdfURL = func(uid string) string { return "/api/reports/studies/" + uid + "/pdf" }
	}
	for _, u := range uids {
		dr, err := h.Service.DiagnosticReport(r.Context(), u, false, pdfURL)
		if err != nil {
			h.log().Error("report: fhir search failed", "error", err)
			writeFHIR(w, http.StatusInternalServerError, fhir.Outcome("exception", "", "internal error"))
			return
		}
		b.Entry = append(b.Entry, fhir.BundleEntry{FullURL: h.base() + "/DiagnosticReport/" + dr.ID, Resource: dr, Search: &fhir.EntrySearch{Mode: "match"}})
	}
	b.Total = len(b.Entry)
	writeFHIR(w, http.StatusOK, b)
}

// DiagnosticReport maps a study's report to FHIR R4: status registered |
// preliminary | final | amended | appended; basedOn the order's
// ServiceRequest; imagingStudy by Study Instance UID; conclusion = the
// impression; presentedForm = the PDF (inline when withPDF, else by
// pdfURL). Drafts are never exposed: a report with only drafts is
// "registered" without content.
func (s *Service) DiagnosticReport(ctx context.Context, studyUID string, withPDF bool, pdfURL func(string) string) (fhir.DiagnosticReport, error) {
	rep, err := s.Get(ctx, studyUID)
	if err != nil {
		return fhir.DiagnosticReport{}, err
	}
	dr := fhir.DiagnosticReport{
		ResourceType: "DiagnosticReport", ID: rep.ID, Status: rep.Status,
		Identifier: []fhir.Identifier{
			{System: "urn:lightbox:report", Value: rep.ID},
			{Type: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: fhir.SystemV20203, Code: "ACSN"}}}, Value: rep.Accession,
				Assigner: &fhir.Reference{Identifier: &fhir.Identifier{Value: rep.FacilityID}}},
		},
		Category:     []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: "http://terminology.hl7.org/CodeSystem/v2-0074", Code: "RAD", Display: "Radiology"}}}},
		Code:         fhir.CodeableConcept{Coding: []fhir.Coding{{System: "http://loinc.org", Code: "18748-4", Display: "Diagnostic imaging study"}}},
		ImagingStudy: []fhir.Reference{{Type: "ImagingStudy", Identifier: &fhir.Identifier{System: "urn:dicom:uid", Value: "urn:oid:" + rep.StudyUID}}},
	}
	if rep.PatientPK != 0 {
		dr.Subject = &fhir.Reference{Reference: "Patient/" + strconv.FormatInt(rep.PatientPK, 10)}
	}
	if rep.OrderID != "" {
		dr.BasedOn = []fhir.Reference{{Reference: "ServiceRequest/" + rep.OrderID}}
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
		dr.Performer = []fhir.Reference{{Display: rep.Base.Signer.Display, Identifier: &fhir.Identifier{System: "urn:lightbox:reader", Value: rep.Base.Signer.ReaderID}}}
	}
	dr.Conclusion = rep.Base.Content.Impression
	att := fhir.Attachment{ContentType: "application/pdf", Title: "Radiology report"}
	if withPDF {
		b, err := s.PDF(ctx, studyUID, 0)
		if err != nil {
			return dr, err
		}
		att.Data = b
	} else if pdfURL != nil {
		att.URL = pdfURL(studyUID)
	}
	dr.PresentedForm = []fhir.Attachment{att}
	return dr, nil
}
