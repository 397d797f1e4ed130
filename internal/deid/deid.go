package deid

import (
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lightbox/internal/dcm"
)

//go:embed table_e1_1.tsv
var tableTSV string

// Action is a Basic Profile action code (PS3.15 E.1.1) as the table gives
// it, e.g. "X", "Z/D", "X/Z/U*".
type Action string

// Rule is one row of Table E.1-1.
type Rule struct {
	Pattern string // eight hex digits; X matches any digit (50XX,XXXX)
	Action  Action
	Name    string
	mask    uint32 // bits that must match
	value   uint32
}

// Matches reports whether the rule applies to tag t.
func (r Rule) Matches(t dcm.Tag) bool { return uint32(t)&r.mask == r.value }

// Table is Table E.1-1, parsed once.
var Table = mustParse(tableTSV)

func mustParse(s string) []Rule {
	var out []Rule
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || len(f[0]) != 8 {
			panic("deid: bad table row " + line)
		}
		r := Rule{Pattern: f[0], Action: Action(f[1]), Name: f[2]}
		for i, c := range f[0] {
			sh := uint(28 - 4*i)
			if c == 'X' {
				continue
			}
			v, err := strconv.ParseUint(string(c), 16, 8)
			if err != nil {
				panic("deid: bad tag " + f[0])
			}
			r.mask |= 0xF << sh
			r.value |= uint32(v) << sh
		}
		out = append(out, r)
	}
	return out
}

var exact = func() map[dcm.Tag]Rule {
	m := map[dcm.Tag]Rule{}
	for _, r := range Table {
		if r.mask == 0xFFFFFFFF {
			m[dcm.Tag(r.value)] = r
		}
	}
	return m
}()

// Lookup returns the rule for t, if the table lists it.
func Lookup(t dcm.Tag) (Rule, bool) {
	if r, ok := exact[t]; ok {
		return r, true
	}
	for _, r := range Table {
		if r.mask != 0xFFFFFFFF && r.Matches(t) {
			return r, true
		}
	}
	return Rule{}, false
}

// ErrBurnedIn refuses an instance whose pixels carry burned-in annotation.
var ErrBurnedIn = errors.New("burned-in annotation: the pixel data may identify the patient")

// Burned-in annotation and the de-identification record (PS3.3 C.7.6.3, C.12.1).
const (
	TagBurnedInAnnotation     dcm.Tag = 0x00280301
	TagPatientIdentityRemoved dcm.Tag = 0x00120062
	TagDeidentificationMethod dcm.Tag = 0x00120063
)

// Method is the De-identification Method written into every output.
const Method = "DICOM PS3.15 E.2 Basic Application Level Confidentiality Profile (Lightbox)"

// Remapper replaces UIDs consistently: the same original UID always gets
// the same new one from the same Remapper (salted by Secret, so the new
// UIDs do not reveal the old ones to anyone without the secret).
type Remapper struct {
	Secret string
	seen   map[string]string
}

// UID returns the replacement for uid.
func (m *Remapper) UID(uid string) string {
	if m.seen == nil {
		m.seen = map[string]string{}
	}
	if n, ok := m.seen[uid]; ok {
		return n
	}
	n := dcm.DeterministicUID("deid:" + m.Secret + ":" + uid)
	m.seen[uid] = n
	return n
}

// Result describes one de-identified instance.
type Result struct {
	// BurnedInUnknown: the instance does not say whether it has burned-in
	// annotation (0028,0301 absent); a person should look before sharing.
	BurnedInUnknown bool
	Removed         int // attributes removed (table, private, curve/overlay)
	Replaced        int // attributes emptied or replaced
}

// Options tune the dummies.
type Options struct {
	// PatientName and PatientID replace (0010,0010) and (0010,0020)
	// (defaults "ANONYMOUS" and "ANON").
	PatientName, PatientID string
}

// Dataset de-identifies ds in place. It refuses burned-in annotation.
func Dataset(ds *dcm.Dataset, m *Remapper, o Options) (Result, error) {
	var res Result
	switch strings.ToUpper(ds.Str(TagBurnedInAnnotation)) {
	case "YES":
		return res, ErrBurnedIn
	case "":
		res.BurnedInUnknown = true
	}
	clean(ds, m, o, &res)
	ds.SetStr(TagPatientIdentityRemoved, "YES")
	ds.Put(dcm.StrElement(TagDeidentificationMethod, "LO", Method))
	return res, nil
}

