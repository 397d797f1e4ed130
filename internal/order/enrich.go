package order

import (
	"context"

	"lightbox/internal/dispatch"
	"lightbox/internal/model"
)

// Enricher completes a study that has just reached the reading worklist
// from its order: reconciliation by accession within the facility, then
// the order's priority, stroke/trauma protocol, order time, the patient's
// location state and the CPT code.
type Enricher struct {
	Orders *Service
	// OrderingClinician, when set, receives a matched order's ordering
	// clinician (the critical-results contact directory keeps them).
	OrderingClinician func(ctx context.Context, facilityID, name, id, phone string) error
}

// Enrich is a dispatch.Options.Enrich.
func (e Enricher) Enrich(ctx context.Context, st *model.Study, p dispatch.Patient) error {
	if p.Accession == "" {
		return nil
	}
	rec, err := e.Orders.Reconcile(ctx, st.FacilityID, p.Accession, st.ID, Demographics{Issuer: p.Issuer, ID: p.ID, Name: p.Name, BirthDate: p.BirthDate, Sex: p.Sex})
	if err != nil || !rec.Matched {
		return err
	}
	o, err := e.Orders.Get(ctx, rec.OrderID)
	if err != nil {
		return err
	}
	if o.Ordering.Name != "" && e.OrderingClinician != nil {
		if err := e.OrderingClinician(ctx, o.FacilityID, o.Ordering.Name, o.Ordering.ID, o.Ordering.Phone); err != nil {
			e.Orders.log().Warn("contact directory from order", "err", err)
		}
	}
	if pr, err := model.ParsePriority(string(o.Priority)); err == nil && pr > st.Priority {
		st.Priority = pr
	}
	st.Stroke, st.Trauma = st.Stroke || o.Stroke, st.Trauma || o.Trauma
	st.OrderTime = o.OrderedAt
	if o.LocationState != "" {
		st.PatientState = o.LocationState
	}
	if st.CPT == "" && (o.ProcedureSystem == "CPT" || o.ProcedureSystem == "C4") {
		st.CPT = o.ProcedureCode
	}
	return nil
}
