package scope

import (
	"slices"
	"strings"
)

// Scope is what a caller may see.
type Scope struct {
	// Role is the caller's role (informational for audit; the rule below
	// does not depend on it).
	Role string
	// All sees every facility (administrators, a group's own PACS).
	All bool
	// Facilities lists the facilities seen when not All.
	Facilities []string
	// Clinician, when set, further limits to studies whose order (same
	// facility and accession) names this ordering clinician.
	Clinician string
	// Studies are studies seen beyond the rule above: a reader's active
	// break-glass grants (internal/breakglass), each time-limited and audited.
	Studies []string
}

// Allows reports whether a study or order of facility, ordered by
// orderingClinician ("" when unknown), may be seen. A clinician-limited
// scope never allows what it cannot attribute to the clinician.
func (s Scope) Allows(facility, orderingClinician string) bool {
	if !s.All && !slices.Contains(s.Facilities, facility) {
		return false
	}
	return s.Clinician == "" || orderingClinician == s.Clinician
}

// AllowsStudy is Allows for a known study: it also honours the scope's
// study grants.
func (s Scope) AllowsStudy(study, facility, orderingClinician string) bool {
	return s.Allows(facility, orderingClinician) || (study != "" && slices.Contains(s.Studies, study))
}

// AllowsFacility reports whether the facility dimension allows facility;
// for writes (stores, orders), where no ordering clinician applies.
func (s Scope) AllowsFacility(facility string) bool {
	return s.Allows(facility, s.Clinician)
}

// AllowsRecord reports whether one record of facility may be seen by a
// caller who does (participant) or does not take part in it. Taking part
// in a record (opening a critical-result loop, being handed it) grants
// that record alone and outlasts the facility scope: a reader keeps the
// loop they opened after the study has left their worklist, without
// seeing anything else of the facility.
func (s Scope) AllowsRecord(facility string, participant bool) bool {
	return participant || s.AllowsFacility(facility)
}

// Empty reports whether the scope can see nothing at all.
func (s Scope) Empty() bool { return !s.All && len(s.Facilities) == 0 && len(s.Studies) == 0 }

// FacilityIDs returns the facility filter as the older list form: nil means
// all facilities.
func (s Scope) FacilityIDs() []string {
	if s.All {
		return nil
	}
	if s.Facilities == nil {
		return []string{}
	}
	return s.Facilities
}

// Clause returns the SQL condition, starting with " AND ", that limits rows
// of the study table aliased study to the scope, and its arguments (?
// placeholders). It is empty for an unlimited scope.
func (s Scope) Clause(study string) (string, []any) {
	cond := ""
	var args []any
	if !s.All {
		for _, f := range s.Facilities {
			args = append(args, f)
		}
		cond = " AND " + study + ".facility_id IN (" + placeholders(len(args)) + ")"
	}
	if s.Clinician != "" {
		cond += " AND " + study + ".accession <> '' AND EXISTS (SELECT 1 FROM orders o WHERE o.facility_id = " + study +
			".facility_id AND o.accession = " + study + ".accession AND o.ordering_id = ?)"
		args = append(args, s.Clinician)
	}
	if cond != "" && len(s.Studies) > 0 {
		// A granted study is seen whatever the facility or clinician rule says.
		for _, st := range s.Studies {
			args = append(args, st)
		}
		cond = " AND ((" + strings.TrimPrefix(cond, " AND ") + ") OR " + study + ".study_uid IN (" + placeholders(len(s.Studies)) + "))"
	}
	return cond, args
}

// FacilityClause returns the condition, starting with " AND ", that limits
// rows whose facility is in column col (tables without a study row, such
// as critical-result loops), appending its arguments to args.
func (s Scope) FacilityClause(col string, args []any) (string, []any) {
	if s.All {
		return "", args
	}
	for _, f := range s.Facilities {
		args = append(args, f)
	}
	return " AND " + col + " IN (" + placeholders(len(s.Facilities)) + ")", args
}

// PatientClause returns the condition, starting with " AND ", that limits
// rows of the patient table aliased patient to patients with a study the
// scope allows. It is empty for an unlimited scope.
func (s Scope) PatientClause(patient string) (string, []any) {
	sc, args := s.Clause("scope_s")
	if sc == "" {
		return "", nil
	}
	return " AND EXISTS (SELECT 1 FROM study scope_s WHERE scope_s.patient_pk = " + patient + ".pk" + sc + ")", args
}

func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
