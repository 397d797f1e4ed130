package model

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func testFacility() *Facility {
	f := &Facility{ID: "F12", Name: "Facility 12", State: "TX", TimeZone: "America/Chicago", Medicare: true, ReadType: ReadFinalType}
	if err := f.Resolve(); err != nil {
		panic(err)
	}
	return f
}

func testReader() *Reader {
	r := &Reader{
		ID: "R1", Name: "Dr One", Subspecialties: []string{"neuro"}, Modalities: []string{"CT", "MR", "CR", "MG", "US"},
		MQSA:        MQSA{Qualified: true, Last24Months: 1200, DBT: true},
		Workstation: WS5MP, Location: Location{Country: "US", State: "TX"}, TimeZone: "America/Chicago",
		Licenses:    []License{{State: "TX", Number: "T1", Status: LicenceActive, Expires: MustDate("2026-10-01")}},
		Privileges:  []Privilege{{Facility: "F12", Basis: Direct, Scope: Scope{Mammography: true, Paediatrics: true}, Expires: MustDate("2027-01-01")}},
		Enrolments:  []Enrolment{{Payer: PayerMedicare, Active: true}},
		Malpractice: []Malpractice{{Carrier: "Acme", States: []string{"TX"}, Telemedicine: true, Expires: MustDate("2027-06-30")}},
	}
	_ = r.Resolve()
	return r
}

func testStudy(f *Facility) *Study {
	return &Study{ID: "S1", Facility: f, FacilityID: f.ID, Modality: "CT", BodyPart: "HEAD", CPT: "70450", Priority: STAT, WorkRVU: 0.85}
}

var on = ShiftState{OnShift: true, Presence: Online}

// at is noon Chicago time on a given date.
func at(date string) time.Time {
	loc, _ := time.LoadLocation("America/Chicago")
	d := MustDate(date)
	return time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc)
}

func TestCheckEligible(t *testing.T) {
	f := testFacility()
	if ex := Check(testReader(), testStudy(f), Final, at("2026-06-01"), on); len(ex) != 0 {
		t.Fatalf("want eligible, got %v", ex)
	}
}

