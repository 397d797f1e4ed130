package fhir

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/order"
)

const (
	dicomUIDSystem = "urn:dicom:uid"
	dcmSystem      = "http://dicom.nema.org/resources/ontology/DCM"
)

func (h *Handler) imagingStudy(ctx context.Context, s archive.StudyRecord) ImagingStudy {
	is := ImagingStudy{ResourceType: "ImagingStudy", ID: strconv.FormatInt(s.PK, 10), Status: "available",
		Identifier:     []Identifier{{System: dicomUIDSystem, Value: "urn:oid:" + s.UID}},
		Subject:        Reference{Reference: "Patient/" + strconv.FormatInt(s.Patient.PK, 10)},
		NumberOfSeries: s.Series, NumberOfInstances: s.Instances, Description: s.Description}
	if s.Accession != "" {
		is.Identifier = append(is.Identifier, Identifier{Type: &CodeableConcept{Coding: []Coding{{System: "http://terminology.hl7.org/CodeSystem/v2-0203", Code: "ACSN"}}}, Value: s.Accession})
		if o, err := h.Orders.ByAccession(ctx, s.FacilityID, s.Accession); err == nil {
			is.BasedOn = []Reference{{Reference: "ServiceRequest/" + o.ID}}
		}
	}
	for _, m := range strings.Split(s.Modalities, `\`) {
		if m != "" {
			is.Modality = append(is.Modality, Coding{System: dcmSystem, Code: m})
		}
	}
	if t, err := time.Parse("20060102150405", s.StudyDate+padHMS(s.StudyTime)); err == nil {
		is.Started = t.Format("2006-01-02T15:04:05")
	} else if t, err := time.Parse("20060102", s.StudyDate); err == nil {
		is.Started = t.Format("2006-01-02")
	}
	return is
}

func padHMS(t string) string {
	t, _, _ = strings.Cut(t, ".")
	for len(t) < 6 {
		t += "0"
	}
	return t[:6]
}

// SearchImagingStudy handles GET [base]/ImagingStudy?patient=&identifier=&date=&status=.
func (h *Handler) SearchImagingStudy(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	search := archive.StudySearch{Scope: scope, Limit: 200}
	if p := q.Get("patient"); p != "" {
		pk, err := strconv.ParseInt(strings.TrimPrefix(p, "Patient/"), 10, 64)
		if err != nil {
			writeOutcome(w, http.StatusBadRequest, "invalid", "patient", "patient must be Patient/{id}")
			return
		}
		search.PatientPK = &pk
	}
	if id := q.Get("identifier"); id != "" {
		sys, val := tokenValue(id)
		if sys == dicomUIDSystem || strings.HasPrefix(val, "urn:oid:") {
			search.UID = strings.TrimPrefix(val, "urn:oid:")
		} else {
			search.Accession = val
		}
	}
	for _, d := range q["date"] {
		op, day := "=", d
		for _, pre := range []string{"eq", "ge", "le", "gt", "lt"} {
			if strings.HasPrefix(d, pre) {
				op, day = map[string]string{"eq": "=", "ge": ">=", "le": "<=", "gt": ">", "lt": "<"}[pre], d[2:]
			}
		}
		t, err := time.Parse("2006-01-02", day)
		if err != nil {
			writeOutcome(w, http.StatusBadRequest, "invalid", "date", "date must be [eq|ge|le|gt|lt]YYYY-MM-DD")
			return
		}
		search.Dates = append(search.Dates, archive.DateBound{Op: op, Date: t.Format("20060102")})
	}
	if st := q.Get("status"); st != "" && st != "available" {
		writeJSON(w, http.StatusOK, Bundle{ResourceType: "Bundle", Type: "searchset"})
		return
	}
	if search.PatientPK == nil && search.UID == "" && search.Accession == "" && len(search.Dates) == 0 {
		writeOutcome(w, http.StatusBadRequest, "required", "", "give at least one of patient, identifier, date")
		return
	}
	rows, err := archive.SearchStudies(r.Context(), h.Orders.DB, search)
	searchset(h, w, r, "ImagingStudy", rows, err, false, func(s archive.StudyRecord) (string, any, error) {
		is := h.imagingStudy(r.Context(), s)
		return is.ID, is, nil
	})
}

// ReadImagingStudy handles GET [base]/ImagingStudy/{id}; studies outside
// the caller's scope are 404.
func (h *Handler) ReadImagingStudy(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	pk, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || pk <= 0 { // no row has such a key; 0 would mean "any" to SearchStudies
		writeOutcome(w, http.StatusNotFound, "not-found", "", "no such ImagingStudy")
		return
	}
	rows, err := archive.SearchStudies(r.Context(), h.Orders.DB, archive.StudySearch{PK: pk, Scope: scope, Limit: 1})
	if err != nil || len(rows) == 0 {
		writeOutcome(w, http.StatusNotFound, "not-found", "", "no such ImagingStudy")
		return
	}
	writeJSON(w, http.StatusOK, h.imagingStudy(r.Context(), rows[0]))
}

// ReadPatient handles GET [base]/Patient/{id}: visible when the patient has
// an order or a study at a facility in the caller's scope.
func (h *Handler) ReadPatient(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	pk, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		var p order.PatientRecord
		p, err = h.Orders.PatientByPK(r.Context(), pk, scope.FacilityIDs())
		if err == nil {
			writeJSON(w, http.StatusOK, PatientFromRecord(p))
			return
		}
	}
	if err != nil && !errors.Is(err, order.ErrNotFound) {
		h.log().Error("fhir: read Patient failed", "error", err)
	}
	writeOutcome(w, http.StatusNotFound, "not-found", "", "no such Patient")
}
