package hl7

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// rv reads decoded values out of one repetition.
type rv struct {
	r Repetition
	d Delimiters
}

func (v rv) sub(c, sc int) string {
	if c < 1 || c > len(v.r) || sc < 1 || sc > len(v.r[c-1]) {
		return ""
	}
	raw := v.r[c-1][sc-1]
	if raw == Null {
		return ""
	}
	return v.d.UnescapeValue(raw)
}

func (v rv) c(c int) string { return v.sub(c, 1) }

// hdSub reads an HD carried as subcomponents of component c.
func (v rv) hdSub(c int) HD {
	return HD{NamespaceID: v.sub(c, 1), UniversalID: v.sub(c, 2), UniversalIDType: v.sub(c, 3)}
}

func (v rv) empty() bool {
	for _, c := range v.r {
		for _, s := range c {
			if s != "" {
				return false
			}
		}
	}
	return true
}

// rb builds one repetition from plain values; empty values are skipped and
// trailing empties never written.
type rb struct {
	d Delimiters
	r Repetition
}

func (b *rb) sub(c, sc int, v string) *rb {
	if v == "" {
		return b
	}
	for len(b.r) < c {
		b.r = append(b.r, Component{""})
	}
	for len(b.r[c-1]) < sc {
		b.r[c-1] = append(b.r[c-1], "")
	}
	b.r[c-1][sc-1] = b.d.EscapeValue(v)
	return b
}

func (b *rb) c(c int, v string) *rb { return b.sub(c, 1, v) }

func (b *rb) hdSub(c int, h HD) *rb {
	return b.sub(c, 1, h.NamespaceID).sub(c, 2, h.UniversalID).sub(c, 3, h.UniversalIDType)
}

func (b *rb) rep() Repetition { return b.r }

// HD is a hierarchic designator (application, facility, assigning authority).
type HD struct {
	NamespaceID     string
	UniversalID     string
	UniversalIDType string
}

func (h HD) String() string { return h.NamespaceID }

func hdFrom(v rv) HD { return HD{v.c(1), v.c(2), v.c(3)} }
func (h HD) rep(d Delimiters) Repetition {
	return (&rb{d: d}).c(1, h.NamespaceID).c(2, h.UniversalID).c(3, h.UniversalIDType).rep()
}

// MSG is a message type (MSH-9): code, trigger event, structure.
type MSG struct {
	Code      string // e.g. "ORM"
	Trigger   string // e.g. "O01"
	Structure string // e.g. "ORM_O01" (2.3.1+)
}

func (t MSG) String() string {
	s := t.Code
	if t.Trigger != "" {
		s += "^" + t.Trigger
	}
	if t.Structure != "" {
		s += "^" + t.Structure
	}
	return s
}

// CE is a coded element; it also covers CWE/CNE (first six components).
type CE struct {
	Identifier      string
	Text            string
	CodingSystem    string
	AltIdentifier   string
	AltText         string
	AltCodingSystem string
}

func ceFrom(v rv) CE { return CE{v.c(1), v.c(2), v.c(3), v.c(4), v.c(5), v.c(6)} }
func (x CE) rep(d Delimiters) Repetition {
	return (&rb{d: d}).c(1, x.Identifier).c(2, x.Text).c(3, x.CodingSystem).c(4, x.AltIdentifier).c(5, x.AltText).c(6, x.AltCodingSystem).rep()
}

// IsZero reports whether nothing is set.
func (x CE) IsZero() bool { return x == CE{} }

// CX is an extended composite ID with check digit (patient identifiers).
type CX struct {
	ID                 string
	CheckDigit         string
	CheckDigitScheme   string
	AssigningAuthority HD // CX-4, as subcomponents
	IdentifierTypeCode string
	AssigningFacility  HD // CX-6, as subcomponents
}

func cxFrom(v rv) CX {
	return CX{v.c(1), v.c(2), v.c(3), v.hdSub(4), v.c(5), v.hdSub(6)}
}
func (x CX) rep(d Delimiters) Repetition {
	return (&rb{d: d}).c(1, x.ID).c(2, x.CheckDigit).c(3, x.CheckDigitScheme).hdSub(4, x.AssigningAuthority).
		c(5, x.IdentifierTypeCode).hdSub(6, x.AssigningFacility).rep()
}

