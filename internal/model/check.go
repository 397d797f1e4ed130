package model

import (
	"slices"
	"strings"
	"time"
)

// Code is a machine-readable exclusion reason.
type Code string

const (
	CodeNoLicence          Code = "licence.missing"
	CodeLicenceInactive    Code = "licence.inactive"
	CodeLicenceRestricted  Code = "licence.restricted"
	CodeLicenceExpired     Code = "licence.expired"
	CodeHomeLicence        Code = "licence.home_state"
	CodeNoPrivilege        Code = "privilege.missing"
	CodePrivilegeExpired   Code = "privilege.expired"
	CodePrivilegeNotYet    Code = "privilege.not_yet_valid"
	CodePrivilegeScope     Code = "privilege.scope"
	CodeProxyAgreement     Code = "privilege.proxy_agreement"
	CodeMQSA               Code = "mqsa.not_qualified"
	CodeDBT                Code = "mqsa.dbt_training"
	CodeWorkstation        Code = "workstation.not_5mp"
	CodeDisplayCheck       Code = "workstation.display_check"
	CodeOffshoreFinal      Code = "location.offshore_final"
	CodeFacilityPrelimOnly Code = "facility.prelim_only"
	CodeNotOnShift         Code = "shift.off"
	CodeOffline            Code = "presence.offline"
	CodeAway               Code = "presence.away"
	CodeModality           Code = "qualification.modality"
	CodeSubspecialty       Code = "qualification.subspecialty"
	CodeMalpractice        Code = "malpractice.not_covered"
	CodeEnrolment          Code = "payer.not_enrolled"
	CodeUnknownFacility    Code = "facility.unknown"
)

// Exclusion is one reason a reader may not read a study.
type Exclusion struct {
	Code   Code   `json:"code"`
	Reason string `json:"reason"`
}

func (e Exclusion) String() string { return e.Reason }

// Rules are the configurable parts of eligibility. They are contract
// flags, not regulation, so they live in data.
type Rules struct {
	// RequireMalpractice makes "a malpractice policy with telemedicine
	// cover for the patient's state" a hard rule.
	RequireMalpractice bool
	// RequireHomeStateLicence is ACR's L2 ask: also be licensed where you sit.
	RequireHomeStateLicence bool
	// AllowOffshoreFinalNonMedicare lets a reader abroad sign finals for a
	// non-Medicare facility whose read type is plain "final". Off by default:
	// docs/domain.md §1 L8 gives readers abroad prelim-only privileges.
	AllowOffshoreFinalNonMedicare bool
	// RequireMammoDisplayCheck gates mammography on a passed display
	// check in the last 24 h (ShiftState.NoDisplayCheck): a group's QC
	// policy for its readers' diagnostic monitors, off by default.
	RequireMammoDisplayCheck bool
}

// DefaultRules are the rules Check applies.
func DefaultRules() Rules { return Rules{RequireMalpractice: true} }

// Check applies DefaultRules. An empty result means eligible.
func Check(r *Reader, s *Study, kind ReadKind, at time.Time, st ShiftState) []Exclusion {
	return DefaultRules().Check(r, s, kind, at, st)
}

