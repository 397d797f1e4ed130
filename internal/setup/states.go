package setup

import "strings"

// usStates are the postal codes of the jurisdictions that license
// physicians: the 50 states, DC and the territories.
var usStates = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields(`AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY
		NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI`) {
		m[s] = true
	}
	return m
}()

// validState reports whether s is a US state or territory postal code.
func validState(s string) bool { return usStates[s] }
