package scope

import (
	"reflect"
	"testing"
)

func TestAllows(t *testing.T) {
	admin := Scope{All: true}
	sgh := Scope{Facilities: []string{"SGH"}}
	doc := Scope{Facilities: []string{"SGH"}, Clinician: "NPI1"}
	for _, c := range []struct {
		s         Scope
		fac, ord  string
		want, wfw bool
	}{
		{admin, "HBI", "", true, true},
		{sgh, "SGH", "", true, true},
		{sgh, "HBI", "", false, false},
		{doc, "SGH", "NPI1", true, true},
		{doc, "SGH", "NPI2", false, true},
		{doc, "SGH", "", false, true},
		{doc, "HBI", "NPI1", false, false},
		{Scope{}, "SGH", "", false, false},
		{Scope{Studies: []string{"1.2"}}, "SGH", "", false, false},
	} {
		if got := c.s.Allows(c.fac, c.ord); got != c.want {
			t.Errorf("%+v Allows(%s, %s) = %v", c.s, c.fac, c.ord, got)
		}
		if got := c.s.AllowsFacility(c.fac); got != c.wfw {
			t.Errorf("%+v AllowsFacility(%s) = %v", c.s, c.fac, got)
		}
	}
}

func TestClause(t *testing.T) {
	for _, c := range []struct {
		s    Scope
		cond string
		args []any
	}{
		{Scope{All: true}, "", nil},
		{Scope{}, " AND s.facility_id IN (NULL)", nil},
		{Scope{Facilities: []string{"A", "B"}}, " AND s.facility_id IN (?, ?)", []any{"A", "B"}},
		{Scope{Facilities: []string{"A"}, Studies: []string{"1.2"}}, " AND ((s.facility_id IN (?)) OR s.study_uid IN (?))", []any{"A", "1.2"}},
		{Scope{All: true, Studies: []string{"1.2"}}, "", nil},
		{Scope{All: true, Clinician: "N"}, " AND s.accession <> '' AND EXISTS (SELECT 1 FROM orders o WHERE o.facility_id = s.facility_id AND o.accession = s.accession AND o.ordering_id = ?)", []any{"N"}},
	} {
		cond, args := c.s.Clause("s")
		if cond != c.cond || !reflect.DeepEqual(args, c.args) {
			t.Errorf("%+v: %q %v", c.s, cond, args)
		}
	}
	if g := (Scope{Studies: []string{"1.2"}}); !g.AllowsStudy("1.2", "SGH", "") || g.AllowsStudy("1.3", "SGH", "") || g.Empty() {
		t.Errorf("study grant not honoured: %+v", g)
	}
	if pc, _ := (Scope{All: true}).PatientClause("p"); pc != "" {
		t.Errorf("admin patient clause %q", pc)
	}
	pc, args := Scope{Facilities: []string{"A"}}.PatientClause("p")
	if pc != " AND EXISTS (SELECT 1 FROM study scope_s WHERE scope_s.patient_pk = p.pk AND scope_s.facility_id IN (?))" || len(args) != 1 {
		t.Errorf("patient clause %q %v", pc, args)
	}
}

func TestAllowsRecord(t *testing.T) {
	s := Scope{Facilities: []string{"F1"}}
	for _, c := range []struct {
		fac         string
		participant bool
		want        bool
	}{{"F1", false, true}, {"F2", false, false}, {"F2", true, true}} {
		if got := s.AllowsRecord(c.fac, c.participant); got != c.want {
			t.Errorf("AllowsRecord(%s, %v) = %v", c.fac, c.participant, got)
		}
	}
}