// Check returns every reason the reader may not produce a read of this
// kind for the study at `at`; empty means eligible. All reasons are
// collected, not just the first, so an assignment log can explain itself.
// Dates compare as civil dates in the facility's time zone: a credential
// expiring 2026-10-01 is good through that day and void from the next
// (L4: expiry_date < today ⇒ ineligible, no grace).
func (ru Rules) Check(r *Reader, s *Study, kind ReadKind, at time.Time, st ShiftState) []Exclusion {
	var ex []Exclusion
	add := func(c Code, parts ...string) { ex = append(ex, Exclusion{c, strings.Join(parts, "")}) }
	f := s.Facility
	if f == nil {
		add(CodeUnknownFacility, "unknown facility ", s.FacilityID)
		return ex
	}
	today := DateIn(at, f.location())
	state := s.State()

	if !st.OnShift {
		add(CodeNotOnShift, "not on shift")
	}
	switch st.Presence {
	case Offline:
		add(CodeOffline, "offline")
	case Away:
		add(CodeAway, "away")
	}

	// L1 / L4: active, unrestricted licence in the patient's state.
	ex = licenceCheck(ex, r, state, today)
	if ru.RequireHomeStateLicence && r.Location.InUS() && r.Location.State != "" && r.Location.State != state {
		if e := licenceCheck(nil, r, r.Location.State, today); len(e) > 0 {
			add(CodeHomeLicence, "no active ", r.Location.State, " licence (reader's own state)")
		}
	}

	// C1 / C2 / C5: privilege at the performing facility covering the scope.
	fname := f.Name
	if fname == "" {
		fname = f.ID
	}
	mammo := s.IsMammography()
	if p, ok := r.Privilege(f.ID); !ok {
		add(CodeNoPrivilege, "no privilege at ", fname)
	} else {
		if !p.Expires.IsZero() && p.Expires < today {
			add(CodePrivilegeExpired, "privilege at ", fname, " expired ", p.Expires.String())
		}
		if !p.Granted.IsZero() && p.Granted > today {
			add(CodePrivilegeNotYet, "privilege at ", fname, " starts ", p.Granted.String())
		}
		if p.Basis == Proxy && (p.AgreementID == "" || p.DistantSite == "") {
			add(CodeProxyAgreement, "proxy privilege at ", fname, " has no written distant-site agreement")
		}
		switch {
		case mammo && !p.Scope.Mammography:
			add(CodePrivilegeScope, "privilege scope excludes MG")
		case !mammo && len(p.Scope.Modalities) > 0 && !containsFold(p.Scope.Modalities, s.Modality):
			add(CodePrivilegeScope, "privilege scope excludes ", strings.ToUpper(s.Modality))
		}
		if s.BodyPart != "" && len(p.Scope.BodyRegions) > 0 && !containsFold(p.Scope.BodyRegions, s.BodyPart) {
			add(CodePrivilegeScope, "privilege scope excludes ", strings.ToLower(s.BodyPart))
		}
		if s.Paediatric && !p.Scope.Paediatrics {
			add(CodePrivilegeScope, "privilege scope excludes paediatrics")
		}
	}

	// Reader qualifications.
	if s.Modality != "" && !containsFold(r.Modalities, s.Modality) {
		add(CodeModality, "not qualified for ", strings.ToUpper(s.Modality))
	}
	if s.SubspecialtyRequired && s.Subspecialty != "" && !r.HasSubspecialty(s.Subspecialty) {
		add(CodeSubspecialty, "not qualified for ", s.Subspecialty)
	}

	// §3 MQSA and M4 displays.
	if mammo {
		m := r.MQSA
		if !m.Qualified || (!m.QualifiedUntil.IsZero() && m.QualifiedUntil < today) || (!m.Initial && m.Last24Months < MQSAContinuing) {
			add(CodeMQSA, "not MQSA qualified")
		}
		if s.IsDBT() && !m.DBT {
			add(CodeDBT, "no DBT training")
		}
		if r.Workstation != WS5MP {
			add(CodeWorkstation, "mammography needs a 5MP workstation")
		}
		if ru.RequireMammoDisplayCheck && st.NoDisplayCheck {
			add(CodeDisplayCheck, "no passed display check in the last 24 h")
		}
	}

	// §1 L6–L8: where the reader sits decides what they may sign.
	if kind == Final {
		if f.ReadType == ReadPrelimOnly {
			add(CodeFacilityPrelimOnly, fname, " buys preliminary reads only")
		}
		if !r.Location.InUS() && (f.Medicare || f.ReadType == ReadFinalRequiresUS || !ru.AllowOffshoreFinalNonMedicare) {
			add(CodeOffshoreFinal, "reader outside the US: preliminary reads only")
		}
		if f.Medicare && !enrolled(r, PayerMedicare, today) {
			add(CodeEnrolment, "not enrolled with Medicare")
		}
	}

	if ru.RequireMalpractice && !malpracticeCovers(r, state, today) {
		add(CodeMalpractice, "malpractice does not cover ", state)
	}
	return ex
}

func licenceCheck(ex []Exclusion, r *Reader, state string, today Date) []Exclusion {
	l, ok := r.Licence(state)
	switch {
	case !ok:
		return append(ex, Exclusion{CodeNoLicence, "no active " + state + " licence"})
	case l.Status == LicenceRestricted || len(l.Restrictions) > 0:
		return append(ex, Exclusion{CodeLicenceRestricted, state + " licence restricted"})
	case l.Status != LicenceActive:
		return append(ex, Exclusion{CodeLicenceInactive, "no active " + state + " licence (" + string(l.Status) + ")"})
	case !l.Expires.IsZero() && l.Expires < today:
		return append(ex, Exclusion{CodeLicenceExpired, state + " licence expired " + l.Expires.String()})
	}
	return ex
}

func enrolled(r *Reader, payer string, today Date) bool {
	for _, e := range r.Enrolments {
		if e.Payer == payer && e.Active && (e.Effective.IsZero() || e.Effective <= today) && (e.Expires.IsZero() || e.Expires >= today) {
			return true
		}
	}
	return false
}

func malpracticeCovers(r *Reader, state string, today Date) bool {
	for _, m := range r.Malpractice {
		if m.Telemedicine && (m.Expires.IsZero() || m.Expires >= today) && slices.Contains(m.States, state) {
			return true
		}
	}
	return false
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// ValidUntil returns the first instant after `at` at which a dated
// credential this (reader, study, kind) pairing relies on runs out: the
// licence for the patient's state, the facility privilege, malpractice,
// Medicare enrolment for finals and MQSA for mammography. Zero means no
// dated credential limits it. The worklist re-checks a lease at that
// instant so a lapse pulls the study at once without re-checking every
// lease on every tick.
func ValidUntil(r *Reader, s *Study, kind ReadKind, at time.Time) time.Time {
	if s.Facility == nil {
		return time.Time{}
	}
	loc := s.Facility.location()
	var until time.Time
	consider := func(d Date) {
		if d.IsZero() {
			return
		}
		t := d.AddDays(1).Midnight(loc)
		if t.After(at) && (until.IsZero() || t.Before(until)) {
			until = t
		}
	}
	if l, ok := r.Licence(s.State()); ok {
		consider(l.Expires)
	}
	if p, ok := r.Privilege(s.Facility.ID); ok {
		consider(p.Expires)
	}
	today := DateIn(at, loc)
	best := Date(0)
	for _, m := range r.Malpractice {
		if m.Telemedicine && slices.Contains(m.States, s.State()) && (m.Expires.IsZero() || m.Expires >= today) {
			if m.Expires.IsZero() {
				best = 0
				break
			}
			if m.Expires > best {
				best = m.Expires
			}
		}
	}
	consider(best)
	if kind == Final && s.Facility != nil && s.Facility.Medicare {
		for _, e := range r.Enrolments {
			if e.Payer == PayerMedicare && e.Active {
				consider(e.Expires)
			}
		}
	}
	if s.IsMammography() {
		consider(r.MQSA.QualifiedUntil)
	}
	return until
}