func TestCheckExclusions(t *testing.T) {
	cases := []struct {
		name   string
		mod    func(r *Reader, s *Study, f *Facility)
		kind   ReadKind
		when   string
		st     ShiftState
		code   Code
		reason string
	}{
		{"no licence", func(r *Reader, s *Study, f *Facility) { s.PatientState = "WY" }, Final, "2026-06-01", on, CodeNoLicence, "no active WY licence"},
		{"licence inactive", func(r *Reader, s *Study, f *Facility) { r.Licenses[0].Status = LicenceInactive }, Final, "2026-06-01", on, CodeLicenceInactive, "no active TX licence (inactive)"},
		{"licence restricted", func(r *Reader, s *Study, f *Facility) { r.Licenses[0].Restrictions = []string{"probation"} }, Final, "2026-06-01", on, CodeLicenceRestricted, "TX licence restricted"},
		{"licence expired", nil, Final, "2026-10-02", on, CodeLicenceExpired, "TX licence expired 2026-10-01"},
		{"no privilege", func(r *Reader, s *Study, f *Facility) { r.Privileges = nil }, Final, "2026-06-01", on, CodeNoPrivilege, "no privilege at Facility 12"},
		{"privilege expired", func(r *Reader, s *Study, f *Facility) { r.Privileges[0].Expires = MustDate("2026-05-31") }, Final, "2026-06-01", on, CodePrivilegeExpired, "privilege at Facility 12 expired 2026-05-31"},
		{"privilege not yet", func(r *Reader, s *Study, f *Facility) { r.Privileges[0].Granted = MustDate("2026-07-01") }, Final, "2026-06-01", on, CodePrivilegeNotYet, "privilege at Facility 12 starts 2026-07-01"},
		{"proxy without agreement", func(r *Reader, s *Study, f *Facility) { r.Privileges[0].Basis = Proxy }, Final, "2026-06-01", on, CodeProxyAgreement, "proxy privilege at Facility 12 has no written distant-site agreement"},
		{"scope excludes MG", func(r *Reader, s *Study, f *Facility) {
			r.Privileges[0].Scope.Mammography = false
			s.Modality, s.CPT = "MG", "77067"
		}, Final, "2026-06-01", on, CodePrivilegeScope, "privilege scope excludes MG"},
		{"scope excludes MR", func(r *Reader, s *Study, f *Facility) {
			r.Privileges[0].Scope.Modalities = []string{"CT"}
			s.Modality = "MR"
		}, Final, "2026-06-01", on, CodePrivilegeScope, "privilege scope excludes MR"},
		{"scope excludes paediatrics", func(r *Reader, s *Study, f *Facility) {
			r.Privileges[0].Scope.Paediatrics = false
			s.Paediatric = true
		}, Final, "2026-06-01", on, CodePrivilegeScope, "privilege scope excludes paediatrics"},
		{"not MQSA", func(r *Reader, s *Study, f *Facility) { r.MQSA.Last24Months = 900; s.Modality, s.CPT = "MG", "77067" }, Final, "2026-06-01", on, CodeMQSA, "not MQSA qualified"},
		{"MQSA lapsed", func(r *Reader, s *Study, f *Facility) {
			r.MQSA.QualifiedUntil = MustDate("2026-01-01")
			s.CPT = "77067"
		}, Final, "2026-06-01", on, CodeMQSA, "not MQSA qualified"},
		{"no DBT training", func(r *Reader, s *Study, f *Facility) { r.MQSA.DBT = false; s.Modality, s.CPT = "MG", "G0279" }, Final, "2026-06-01", on, CodeDBT, "no DBT training"},
		{"mammo via SOP class needs 5MP", func(r *Reader, s *Study, f *Facility) {
			r.Workstation = WS3MP
			s.Modality, s.CPT, s.SOPClasses = "OT", "", []string{SOPDigitalMammo}
			r.Modalities = append(r.Modalities, "OT")
		}, Final, "2026-06-01", on, CodeWorkstation, "mammography needs a 5MP workstation"},
		{"offshore final", func(r *Reader, s *Study, f *Facility) { r.Location = Location{Country: "AU"} }, Final, "2026-06-01", on, CodeOffshoreFinal, "reader outside the US: preliminary reads only"},
		{"prelim-only facility", func(r *Reader, s *Study, f *Facility) { f.ReadType = ReadPrelimOnly }, Final, "2026-06-01", on, CodeFacilityPrelimOnly, "Facility 12 buys preliminary reads only"},
		{"not on shift", nil, Prelim, "2026-06-01", ShiftState{Presence: Online}, CodeNotOnShift, "not on shift"},
		{"offline", nil, Prelim, "2026-06-01", ShiftState{OnShift: true}, CodeOffline, "offline"},
		{"away", nil, Prelim, "2026-06-01", ShiftState{OnShift: true, Presence: Away}, CodeAway, "away"},
		{"subspecialty", func(r *Reader, s *Study, f *Facility) {
			r.Subspecialties = nil
			s.Subspecialty, s.SubspecialtyRequired = "neuro", true
		}, Final, "2026-06-01", on, CodeSubspecialty, "not qualified for neuro"},
		{"modality", func(r *Reader, s *Study, f *Facility) { r.Modalities = []string{"CR"} }, Final, "2026-06-01", on, CodeModality, "not qualified for CT"},
		{"malpractice", func(r *Reader, s *Study, f *Facility) { r.Malpractice[0].States = []string{"OK"} }, Final, "2026-06-01", on, CodeMalpractice, "malpractice does not cover TX"},
		{"malpractice not telemedicine", func(r *Reader, s *Study, f *Facility) { r.Malpractice[0].Telemedicine = false }, Prelim, "2026-06-01", on, CodeMalpractice, "malpractice does not cover TX"},
		{"medicare enrolment", func(r *Reader, s *Study, f *Facility) { r.Enrolments = nil }, Final, "2026-06-01", on, CodeEnrolment, "not enrolled with Medicare"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, r := testFacility(), testReader()
			s := testStudy(f)
			if c.mod != nil {
				c.mod(r, s, f)
			}
			ex := Check(r, s, c.kind, at(c.when), c.st)
			i := slices.IndexFunc(ex, func(e Exclusion) bool { return e.Code == c.code })
			if i < 0 {
				t.Fatalf("want %s, got %v", c.code, ex)
			}
			if ex[i].Reason != c.reason {
				t.Fatalf("reason %q, want %q", ex[i].Reason, c.reason)
			}
		})
	}
}

