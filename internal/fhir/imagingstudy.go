package fhir

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/order"
	"lightbox/internal/scope"
)

const (
	dicomUIDSystem = "urn:dicom:uid"
	dcmSystem      = "http://dicom.nema.org/resources/ontology/DCM"
)

type studyRow struct {
	pk                                                   int64
	uid, facility, accession, date, tm, desc, modalities string
	series, instances                                    int
	patientPK                                            int64
}

const studyCols = `s.pk, s.study_uid, s.facility_id, s.accession, s.study_date, s.study_time, s.description, s.modalities,
	s.num_series, s.num_instances, s.patient_pk`

func (h *Handler) studies(ctx context.Context, where string, args []any, sc scope.Scope, limit int) ([]studyRow, error) {
	if sc.Empty() {
		return nil, nil
	}
	clause, cargs := sc.Clause("s")
	q := "SELECT " + studyCols + " FROM study s WHERE " + where + clause
	args = append(args, cargs...)
	q += " ORDER BY s.study_date DESC, s.study_time DESC, s.pk DESC LIMIT " + strconv.Itoa(limit)
	rows, err := h.Orders.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []studyRow
	for rows.Next() {
		var s studyRow
		if err := rows.Scan(&s.pk, &s.uid, &s.facility, &s.accession, &s.date, &s.tm, &s.desc, &s.modalities, &s.series, &s.instances, &s.patientPK); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (h *Handler) imagingStudy(ctx context.Context, s studyRow) ImagingStudy {
	is := ImagingStudy{ResourceType: "ImagingStudy", ID: strconv.FormatInt(s.pk, 10), Status: "available",
		Identifier:     []Identifier{{System: dicomUIDSystem, Value: "urn:oid:" + s.uid}},
		Subject:        Reference{Reference: "Patient/" + strconv.FormatInt(s.patientPK, 10)},
		NumberOfSeries: s.series, NumberOfInstances: s.instances, Description: s.desc}
	if s.accession != "" {
		is.Identifier = append(is.Identifier, Identifier{Type: &CodeableConcept{Coding: []Coding{{System: "http://terminology.hl7.org/CodeSystem/v2-0203", Code: "ACSN"}}}, Value: s.accession})
		if o, err := h.Orders.ByAccession(ctx, s.facility, s.accession); err == nil {
			is.BasedOn = []Reference{{Reference: "ServiceRequest/" + o.ID}}
		}
	}
	for _, m := range strings.Split(s.modalities, `\`) {
		if m != "" {
			is.Modality = append(is.Modality, Coding{System: dcmSystem, Code: m})
		}
	}
	if t, err := time.Parse("20060102150405", s.date+padHMS(s.tm)); err == nil {
		is.Started = t.Format("2006-01-02T15:04:05")
	} else if t, err := time.Parse("20060102", s.date); err == nil {
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
	where, args := []string{"1 = 1"}, []any{}
	if p := q.Get("patient"); p != "" {
		pk, err := strconv.ParseInt(strings.TrimPrefix(p, "Patient/"), 10, 64)
		if err != nil {
			writeOutcome(w, http.StatusBadRequest, "invalid", "patient", "patient must be Patient/{id}")
			return
		}
		where, args = append(where, "s.patient_pk = ?"), append(args, pk)
	}
	if id := q.Get("identifier"); id != "" {
		sys, val := tokenValue(id)
		if sys == dicomUIDSystem || strings.HasPrefix(val, "urn:oid:") {
			where, args = append(where, "s.study_uid = ?"), append(args, strings.TrimPrefix(val, "urn:oid:"))
		} else {
			where, args = append(where, "s.accession = ?"), append(args, val)
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
		where, args = append(where, "s.study_date "+op+" ?"), append(args, t.Format("20060102"))
	}
	if st := q.Get("status"); st != "" && st != "available" {
		writeJSON(w, http.StatusOK, Bundle{ResourceType: "Bundle", Type: "searchset"})
		return
	}
	if len(where) == 1 {
		writeOutcome(w, http.StatusBadRequest, "required", "", "give at least one of patient, identifier, date")
		return
	}
	rows, err := h.studies(r.Context(), strings.Join(where, " AND "), args, scope, 200)
	if err != nil {
		h.log().Error("fhir: search ImagingStudy failed", "error", err)
		writeOutcome(w, http.StatusInternalServerError, "exception", "", "internal error")
		return
	}
	b := Bundle{ResourceType: "Bundle", Type: "searchset", Total: len(rows)}
	for _, s := range rows {
		is := h.imagingStudy(r.Context(), s)
		b.Entry = append(b.Entry, BundleEntry{FullURL: h.base() + "/ImagingStudy/" + is.ID, Resource: is, Search: &EntrySearch{Mode: "match"}})
	}
	writeJSON(w, http.StatusOK, b)
}

// ReadImagingStudy handles GET [base]/ImagingStudy/{id}; studies outside
// the caller's scope are 404.
func (h *Handler) ReadImagingStudy(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scope(w, r)
	if !ok {
		return
	}
	pk, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeOutcome(w, http.StatusNotFound, "not-found", "", "no such ImagingStudy")
		return
	}
	rows, err := h.studies(r.Context(), "s.pk = ?", []any{pk}, scope, 1)
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
