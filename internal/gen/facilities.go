package gen

import (
	"strings"
	"time"
	_ "time/tzdata" // facility time zones must resolve on hosts without zoneinfo
)

// Facility is one of the fictitious imaging sites synthetic studies belong to.
// None of them is a real institution.
type Facility struct {
	// Code is a short upper-case identifier ("SGH").
	Code string
	// Name is the institution name written to InstitutionName (0008,0080).
	Name string
	// State is the two-letter US state code.
	State string
	// TimeZone is the IANA zone the facility's clocks run on; study dates and
	// times are local to it and TimezoneOffsetFromUTC is derived from it.
	TimeZone string
	// AETitle is the facility's primary modality AE title (its CT scanner,
	// "SGH_CT1"); other modalities send as StationAE(modality).
	AETitle string
	// IssuerOfPatientID is written to IssuerOfPatientID (0010,0021); patient
	// IDs are unique only within it.
	IssuerOfPatientID string
}

// StationAE returns the AE title of the facility's scanner for a modality,
// e.g. "SGH_MR1". It is also written as StationName and as the Part 10
// Source Application Entity Title.
func (f Facility) StationAE(modality string) string {
	return f.Code + "_" + strings.ToUpper(modality) + "1"
}

// Location loads the facility's time zone. It cannot fail for the built-in
// list (time/tzdata is embedded); UTC is returned for an unknown zone.
func (f Facility) Location() *time.Location {
	loc, err := time.LoadLocation(f.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Facilities returns the fixed list of fake facilities, in a stable order.
// There are ten, spread over the Eastern, Central, Mountain (with and
// without daylight saving), Pacific, Alaska and Hawaii time zones. The
// slice is a fresh copy; callers may modify it.
func Facilities() []Facility {
	return []Facility{
		{Code: "SGH", Name: "Springfield General Hospital", State: "IL", TimeZone: "America/Chicago", AETitle: "SGH_CT1", IssuerOfPatientID: "SGH-MRN"},
		{Code: "HBI", Name: "Harbor Bay Imaging Center", State: "MA", TimeZone: "America/New_York", AETitle: "HBI_CT1", IssuerOfPatientID: "HBI-MRN"},
		{Code: "LCR", Name: "Lakeside Community Radiology", State: "MI", TimeZone: "America/Detroit", AETitle: "LCR_CT1", IssuerOfPatientID: "LCR-MRN"},
		{Code: "PRM", Name: "Prairie Regional Medical Center", State: "KS", TimeZone: "America/Chicago", AETitle: "PRM_CT1", IssuerOfPatientID: "PRM-MRN"},
		{Code: "RMI", Name: "Ridgeview Mountain Imaging", State: "CO", TimeZone: "America/Denver", AETitle: "RMI_CT1", IssuerOfPatientID: "RMI-MRN"},
		{Code: "MSH", Name: "Mesa Sun Test Hospital", State: "AZ", TimeZone: "America/Phoenix", AETitle: "MSH_CT1", IssuerOfPatientID: "MSH-MRN"},
		{Code: "PCM", Name: "Pacific Coast Demo Medical Center", State: "CA", TimeZone: "America/Los_Angeles", AETitle: "PCM_CT1", IssuerOfPatientID: "PCM-MRN"},
		{Code: "EVC", Name: "Evergreen Valley Clinic", State: "OR", TimeZone: "America/Los_Angeles", AETitle: "EVC_CT1", IssuerOfPatientID: "EVC-MRN"},
		{Code: "NLM", Name: "Northern Lights Medical Center", State: "AK", TimeZone: "America/Anchorage", AETitle: "NLM_CT1", IssuerOfPatientID: "NLM-MRN"},
		{Code: "ATH", Name: "Aloha Test Hospital", State: "HI", TimeZone: "Pacific/Honolulu", AETitle: "ATH_CT1", IssuerOfPatientID: "ATH-MRN"},
	}
}

// FacilityByCode finds a facility by its code (case-insensitive).
func FacilityByCode(code string) (Facility, bool) {
	for _, f := range Facilities() {
		if strings.EqualFold(f.Code, code) {
			return f, true
		}
	}
	return Facility{}, false
}
