package fhir

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/order"
)

// Systems and codes Lightbox reads and writes.
const (
	SystemV20203  = "http://terminology.hl7.org/CodeSystem/v2-0203" // identifier types: ACSN, PLAC, FILL, MR
	SystemCPT     = "http://www.ama-assn.org/go/cpt"
	SystemNPI     = "http://hl7.org/fhir/sid/us-npi"
	SystemLOINC   = "http://loinc.org"
	ExtActivation = "https://lightbox.dev/fhir/StructureDefinition/activation"      // valueCode stroke | trauma
	ExtWorkflow   = "https://lightbox.dev/fhir/StructureDefinition/workflow-status" // valueCode: order.Status
	ExtMedicare   = "https://lightbox.dev/fhir/StructureDefinition/medicare"        // valueBoolean
)

var (
	srStatuses   = []string{"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
	srIntents    = []string{"proposal", "plan", "directive", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"}
	srPriorities = []string{"routine", "urgent", "asap", "stat"}
	genders      = []string{"male", "female", "other", "unknown"}
)

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

func identifierType(id Identifier) string {
	if id.Type == nil {
		return ""
	}
	for _, c := range id.Type.Coding {
		if c.System == "" || c.System == SystemV20203 {
			return c.Code
		}
	}
	return ""
}

// accession returns the ACSN identifier (the accession number) and the
// facility named by its assigner (assigner.identifier.value), if any.
func (sr *ServiceRequest) accession() (Identifier, bool) {
	for _, id := range sr.Identifier {
		if identifierType(id) == "ACSN" {
			return id, true
		}
	}
	return Identifier{}, false
}

// patient resolves the subject: a contained Patient ("#id") or a logical
// reference (subject.identifier).
func (sr *ServiceRequest) patient() (*Patient, error) {
	if ref := sr.Subject.Reference; strings.HasPrefix(ref, "#") {
		for _, raw := range sr.Contained {
			var p Patient
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, fmt.Errorf("contained resource: %w", err)
			}
			if p.ResourceType == "Patient" && p.ID == ref[1:] {
				return &p, nil
			}
		}
		return nil, fmt.Errorf("contained Patient %s not found", ref)
	}
	if sr.Subject.Identifier != nil {
		return &Patient{ResourceType: "Patient", Identifier: []Identifier{*sr.Subject.Identifier}}, nil
	}
	return nil, nil
}

// Validate checks a ServiceRequest for creation: R4 required elements
// (resourceType, status, intent, subject) and the codes used, plus what
// Lightbox needs to make an order (an ACSN identifier, a code, a patient
// identifier). It returns nil or an OperationOutcome listing every problem.
func (sr *ServiceRequest) Validate() *OperationOutcome {
	var issues []Issue
	add := func(code, expr, msg string) {
		issues = append(issues, Issue{Severity: "error", Code: code, Diagnostics: msg, Expression: []string{expr}})
	}
	if sr.ResourceType != "ServiceRequest" {
		add("invalid", "ServiceRequest.resourceType", "resourceType must be ServiceRequest")
	}
	// coded checks a required coded element: present, in its value set and
	// allowed by Lightbox (ok), reporting the first failure.
	coded := func(elem, v string, set []string, setName string, ok bool, rule string) {
		path := "ServiceRequest." + elem
		switch {
		case v == "":
			add("required", path, elem+" is required")
		case !oneOf(v, set):
			add("code-invalid", path, elem+" is not a "+setName+" code")
		case !ok:
			add("business-rule", path, rule)
		}
	}
	coded("status", sr.Status, srStatuses, "request-status", sr.Status == "active", "only active requests can be placed")
	coded("intent", sr.Intent, srIntents, "request-intent", strings.HasSuffix(sr.Intent, "order"), "intent must be an order")
	if sr.Priority != "" && !oneOf(sr.Priority, srPriorities) {
		add("code-invalid", "ServiceRequest.priority", "priority must be routine, urgent, asap or stat")
	}
	if sr.Subject.Reference == "" && sr.Subject.Identifier == nil {
		add("required", "ServiceRequest.subject", "subject is required")
	} else if p, err := sr.patient(); err != nil {
		add("invalid", "ServiceRequest.subject", err.Error())
	} else if p == nil || len(p.Identifier) == 0 || p.Identifier[0].Value == "" {
		add("required", "ServiceRequest.subject", "the patient needs an identifier (contained Patient.identifier or subject.identifier)")
	} else if p.Gender != "" && !oneOf(p.Gender, genders) {
		add("code-invalid", "Patient.gender", "gender must be male, female, other or unknown")
	} else if p.BirthDate != "" {
		if _, err := time.Parse("2006-01-02", p.BirthDate); err != nil {
			add("value", "Patient.birthDate", "birthDate must be YYYY-MM-DD")
		}
	}
	if acc, ok := sr.accession(); !ok || strings.TrimSpace(acc.Value) == "" {
		add("required", "ServiceRequest.identifier", "an identifier of type ACSN (accession number) is required")
	}
	if sr.Code == nil || (len(sr.Code.Coding) == 0 || sr.Code.Coding[0].Code == "") {
		add("required", "ServiceRequest.code", "code.coding with a procedure code is required")
	}
	for _, d := range []struct{ expr, v string }{{"ServiceRequest.occurrenceDateTime", sr.OccurrenceDateTime}, {"ServiceRequest.authoredOn", sr.AuthoredOn}} {
		if d.v != "" {
			if _, err := parseDateTime(d.v); err != nil {
				add("value", d.expr, "not a FHIR dateTime")
			}
		}
	}
	for _, e := range sr.Extension {
		if e.URL == ExtActivation && e.ValueCode != "stroke" && e.ValueCode != "trauma" {
			add("code-invalid", "ServiceRequest.extension", "activation must be stroke or trauma")
		}
	}
	if len(issues) == 0 {
		return nil
	}
	return &OperationOutcome{ResourceType: "OperationOutcome", Issue: issues}
}

func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("fhir: bad dateTime")
}

