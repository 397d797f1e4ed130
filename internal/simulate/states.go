package simulate

// stateInfo is one US jurisdiction: population in millions (Census 2023
// estimates, rounded) as the facility-distribution weight, and the IANA
// zone covering most of its population.
type stateInfo struct {
	code string
	pop  float64
	zone string
}

// usStates is immutable lookup data.
var usStates = [...]stateInfo{
	{"AL", 5.1, "America/Chicago"}, {"AK", 0.7, "America/Anchorage"}, {"AZ", 7.4, "America/Phoenix"},
	{"AR", 3.1, "America/Chicago"}, {"CA", 39.0, "America/Los_Angeles"}, {"CO", 5.9, "America/Denver"},
	{"CT", 3.6, "America/New_York"}, {"DE", 1.0, "America/New_York"}, {"DC", 0.7, "America/New_York"},
	{"FL", 22.6, "America/New_York"}, {"GA", 11.0, "America/New_York"}, {"HI", 1.4, "Pacific/Honolulu"},
	{"ID", 2.0, "America/Boise"}, {"IL", 12.5, "America/Chicago"}, {"IN", 6.9, "America/Indiana/Indianapolis"},
	{"IA", 3.2, "America/Chicago"}, {"KS", 2.9, "America/Chicago"}, {"KY", 4.5, "America/New_York"},
	{"LA", 4.6, "America/Chicago"}, {"ME", 1.4, "America/New_York"}, {"MD", 6.2, "America/New_York"},
	{"MA", 7.0, "America/New_York"}, {"MI", 10.0, "America/Detroit"}, {"MN", 5.7, "America/Chicago"},
	{"MS", 2.9, "America/Chicago"}, {"MO", 6.2, "America/Chicago"}, {"MT", 1.1, "America/Denver"},
	{"NE", 2.0, "America/Chicago"}, {"NV", 3.2, "America/Los_Angeles"}, {"NH", 1.4, "America/New_York"},
	{"NJ", 9.3, "America/New_York"}, {"NM", 2.1, "America/Denver"}, {"NY", 19.6, "America/New_York"},
	{"NC", 10.8, "America/New_York"}, {"ND", 0.8, "America/Chicago"}, {"OH", 11.8, "America/New_York"},
	{"OK", 4.1, "America/Chicago"}, {"OR", 4.2, "America/Los_Angeles"}, {"PA", 13.0, "America/New_York"},
	{"RI", 1.1, "America/New_York"}, {"SC", 5.4, "America/New_York"}, {"SD", 0.9, "America/Chicago"},
	{"TN", 7.1, "America/Chicago"}, {"TX", 30.5, "America/Chicago"}, {"UT", 3.4, "America/Denver"},
	{"VT", 0.6, "America/New_York"}, {"VA", 8.7, "America/New_York"}, {"WA", 7.8, "America/Los_Angeles"},
	{"WV", 1.8, "America/New_York"}, {"WI", 5.9, "America/Chicago"}, {"WY", 0.6, "America/Denver"},
}

// imlc marks states issuing licences through the compact (docs/domain.md §1, Oct
// 2024 snapshot): readers hold more of these because they are quicker to get.
var imlc = map[string]bool{"AL": true, "AZ": true, "CO": true, "DE": true, "DC": true, "GA": true, "ID": true, "IL": true, "IN": true,
	"IA": true, "KS": true, "KY": true, "LA": true, "ME": true, "MD": true, "MI": true, "MN": true, "MS": true, "MO": true, "MT": true,
	"NE": true, "NV": true, "NH": true, "NJ": true, "ND": true, "OH": true, "OK": true, "SD": true, "TN": true, "TX": true, "UT": true,
	"WA": true, "WV": true, "WI": true, "WY": true, "CT": true, "PA": true, "VT": true}