// XPN is an extended person name.
type XPN struct {
	Family       string // XPN-1 (first subcomponent: surname)
	Given        string
	Middle       string // second and further given names or initials
	Suffix       string
	Prefix       string
	Degree       string
	NameTypeCode string // XPN-7, e.g. "L" legal
}

func xpnFrom(v rv) XPN {
	return XPN{v.c(1), v.c(2), v.c(3), v.c(4), v.c(5), v.c(6), v.c(7)}
}
func (x XPN) rep(d Delimiters) Repetition {
	return (&rb{d: d}).c(1, x.Family).c(2, x.Given).c(3, x.Middle).c(4, x.Suffix).c(5, x.Prefix).c(6, x.Degree).c(7, x.NameTypeCode).rep()
}

// XAD is an extended address.
type XAD struct {
	Street           string // XAD-1 (first subcomponent)
	OtherDesignation string
	City             string
	State            string // XAD-4 state or province
	Zip              string
	Country          string
	AddressType      string
	OtherGeographic  string
	County           string // XAD-9
}

func xadFrom(v rv) XAD {
	return XAD{v.c(1), v.c(2), v.c(3), v.c(4), v.c(5), v.c(6), v.c(7), v.c(8), v.c(9)}
}
func (x XAD) rep(d Delimiters) Repetition {
	return (&rb{d: d}).c(1, x.Street).c(2, x.OtherDesignation).c(3, x.City).c(4, x.State).c(5, x.Zip).
		c(6, x.Country).c(7, x.AddressType).c(8, x.OtherGeographic).c(9, x.County).rep()
}

// XTN is an extended telecommunication number.
type XTN struct {
	Number        string // XTN-1, formatted, e.g. "(555)555-0100" (what 2.3 senders use)
	UseCode       string // XTN-2, e.g. PRN, WPN
	EquipmentType string // XTN-3, e.g. PH, FX, CP, Internet
	Email         string // XTN-4
	CountryCode   string
	AreaCode      string
	LocalNumber   string
	Extension     string
	AnyText       string
}

func xtnFrom(v rv) XTN {
	return XTN{v.c(1), v.c(2), v.c(3), v.c(4), v.c(5), v.c(6), v.c(7), v.c(8), v.c(9)}
}
func (x XTN) rep(d Delimiters) Repetition {
	return (&rb{d: d}).c(1, x.Number).c(2, x.UseCode).c(3, x.EquipmentType).c(4, x.Email).c(5, x.CountryCode).
		c(6, x.AreaCode).c(7, x.LocalNumber).c(8, x.Extension).c(9, x.AnyText).rep()
}

// Best returns a printable phone number: XTN-1 if present, otherwise built
// from the country/area/local/extension components.
func (x XTN) Best() string {
	if x.Number != "" {
		return x.Number
	}
	var b strings.Builder
	if x.CountryCode != "" {
		b.WriteString("+" + x.CountryCode + " ")
	}
	if x.AreaCode != "" {
		b.WriteString("(" + x.AreaCode + ") ")
	}
	b.WriteString(x.LocalNumber)
	if x.Extension != "" {
		b.WriteString(" x" + x.Extension)
	}
	return strings.TrimSpace(b.String())
}

// XCN is an extended composite ID number and name for persons (providers).
type XCN struct {
	ID                 string
	Family             string
	Given              string
	Middle             string
	Suffix             string
	Prefix             string
	Degree             string
	SourceTable        string
	AssigningAuthority HD // XCN-9, as subcomponents
	NameTypeCode       string
	CheckDigit         string
	CheckDigitScheme   string
	IdentifierTypeCode string // XCN-13, e.g. NPI
	AssigningFacility  HD     // XCN-14, as subcomponents
}