// AssignedFacility returns the facility named by the accession identifier's
// assigner (assigner.identifier.value), or "".
func (sr *ServiceRequest) AssignedFacility() string {
	if acc, ok := sr.accession(); ok && acc.Assigner != nil && acc.Assigner.Identifier != nil {
		return acc.Assigner.Identifier.Value
	}
	return ""
}

// ToOrder maps a validated ServiceRequest to an order for facilityID.
// Patient issuer is the identifier system (default: the facility ID).
func (sr *ServiceRequest) ToOrder(facilityID string) (order.Order, error) {
	o := order.Order{FacilityID: facilityID, Source: "fhir"}
	acc, _ := sr.accession()
	o.Accession = acc.Value
	for _, id := range sr.Identifier {
		switch identifierType(id) {
		case "PLAC":
			o.PlacerOrder = id.Value
		case "FILL":
			o.FillerOrder = id.Value
		}
	}
	p, err := sr.patient()
	if err != nil || p == nil || len(p.Identifier) == 0 {
		return o, fmt.Errorf("fhir: subject has no patient identifier")
	}
	o.Patient = order.Patient{Issuer: p.Identifier[0].System, ID: p.Identifier[0].Value, Sex: genderToDICOM(p.Gender)}
	if len(p.Name) > 0 {
		n := p.Name[0]
		o.Patient.Name = strings.TrimRight(n.Family+"^"+strings.Join(n.Given, "^"), "^")
	}
	if p.BirthDate != "" {
		o.Patient.BirthDate = strings.ReplaceAll(p.BirthDate, "-", "")
	}
	if len(p.Address) > 0 {
		o.LocationState = strings.ToUpper(p.Address[0].State)
	}
	if sr.Code != nil && len(sr.Code.Coding) > 0 {
		c := sr.Code.Coding[0]
		o.ProcedureCode, o.ProcedureText = c.Code, c.Display
		switch c.System {
		case SystemCPT:
			o.ProcedureSystem = "CPT"
		case SystemLOINC:
			o.ProcedureSystem = "LN"
		default:
			o.ProcedureSystem = c.System
		}
		if o.ProcedureText == "" {
			o.ProcedureText = sr.Code.Text
		}
	}
	switch sr.Priority {
	case "stat":
		o.Priority = order.PrioritySTAT
	case "asap", "urgent":
		o.Priority = order.PriorityASAP
	default:
		o.Priority = order.PriorityRoutine
	}
	if len(sr.ReasonCode) > 0 {
		r := sr.ReasonCode[0]
		o.Reason = r.Text
		if o.Reason == "" && len(r.Coding) > 0 {
			o.Reason = strings.TrimSpace(r.Coding[0].Code + " " + r.Coding[0].Display)
		}
	}
	if sr.Requester != nil {
		o.Ordering.Name = sr.Requester.Display
		if sr.Requester.Identifier != nil {
			o.Ordering.ID = sr.Requester.Identifier.Value
			if sr.Requester.Identifier.System == SystemNPI {
				o.Ordering.IDType = "NPI"
			}
		}
	}
	if t, err := parseDateTime(sr.OccurrenceDateTime); err == nil {
		o.RequestedAt = t
	}
	if t, err := parseDateTime(sr.AuthoredOn); err == nil {
		o.OrderedAt = t
	}
	for _, e := range sr.Extension {
		switch e.URL {
		case ExtActivation:
			o.Stroke = o.Stroke || e.ValueCode == "stroke"
			o.Trauma = o.Trauma || e.ValueCode == "trauma"
		case ExtMedicare:
			o.Medicare = e.ValueBoolean != nil && *e.ValueBoolean
		}
	}
	return o, nil
}

func genderToDICOM(g string) string {
	switch g {
	case "male":
		return "M"
	case "female":
		return "F"
	case "other":
		return "O"
	}
	return ""
}

func genderFromDICOM(s string) string {
	switch strings.ToUpper(s) {
	case "M":
		return "male"
	case "F":
		return "female"
	case "O":
		return "other"
	case "":
		return ""
	}
	return "unknown"
}