func clean(ds *dcm.Dataset, m *Remapper, o Options, res *Result) {
	kept := ds.Elements[:0]
	for _, e := range ds.Elements {
		group := uint32(e.Tag) >> 16
		if group%2 == 1 {
			res.Removed++ // private attributes (E.3.10 would keep "safe" ones; the basic profile does not)
			continue
		}
		r, listed := Lookup(e.Tag)
		if !listed {
			for _, it := range e.Items {
				clean(it, m, o, res)
			}
			kept = append(kept, e)
			continue
		}
		switch pick(r.Action) {
		case 'X':
			res.Removed++
			continue
		case 'Z':
			if v := named(e.Tag, o); v != "" {
				*e = *dcm.StrElement(e.Tag, e.VR, v)
				break
			}
			e.Value, e.Items, e.Bulk, e.Encapsulated = nil, nil, nil, nil
			if e.VR == "SQ" {
				e.Items = []*dcm.Dataset{}
			}
		case 'U':
			if e.VR == "SQ" {
				for _, it := range e.Items {
					clean(it, m, o, res)
				}
				break
			}
			var out []string
			for _, u := range e.Strings() {
				if u != "" {
					out = append(out, m.UID(u))
				}
			}
			*e = *dcm.StrElement(e.Tag, "UI", out...)
		case 'D':
			dummy(e, m, o, res)
		}
		res.Replaced++
		kept = append(kept, e)
	}
	ds.Elements = kept
}

// pick chooses one action from a table entry: where the table leaves the
// choice to the IOD's attribute type (X/Z, X/D, Z/D, X/Z/D), the choice
// that keeps every IOD valid is taken (a dummy keeps a Type 1 attribute
// present; an empty value a Type 2 one). "U*" sequences keep their items
// with every UID in them replaced.
func pick(a Action) byte {
	s := string(a)
	switch {
	case strings.Contains(s, "U"):
		return 'U'
	case strings.Contains(s, "D"):
		return 'D'
	case strings.Contains(s, "Z"):
		return 'Z'
	case strings.Contains(s, "K"):
		return 'K'
	}
	return 'X'
}

// dummy replaces e's value with a non-empty value of its VR (action D).
func dummy(e *dcm.Element, m *Remapper, o Options, res *Result) {
	e.Bulk, e.Encapsulated = nil, nil
	var v string
	switch e.VR {
	case "SQ":
		for _, it := range e.Items {
			clean(it, m, o, res)
		}
		return
	case "PN":
		v = o.PatientName
		if v == "" || e.Tag != 0x00100010 {
			v = "ANONYMOUS"
		}
	case "DA":
		v = "19000101"
	case "TM":
		v = "000000"
	case "DT":
		v = "19000101000000"
	case "AS":
		v = "000Y"
	case "UI":
		u := strings.TrimRight(string(e.Value), "\x00 ")
		if u == "" {
			u = fmt.Sprint(e.Tag)
		}
		v = m.UID(u)
	case "DS", "IS":
		v = "0"
	case "US", "SS":
		e.Value = []byte{0, 0}
		return
	case "UL", "SL", "FL", "AT":
		e.Value = []byte{0, 0, 0, 0}
		return
	case "FD":
		e.Value = make([]byte, 8)
		return
	case "OB", "OW", "UN", "OF", "OD", "OL", "OV":
		e.Value = []byte{0, 0}
		return
	default:
		v = "ANON"
		if e.Tag == 0x00100020 && o.PatientID != "" {
			v = o.PatientID
		}
	}
	*e = *dcm.StrElement(e.Tag, e.VR, v)
}

// named is the caller's pseudonym for the patient's name or ID, which the
// profile empties (Z) but allows a dummy for: a teaching case keeps a label.
func named(t dcm.Tag, o Options) string {
	switch t {
	case 0x00100010:
		return o.PatientName
	case 0x00100020:
		return o.PatientID
	}
	return ""
}