func xcnFrom(v rv) XCN {
	return XCN{v.c(1), v.c(2), v.c(3), v.c(4), v.c(5), v.c(6), v.c(7), v.c(8), v.hdSub(9), v.c(10), v.c(11), v.c(12), v.c(13), v.hdSub(14)}
}
func (x XCN) rep(d Delimiters) Repetition {
	return (&rb{d: d}).c(1, x.ID).c(2, x.Family).c(3, x.Given).c(4, x.Middle).c(5, x.Suffix).c(6, x.Prefix).
		c(7, x.Degree).c(8, x.SourceTable).hdSub(9, x.AssigningAuthority).c(10, x.NameTypeCode).c(11, x.CheckDigit).
		c(12, x.CheckDigitScheme).c(13, x.IdentifierTypeCode).hdSub(14, x.AssigningFacility).rep()
}

// CNN is a composite ID number and name carried as subcomponents (NDL-1).
type CNN struct {
	ID, Family, Given, Middle, Suffix, Prefix, Degree, SourceTable string
	AssigningAuthority                                             HD // CNN-9..11
}

// NDL is a name with date and location (OBR-32..35).
type NDL struct {
	Name        CNN
	Start, End  Time
	PointOfCare string
	Room        string
	Bed         string
	Facility    HD // NDL-7, as subcomponents
}

func ndlFrom(v rv) (NDL, error) {
	n := NDL{Name: CNN{v.sub(1, 1), v.sub(1, 2), v.sub(1, 3), v.sub(1, 4), v.sub(1, 5), v.sub(1, 6), v.sub(1, 7), v.sub(1, 8),
		HD{v.sub(1, 9), v.sub(1, 10), v.sub(1, 11)}}, PointOfCare: v.c(4), Room: v.c(5), Bed: v.c(6), Facility: v.hdSub(7)}
	var err error
	if n.Start, err = ParseTime(v.c(2)); err != nil {
		return n, &Error{Code: CodeDataType, Component: 2, Message: "invalid date/time", Err: err}
	}
	if n.End, err = ParseTime(v.c(3)); err != nil {
		return n, &Error{Code: CodeDataType, Component: 3, Message: "invalid date/time", Err: err}
	}
	return n, nil
}

func (x NDL) rep(d Delimiters) Repetition {
	b := &rb{d: d}
	for i, s := range []string{x.Name.ID, x.Name.Family, x.Name.Given, x.Name.Middle, x.Name.Suffix, x.Name.Prefix,
		x.Name.Degree, x.Name.SourceTable, x.Name.AssigningAuthority.NamespaceID, x.Name.AssigningAuthority.UniversalID,
		x.Name.AssigningAuthority.UniversalIDType} {
		b.sub(1, i+1, s)
	}
	return b.c(2, x.Start.String()).c(3, x.End.String()).c(4, x.PointOfCare).c(5, x.Room).c(6, x.Bed).hdSub(7, x.Facility).rep()
}

// EI is an entity identifier (order numbers, accession, study UID).
type EI struct {
	EntityID        string
	NamespaceID     string
	UniversalID     string
	UniversalIDType string
}

func eiFrom(v rv) EI { return EI{v.c(1), v.c(2), v.c(3), v.c(4)} }
func (x EI) rep(d Delimiters) Repetition {
	return (&rb{d: d}).c(1, x.EntityID).c(2, x.NamespaceID).c(3, x.UniversalID).c(4, x.UniversalIDType).rep()
}

// PL is a person location.
type PL struct {
	PointOfCare        string
	Room               string
	Bed                string
	Facility           HD // PL-4, as subcomponents
	LocationStatus     string
	PersonLocationType string
	Building           string
	Floor              string
	Description        string
}

func plFrom(v rv) PL {
	return PL{v.c(1), v.c(2), v.c(3), v.hdSub(4), v.c(5), v.c(6), v.c(7), v.c(8), v.c(9)}
}
func (x PL) rep(d Delimiters) Repetition {
	return (&rb{d: d}).c(1, x.PointOfCare).c(2, x.Room).c(3, x.Bed).hdSub(4, x.Facility).c(5, x.LocationStatus).
		c(6, x.PersonLocationType).c(7, x.Building).c(8, x.Floor).c(9, x.Description).rep()
}

// XON is an extended composite name and ID for organizations.
type XON struct {
	Name                   string
	TypeCode               string
	IDNumber               string // XON-3 (deprecated in 2.5 in favour of XON-10)
	AssigningAuthority     HD     // XON-6, as subcomponents
	IdentifierTypeCode     string // XON-7
	OrganizationIdentifier string // XON-10
}