// statusToFHIR maps a workflow status to ServiceRequest.status.
func statusToFHIR(s order.Status) string {
	switch s {
	case order.StatusOnHold:
		return "on-hold"
	case order.StatusCompleted:
		return "completed"
	case order.StatusCancelled, order.StatusDiscontinued, order.StatusRejected:
		return "revoked"
	}
	return "active"
}

// statusesFromFHIR maps a ServiceRequest.status search value to workflow statuses.
func statusesFromFHIR(s string) ([]order.Status, bool) {
	switch s {
	case "active":
		return []order.Status{order.StatusRequested, order.StatusProtocolPending, order.StatusScheduled, order.StatusInProgress}, true
	case "on-hold":
		return []order.Status{order.StatusOnHold}, true
	case "completed":
		return []order.Status{order.StatusCompleted}, true
	case "revoked":
		return []order.Status{order.StatusCancelled, order.StatusDiscontinued, order.StatusRejected}, true
	}
	return nil, false
}

// FromOrder renders an order as a ServiceRequest. The subject is
// Patient/<patient row key> when the order is linked to a patient row.
func FromOrder(o order.Order) ServiceRequest {
	sr := ServiceRequest{
		ResourceType: "ServiceRequest", ID: o.ID, Status: statusToFHIR(o.Status), Intent: "order",
		Meta:       &Meta{LastUpdated: o.UpdatedAt.UTC().Format(time.RFC3339)},
		Extension:  []Extension{{URL: ExtWorkflow, ValueCode: string(o.Status)}},
		Identifier: []Identifier{{Type: &CodeableConcept{Coding: []Coding{{System: SystemV20203, Code: "ACSN"}}}, Value: o.Accession, Assigner: &Reference{Identifier: &Identifier{Value: o.FacilityID}}}},
		Priority:   strings.ToLower(string(o.Priority)),
		Subject:    Reference{Identifier: &Identifier{System: o.Patient.Issuer, Value: o.Patient.ID}, Type: "Patient"},
		Code:       &CodeableConcept{Coding: []Coding{{System: systemURI(o.ProcedureSystem), Code: o.ProcedureCode, Display: o.ProcedureText}}},
	}
	if o.PatientPK != 0 {
		sr.Subject.Reference = "Patient/" + strconv.FormatInt(o.PatientPK, 10)
	}
	if o.PlacerOrder != "" {
		sr.Identifier = append(sr.Identifier, Identifier{Type: &CodeableConcept{Coding: []Coding{{System: SystemV20203, Code: "PLAC"}}}, Value: o.PlacerOrder})
	}
	if o.Reason != "" {
		sr.ReasonCode = []CodeableConcept{{Text: o.Reason}}
	}
	if o.Ordering.Name != "" || o.Ordering.ID != "" {
		sr.Requester = &Reference{Display: o.Ordering.Name}
		if o.Ordering.ID != "" {
			sys := ""
			if o.Ordering.IDType == "NPI" {
				sys = SystemNPI
			}
			sr.Requester.Identifier = &Identifier{System: sys, Value: o.Ordering.ID}
		}
	}
	if !o.RequestedAt.IsZero() {
		sr.OccurrenceDateTime = o.RequestedAt.UTC().Format(time.RFC3339)
	}
	if !o.OrderedAt.IsZero() {
		sr.AuthoredOn = o.OrderedAt.UTC().Format(time.RFC3339)
	}
	if o.Stroke {
		sr.Extension = append(sr.Extension, Extension{URL: ExtActivation, ValueCode: "stroke"})
	}
	if o.Trauma {
		sr.Extension = append(sr.Extension, Extension{URL: ExtActivation, ValueCode: "trauma"})
	}
	if o.StationAE != "" || o.Modality != "" {
		sr.LocationCode = []CodeableConcept{{Text: strings.TrimSpace(o.Modality + " " + o.StationAE)}}
	}
	return sr
}

func systemURI(s string) string {
	switch s {
	case "CPT", "C4", "C5":
		return SystemCPT
	case "LN":
		return SystemLOINC
	}
	return s
}

// PatientFromRecord renders a patient row.
func PatientFromRecord(p order.PatientRecord) Patient {
	out := Patient{ResourceType: "Patient", ID: strconv.FormatInt(p.PK, 10),
		Identifier: []Identifier{{System: p.Issuer, Value: p.ID}}, Gender: genderFromDICOM(p.Sex)}
	if p.Name != "" {
		parts := strings.Split(p.Name, "^")
		n := HumanName{Family: parts[0]}
		for _, g := range parts[1:] {
			if g != "" {
				n.Given = append(n.Given, g)
			}
		}
		out.Name = []HumanName{n}
	}
	if len(p.BirthDate) == 8 {
		out.BirthDate = p.BirthDate[:4] + "-" + p.BirthDate[4:6] + "-" + p.BirthDate[6:]
	}
	return out
}