func TestLicenceExpiryNoGrace(t *testing.T) {
	f := testFacility()
	r, s := testReader(), testStudy(f)
	loc := f.Loc
	last := time.Date(2026, 10, 1, 23, 59, 59, 0, loc)
	if ex := Check(r, s, Final, last, on); len(ex) != 0 {
		t.Fatalf("valid on its last day: %v", ex)
	}
	if ex := Check(r, s, Final, last.Add(time.Second), on); len(ex) == 0 {
		t.Fatal("eligible after expiry")
	}
	if got, want := ValidUntil(r, s, Final, last), time.Date(2026, 10, 2, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Fatalf("ValidUntil %v want %v", got, want)
	}
}

func TestPrelimAllowedOffshore(t *testing.T) {
	f := testFacility()
	r, s := testReader(), testStudy(f)
	r.Location = Location{Country: "AU"}
	r.Enrolments = nil
	if ex := Check(r, s, Prelim, at("2026-06-01"), on); len(ex) != 0 {
		t.Fatalf("offshore prelim should be allowed: %v", ex)
	}
}

func TestHomeStateRule(t *testing.T) {
	f := testFacility()
	r, s := testReader(), testStudy(f)
	r.Location.State = "CO"
	ru := DefaultRules()
	ru.RequireHomeStateLicence = true
	ex := ru.Check(r, s, Final, at("2026-06-01"), on)
	if len(ex) != 1 || ex[0].Code != CodeHomeLicence {
		t.Fatalf("got %v", ex)
	}
}

func TestIsMammography(t *testing.T) {
	for _, c := range []struct {
		s    Study
		want bool
	}{
		{Study{CPT: "77067"}, true}, {Study{CPT: "G0279"}, true}, {Study{Modality: "MG"}, true},
		{Study{SOPClasses: []string{SOPBreastTomo}}, true}, {Study{CPT: "76641", Modality: "US", BodyPart: "BREAST"}, false},
		{Study{CPT: "77046", Modality: "MR"}, false},
	} {
		if got := c.s.IsMammography(); got != c.want {
			t.Errorf("%+v: got %v", c.s, got)
		}
	}
}

func TestClassAndDeadline(t *testing.T) {
	f := testFacility()
	s := testStudy(f)
	s.ArrivalTime = at("2026-06-01")
	s.Stroke = true
	if s.Class() != ClassStroke || !s.Deadline().Equal(s.ArrivalTime.Add(20*time.Minute)) {
		t.Fatalf("class %s deadline %v", s.Class(), s.Deadline())
	}
	f.SLA = map[Class]SLA{ClassStroke: {Within: 45 * time.Minute, From: StartExamComplete}}
	s.ExamTime = s.ArrivalTime.Add(-5 * time.Minute)
	if !s.Deadline().Equal(s.ExamTime.Add(45 * time.Minute)) {
		t.Fatalf("deadline %v", s.Deadline())
	}
	if !strings.Contains(STAT.String(), "stat") {
		t.Fatal()
	}
}