func xonFrom(v rv) XON {
	return XON{v.c(1), v.c(2), v.c(3), v.hdSub(6), v.c(7), v.c(10)}
}
func (x XON) rep(d Delimiters) Repetition {
	return (&rb{d: d}).c(1, x.Name).c(2, x.TypeCode).c(3, x.IDNumber).hdSub(6, x.AssigningAuthority).
		c(7, x.IdentifierTypeCode).c(10, x.OrganizationIdentifier).rep()
}

// TQ is the quantity/timing composite of ORC-7 / OBR-27 (2.3–2.4 style,
// deprecated in 2.5 in favour of TQ1).
type TQ struct {
	Quantity  string // TQ-1 (first component of CQ)
	Interval  string // TQ-2 (first component of RI)
	Duration  string
	Start     Time // TQ-4
	End       Time // TQ-5
	Priority  string
	Condition string
	Text      string
}

func tqFrom(v rv) (TQ, error) {
	t := TQ{Quantity: v.c(1), Interval: v.c(2), Duration: v.c(3), Priority: v.c(6), Condition: v.c(7), Text: v.c(8)}
	var err error
	if t.Start, err = ParseTime(v.c(4)); err != nil {
		return t, &Error{Code: CodeDataType, Component: 4, Message: "invalid date/time", Err: err}
	}
	if t.End, err = ParseTime(v.c(5)); err != nil {
		return t, &Error{Code: CodeDataType, Component: 5, Message: "invalid date/time", Err: err}
	}
	return t, nil
}

func (x TQ) rep(d Delimiters) Repetition {
	return (&rb{d: d}).c(1, x.Quantity).c(2, x.Interval).c(3, x.Duration).c(4, x.Start.String()).c(5, x.End.String()).
		c(6, x.Priority).c(7, x.Condition).c(8, x.Text).rep()
}

// ED is encapsulated data (OBX-5 when OBX-2 is "ED"), e.g. a PDF report.
type ED struct {
	SourceApplication HD     // ED-1, as subcomponents
	TypeOfData        string // ED-2, e.g. "application", "AP"
	DataSubtype       string // ED-3, e.g. "pdf", "PDF"
	Encoding          string // ED-4: "A" (ASCII), "Hex", "Base64"
	Data              string // ED-5, still encoded as per Encoding
}

// NewEDBase64 returns an ED carrying data as Base64.
func NewEDBase64(typeOfData, subtype string, data []byte) ED {
	return ED{TypeOfData: typeOfData, DataSubtype: subtype, Encoding: "Base64", Data: base64.StdEncoding.EncodeToString(data)}
}

// Bytes decodes Data according to Encoding. Whitespace and line breaks
// inside Base64/Hex data are ignored.
func (x ED) Bytes() ([]byte, error) {
	switch strings.ToUpper(x.Encoding) {
	case "BASE64":
		clean := strings.Map(dropSpace, x.Data)
		b, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			// Some senders omit padding.
			if b2, err2 := base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "=")); err2 == nil {
				return b2, nil
			}
			return nil, fmt.Errorf("hl7: ED base64: %w", err)
		}
		return b, nil
	case "HEX":
		b, err := hex.DecodeString(strings.Map(dropSpace, x.Data))
		if err != nil {
			return nil, fmt.Errorf("hl7: ED hex: %w", err)
		}
		return b, nil
	case "A", "":
		return []byte(x.Data), nil
	}
	return nil, fmt.Errorf("hl7: ED: unsupported encoding %q", x.Encoding)
}

func dropSpace(r rune) rune {
	if r == ' ' || r == '\r' || r == '\n' || r == '\t' {
		return -1
	}
	return r
}

func edFrom(v rv) ED {
	return ED{v.hdSub(1), v.c(2), v.c(3), v.c(4), v.c(5)}
}
func (x ED) rep(d Delimiters) Repetition {
	return (&rb{d: d}).hdSub(1, x.SourceApplication).c(2, x.TypeOfData).c(3, x.DataSubtype).c(4, x.Encoding).c(5, x.Data).rep()
}
