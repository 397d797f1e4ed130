package gen

import (
	"fmt"
	"time"
)

// Patient is one entry of the fixed roster of obviously fake patients.
type Patient struct {
	Index     int       // position in the roster
	Name      string    // DICOM PN, e.g. "TESTPATIENT^ALPHA"
	ID        string    // e.g. "LBX000100"
	BirthDate time.Time // UTC midnight
	Sex       string    // "F" or "M"
}

// Family names are deliberately not names: nobody can mistake the data for
// a real person's.
func rosterFamily() [5]string {
	return [...]string{"TESTPATIENT", "DEMO", "PHANTOM", "SYNTHETIC", "FAKE"}
}

func rosterGiven() [26]string {
	return [...]string{
		"ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL",
		"INDIA", "JULIETT", "KILO", "LIMA", "MIKE", "NOVEMBER", "OSCAR", "PAPA",
		"QUEBEC", "ROMEO", "SIERRA", "TANGO", "UNIFORM", "VICTOR", "WHISKEY",
		"XRAY", "YANKEE", "ZULU",
	}
}

// Roster returns patient i (i >= 0) of the fixed roster. The same index is
// the same person in every run, whatever the seed, so generated studies of
// one patient from several runs line up as priors. Names pair a fake
// family name with a NATO word (TESTPATIENT^ALPHA, DEMO^BRAVO, ...); IDs
// are LBX000100 + i.
func Roster(i int) Patient {
	if i < 0 {
		i = -i
	}
	givens, families := rosterGiven(), rosterFamily()
	given := givens[i%len(givens)]
	if n := i / (len(givens) * len(families)); n > 0 {
		given = fmt.Sprintf("%s%d", given, n+1)
	}
	sex := "F"
	if i%2 == 1 {
		sex = "M"
	}
	h := mix(uint64(i) + 0x5eed)
	birth := time.Date(1940+int(h%60), time.Month(1+(h>>8)%12), 1+int((h>>16)%28), 0, 0, 0, 0, time.UTC)
	return Patient{
		Index:     i,
		Name:      families[i%len(families)] + "^" + given,
		ID:        fmt.Sprintf("LBX%06d", 100+i),
		BirthDate: birth,
		Sex:       sex,
	}
}

// mix is the splitmix64 finaliser: a cheap, well-spread hash of an integer.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
