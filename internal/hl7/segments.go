package hl7

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// Decoder is implemented by the typed segments (pointer receivers).
type Decoder interface {
	SegmentID() string
	Decode(s *Segment) error
}

// Encoder is implemented by the typed segments (value receivers).
type Encoder interface {
	SegmentID() string
	Encode(s *Segment)
}

// Add appends a new segment encoded from x and returns it.
func (m *Message) Add(x Encoder) *Segment {
	s := m.AddSegment(x.SegmentID())
	x.Encode(s)
	return s
}

// DecodeFirst decodes the first segment of x's type into x. It returns an
// *Error with code 101 (required segment missing) when there is none.
func (m *Message) DecodeFirst(x Decoder) error {
	s := m.Segment(x.SegmentID())
	if s == nil {
		return &Error{Code: CodeSegmentSequence, Segment: x.SegmentID(), Message: "required segment " + x.SegmentID() + " missing"}
	}
	return x.Decode(s)
}

// dec reads typed fields and remembers the first error.
type dec struct {
	s   *Segment
	err *Error
}

func (x *dec) reps(f int) []rv {
	fld := x.s.Field(f)
	out := make([]rv, 0, len(fld))
	for _, r := range fld {
		v := rv{r, x.s.d}
		if !v.empty() && !(len(r) == 1 && len(r[0]) == 1 && r[0][0] == Null) {
			out = append(out, v)
		}
	}
	return out
}

func (x *dec) rep(f int) rv {
	fld := x.s.Field(f)
	if len(fld) == 0 {
		return rv{d: x.s.d}
	}
	return rv{fld[0], x.s.d}
}

func (x *dec) str(f int) string { return x.rep(f).c(1) }

func (x *dec) time(f int) Time {
	t, err := ParseTime(x.rep(f).c(1))
	if err != nil {
		x.fail(&Error{Code: CodeDataType, Field: f, Component: 1, Message: "invalid date/time", Err: err})
	}
	return t
}

func (x *dec) fail(e *Error) {
	if x.err != nil {
		return
	}
	e.Segment, e.SegmentSeq = x.s.Name, x.s.seq
	x.err = e
}

func (x *dec) failAt(f, rep int, err error) {
	if err == nil {
		return
	}
	e := AsError(err)
	e.Field, e.Repetition = f, rep
	x.fail(e)
}

func (x *dec) result() error {
	if x.err == nil {
		return nil
	}
	return x.err
}

func list[T any](x *dec, f int, conv func(rv) T) []T {
	var out []T
	for _, v := range x.reps(f) {
		out = append(out, conv(v))
	}
	return out
}

func strs(x *dec, f int) []string { return list(x, f, func(v rv) string { return v.c(1) }) }

// enc writes typed fields, replacing them entirely.
type enc struct{ s *Segment }

func (e enc) str(f int, v string) {
	if v == "" {
		e.s.SetField(f, nil)
		return
	}
	e.s.SetField(f, Field{{{e.s.d.EscapeValue(v)}}})
}

func (e enc) one(f int, r Repetition) {
	if len(r) == 0 {
		e.s.SetField(f, nil)
		return
	}
	e.s.SetField(f, Field{r})
}

func (e enc) strs(f int, vs []string) {
	var fld Field
	for _, v := range vs {
		fld = append(fld, Repetition{{e.s.d.EscapeValue(v)}})
	}
	e.s.SetField(f, fld)
}

func many[T any](e enc, f int, xs []T, conv func(T, Delimiters) Repetition) {
	var fld Field
	for _, x := range xs {
		fld = append(fld, conv(x, e.s.d))
	}
	e.s.SetField(f, fld)
}

// fieldCodec reads (x set) or writes (e set) the fields of one segment: a
// segment lists its fields once, by position (HL7 v2 chapter 2 sequence
// numbers), in a fields method that serves Decode and Encode alike.
type fieldCodec struct {
	x *dec
	e *enc
}

func fStr(c fieldCodec, f int, p *string) {
	if c.x != nil {
		*p = c.x.str(f)
	} else {
		c.e.str(f, *p)
	}
}

func fStrs(c fieldCodec, f int, p *[]string) {
	if c.x != nil {
		*p = strs(c.x, f)
	} else {
		c.e.strs(f, *p)
	}
}

func fTime(c fieldCodec, f int, p *Time) {
	if c.x != nil {
		*p = c.x.time(f)
	} else {
		c.e.str(f, p.String())
	}
}

func fOne[T any](c fieldCodec, f int, p *T, from func(rv) T, to func(T, Delimiters) Repetition) {
	if c.x != nil {
		*p = from(c.x.rep(f))
	} else {
		c.e.one(f, to(*p, c.e.s.d))
	}
}

func fList[T any](c fieldCodec, f int, p *[]T, from func(rv) T, to func(T, Delimiters) Repetition) {
	if c.x != nil {
		*p = list(c.x, f, from)
	} else {
		many(*c.e, f, *p, to)
	}
}

// fOneE is fOne for a data type whose decoding can fail (TQ): the failure
// is reported at the field's first repetition.
func fOneE[T any](c fieldCodec, f int, p *T, from func(rv) (T, error), to func(T, Delimiters) Repetition) {
	if c.x == nil {
		c.e.one(f, to(*p, c.e.s.d))
		return
	}
	v, err := from(c.x.rep(f))
	c.x.failAt(f, 1, err)
	*p = v
}

// fListE is fList for a data type whose decoding can fail (TQ, NDL).
func fListE[T any](c fieldCodec, f int, p *[]T, from func(rv) (T, error), to func(T, Delimiters) Repetition) {
	if c.x == nil {
		many(*c.e, f, *p, to)
		return
	}
	*p = listE(c.x, f, from)
}

// fFirstE reads one value from the first repetition that holds one (every
// repetition is checked) and writes it as the only repetition.
func fFirstE[T any](c fieldCodec, f int, p *T, from func(rv) (T, error), to func(T, Delimiters) Repetition) {
	if c.x == nil {
		c.e.one(f, to(*p, c.e.s.d))
		return
	}
	var zero T
	*p = zero
	if l := listE(c.x, f, from); len(l) > 0 {
		*p = l[0]
	}
}

func listE[T any](x *dec, f int, conv func(rv) (T, error)) []T {
	var out []T
	for i, v := range x.reps(f) {
		t, err := conv(v)
		x.failAt(f, i+1, err)
		out = append(out, t)
	}
	return out
}

// decodeFields reads s through fields.
func decodeFields(s *Segment, fields func(fieldCodec)) error {
	x := &dec{s: s}
	fields(fieldCodec{x: x})
	return x.result()
}

// encodeFields writes s through fields.
func encodeFields(s *Segment, fields func(fieldCodec)) {
	fields(fieldCodec{e: &enc{s}})
}

// ---------------------------------------------------------------- MSH

// MSH is the message header.
type MSH struct {
	SendingApplication   HD   // MSH-3
	SendingFacility      HD   // MSH-4
	ReceivingApplication HD   // MSH-5
	ReceivingFacility    HD   // MSH-6
	DateTime             Time // MSH-7
	Security             string
	MessageType          MSG    // MSH-9
	ControlID            string // MSH-10
	ProcessingID         string // MSH-11-1: P, D, T
	ProcessingMode       string // MSH-11-2
	Version              string // MSH-12-1, e.g. "2.5.1"
	SequenceNumber       string // MSH-13
	AcceptAckType        string // MSH-15: AL, NE, ER, SU
	ApplicationAckType   string // MSH-16
	Country              string // MSH-17
	CharacterSets        []string
	MessageProfiles      []EI // MSH-21
}

// SegmentID implements Decoder/Encoder.
func (MSH) SegmentID() string { return "MSH" }

// Decode implements Decoder.
func (h *MSH) Decode(s *Segment) error {
	x := &dec{s: s}
	h.SendingApplication = hdFrom(x.rep(3))
	h.SendingFacility = hdFrom(x.rep(4))
	h.ReceivingApplication = hdFrom(x.rep(5))
	h.ReceivingFacility = hdFrom(x.rep(6))
	h.DateTime = x.time(7)
	h.Security = x.str(8)
	t := x.rep(9)
	h.MessageType = MSG{t.c(1), t.c(2), t.c(3)}
	h.ControlID = x.str(10)
	h.ProcessingID, h.ProcessingMode = x.rep(11).c(1), x.rep(11).c(2)
	h.Version = x.str(12)
	h.SequenceNumber = x.str(13)
	h.AcceptAckType = x.str(15)
	h.ApplicationAckType = x.str(16)
	h.Country = x.str(17)
	h.CharacterSets = strs(x, 18)
	h.MessageProfiles = list(x, 21, eiFrom)
	return x.result()
}

// Encode implements Encoder.
func (h MSH) Encode(s *Segment) {
	e := enc{s}
	d := s.d
	e.one(3, h.SendingApplication.rep(d))
	e.one(4, h.SendingFacility.rep(d))
	e.one(5, h.ReceivingApplication.rep(d))
	e.one(6, h.ReceivingFacility.rep(d))
	e.str(7, h.DateTime.String())
	e.str(8, h.Security)
	e.one(9, (&rb{d: d}).c(1, h.MessageType.Code).c(2, h.MessageType.Trigger).c(3, h.MessageType.Structure).rep())
	e.str(10, h.ControlID)
	e.one(11, (&rb{d: d}).c(1, h.ProcessingID).c(2, h.ProcessingMode).rep())
	e.str(12, h.Version)
	e.str(13, h.SequenceNumber)
	e.str(15, h.AcceptAckType)
	e.str(16, h.ApplicationAckType)
	e.str(17, h.Country)
	e.strs(18, h.CharacterSets)
	many(e, 21, h.MessageProfiles, EI.rep)
}

// MSH decodes the message header.
func (m *Message) MSH() (MSH, error) {
	var h MSH
	return h, m.DecodeFirst(&h)
}

// NewControlID returns a random 20-character control ID.
func NewControlID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// fillHeader sets the defaults a sent message needs.
func fillHeader(h *MSH) {
	if h.DateTime.IsZero() {
		h.DateTime = NewTime(time.Now(), PrecisionSecond)
	}
	if h.ControlID == "" {
		h.ControlID = NewControlID()
	}
	if h.ProcessingID == "" {
		h.ProcessingID = "P"
	}
	if h.Version == "" {
		h.Version = "2.5.1"
	}
}

// ---------------------------------------------------------------- EVN

// EVN is the event type segment (ADT).
type EVN struct {
	EventTypeCode    string // EVN-1 (2.3–2.4)
	RecordedDateTime Time   // EVN-2
	PlannedDateTime  Time   // EVN-3
	EventReasonCode  string // EVN-4
	Operators        []XCN  // EVN-5
	EventOccurred    Time   // EVN-6
	EventFacility    HD     // EVN-7
}

// SegmentID implements Decoder/Encoder.
func (EVN) SegmentID() string { return "EVN" }

// fields lists the fields of EVN this package reads and writes.
func (v *EVN) fields(c fieldCodec) {
	fStr(c, 1, &v.EventTypeCode)
	fTime(c, 2, &v.RecordedDateTime)
	fTime(c, 3, &v.PlannedDateTime)
	fStr(c, 4, &v.EventReasonCode)
	fList(c, 5, &v.Operators, xcnFrom, XCN.rep)
	fTime(c, 6, &v.EventOccurred)
	fOne(c, 7, &v.EventFacility, hdFrom, HD.rep)
}

// Decode implements Decoder.
func (v *EVN) Decode(s *Segment) error { return decodeFields(s, v.fields) }

// Encode implements Encoder.
func (v EVN) Encode(s *Segment) { encodeFields(s, v.fields) }

// ---------------------------------------------------------------- PID

// PID is the patient identification segment.
type PID struct {
	SetID             string
	PatientID         CX    // PID-2 (external ID; deprecated after 2.3)
	Identifiers       []CX  // PID-3
	AlternateIDs      []CX  // PID-4
	Names             []XPN // PID-5
	MothersMaidenName []XPN // PID-6
	DateOfBirth       Time  // PID-7
	Sex               string
	Race              []CE  // PID-10
	Addresses         []XAD // PID-11
	CountyCode        string
	HomePhones        []XTN // PID-13
	BusinessPhones    []XTN // PID-14
	PrimaryLanguage   CE    // PID-15
	MaritalStatus     CE    // PID-16
	AccountNumber     CX    // PID-18
	SSN               string
	DeathDateTime     Time   // PID-29
	DeathIndicator    string // PID-30
}

// SegmentID implements Decoder/Encoder.
func (PID) SegmentID() string { return "PID" }

// fields lists the fields of PID this package reads and writes.
func (p *PID) fields(c fieldCodec) {
	fStr(c, 1, &p.SetID)
	fOne(c, 2, &p.PatientID, cxFrom, CX.rep)
	fList(c, 3, &p.Identifiers, cxFrom, CX.rep)
	fList(c, 4, &p.AlternateIDs, cxFrom, CX.rep)
	fList(c, 5, &p.Names, xpnFrom, XPN.rep)
	fList(c, 6, &p.MothersMaidenName, xpnFrom, XPN.rep)
	fTime(c, 7, &p.DateOfBirth)
	fStr(c, 8, &p.Sex)
	fList(c, 10, &p.Race, ceFrom, CE.rep)
	fList(c, 11, &p.Addresses, xadFrom, XAD.rep)
	fStr(c, 12, &p.CountyCode)
	fList(c, 13, &p.HomePhones, xtnFrom, XTN.rep)
	fList(c, 14, &p.BusinessPhones, xtnFrom, XTN.rep)
	fOne(c, 15, &p.PrimaryLanguage, ceFrom, CE.rep)
	fOne(c, 16, &p.MaritalStatus, ceFrom, CE.rep)
	fOne(c, 18, &p.AccountNumber, cxFrom, CX.rep)
	fStr(c, 19, &p.SSN)
	fTime(c, 29, &p.DeathDateTime)
	fStr(c, 30, &p.DeathIndicator)
}

// Decode implements Decoder.
func (p *PID) Decode(s *Segment) error { return decodeFields(s, p.fields) }

// Encode implements Encoder.
func (p PID) Encode(s *Segment) { encodeFields(s, p.fields) }

// Name returns the first patient name (PID-5(1)).
func (p PID) Name() XPN {
	if len(p.Names) == 0 {
		return XPN{}
	}
	return p.Names[0]
}

// Identifier returns the first PID-3 identifier whose assigning authority
// namespace and identifier type code match ("" matches anything).
func (p PID) Identifier(authority, typeCode string) (CX, bool) {
	for _, id := range p.Identifiers {
		if (authority == "" || id.AssigningAuthority.NamespaceID == authority) &&
			(typeCode == "" || id.IdentifierTypeCode == typeCode) {
			return id, true
		}
	}
	return CX{}, false
}

// ---------------------------------------------------------------- PV1

// PV1 is the patient visit segment.
type PV1 struct {
	SetID             string
	PatientClass      string // PV1-2: E, I, O, P, R, B, …
	AssignedLocation  PL     // PV1-3
	AdmissionType     string
	AttendingDoctors  []XCN // PV1-7
	ReferringDoctors  []XCN // PV1-8
	ConsultingDoctors []XCN // PV1-9
	HospitalService   string
	AdmittingDoctors  []XCN // PV1-17
	PatientType       string
	VisitNumber       CX     // PV1-19
	FinancialClass    string // PV1-20-1
	AdmitDateTime     Time   // PV1-44
	DischargeDateTime Time   // PV1-45
}

// SegmentID implements Decoder/Encoder.
func (PV1) SegmentID() string { return "PV1" }

// fields lists the fields of PV1 this package reads and writes.
func (v *PV1) fields(c fieldCodec) {
	fStr(c, 1, &v.SetID)
	fStr(c, 2, &v.PatientClass)
	fOne(c, 3, &v.AssignedLocation, plFrom, PL.rep)
	fStr(c, 4, &v.AdmissionType)
	fList(c, 7, &v.AttendingDoctors, xcnFrom, XCN.rep)
	fList(c, 8, &v.ReferringDoctors, xcnFrom, XCN.rep)
	fList(c, 9, &v.ConsultingDoctors, xcnFrom, XCN.rep)
	fStr(c, 10, &v.HospitalService)
	fList(c, 17, &v.AdmittingDoctors, xcnFrom, XCN.rep)
	fStr(c, 18, &v.PatientType)
	fOne(c, 19, &v.VisitNumber, cxFrom, CX.rep)
	fStr(c, 20, &v.FinancialClass)
	fTime(c, 44, &v.AdmitDateTime)
	fTime(c, 45, &v.DischargeDateTime)
}

// Decode implements Decoder.
func (v *PV1) Decode(s *Segment) error { return decodeFields(s, v.fields) }

// Encode implements Encoder.
func (v PV1) Encode(s *Segment) { encodeFields(s, v.fields) }

// ---------------------------------------------------------------- ORC

// Order control codes (table 0119) Lightbox meets most.
const (
	OrderNew             = "NW" // new order
	OrderOK              = "OK" // order accepted
	OrderUnableToAccept  = "UA"
	OrderCancel          = "CA" // cancel request
	OrderCanceled        = "CR" // canceled as requested
	OrderUnableToCancel  = "UC"
	OrderDiscontinue     = "DC" // discontinue request
	OrderDiscontinued    = "DR"
	OrderChange          = "XO" // change request
	OrderChanged         = "XR"
	OrderUnableToChange  = "UX"
	OrderHold            = "HD" // hold request
	OrderHeld            = "HR"
	OrderRelease         = "RL" // release previous hold
	OrderReleased        = "OR"
	OrderStatusChanged   = "SC" // status changed
	OrderStatusRequest   = "SR" // status request
	OrderNumberAssigned  = "NA"
	OrderReplace         = "RP"
	OrderReplaceUnsolic  = "RU"
	OrderObservationsFol = "RE" // observations to follow
)

// ORC is the common order segment.
type ORC struct {
	OrderControl         string // ORC-1, see the Order* constants
	PlacerOrderNumber    EI     // ORC-2
	FillerOrderNumber    EI     // ORC-3
	PlacerGroupNumber    EI     // ORC-4
	OrderStatus          string // ORC-5 (table 0038: A, CA, CM, DC, ER, HD, IP, RP, SC)
	ResponseFlag         string // ORC-6
	QuantityTiming       TQ     // ORC-7 (first repetition); priority is ORC-7-6
	TransactionDateTime  Time   // ORC-9
	EnteredBy            []XCN  // ORC-10
	VerifiedBy           []XCN  // ORC-11
	OrderingProviders    []XCN  // ORC-12
	EntererLocation      PL     // ORC-13
	CallbackPhones       []XTN  // ORC-14
	EffectiveDateTime    Time   // ORC-15
	ControlCodeReason    CE     // ORC-16
	EnteringOrganization CE     // ORC-17
	EnteringDevice       CE     // ORC-18
	ActionBy             []XCN  // ORC-19
	OrderingFacility     []XON  // ORC-21
	FacilityAddresses    []XAD  // ORC-22
	FacilityPhones       []XTN  // ORC-23
	ProviderAddresses    []XAD  // ORC-24
}

// SegmentID implements Decoder/Encoder.
func (ORC) SegmentID() string { return "ORC" }

// fields lists the fields of ORC this package reads and writes.
func (o *ORC) fields(c fieldCodec) {
	fStr(c, 1, &o.OrderControl)
	fOne(c, 2, &o.PlacerOrderNumber, eiFrom, EI.rep)
	fOne(c, 3, &o.FillerOrderNumber, eiFrom, EI.rep)
	fOne(c, 4, &o.PlacerGroupNumber, eiFrom, EI.rep)
	fStr(c, 5, &o.OrderStatus)
	fStr(c, 6, &o.ResponseFlag)
	fOneE(c, 7, &o.QuantityTiming, tqFrom, TQ.rep)
	fTime(c, 9, &o.TransactionDateTime)
	fList(c, 10, &o.EnteredBy, xcnFrom, XCN.rep)
	fList(c, 11, &o.VerifiedBy, xcnFrom, XCN.rep)
	fList(c, 12, &o.OrderingProviders, xcnFrom, XCN.rep)
	fOne(c, 13, &o.EntererLocation, plFrom, PL.rep)
	fList(c, 14, &o.CallbackPhones, xtnFrom, XTN.rep)
	fTime(c, 15, &o.EffectiveDateTime)
	fOne(c, 16, &o.ControlCodeReason, ceFrom, CE.rep)
	fOne(c, 17, &o.EnteringOrganization, ceFrom, CE.rep)
	fOne(c, 18, &o.EnteringDevice, ceFrom, CE.rep)
	fList(c, 19, &o.ActionBy, xcnFrom, XCN.rep)
	fList(c, 21, &o.OrderingFacility, xonFrom, XON.rep)
	fList(c, 22, &o.FacilityAddresses, xadFrom, XAD.rep)
	fList(c, 23, &o.FacilityPhones, xtnFrom, XTN.rep)
	fList(c, 24, &o.ProviderAddresses, xadFrom, XAD.rep)
}

// Decode implements Decoder.
func (o *ORC) Decode(s *Segment) error { return decodeFields(s, o.fields) }

// Encode implements Encoder.
func (o ORC) Encode(s *Segment) { encodeFields(s, o.fields) }

// ---------------------------------------------------------------- OBR

// OBR is the observation request segment.
type OBR struct {
	SetID                       string
	PlacerOrderNumber           EI     // OBR-2
	FillerOrderNumber           EI     // OBR-3
	UniversalServiceID          CE     // OBR-4 (CE/CWE): procedure code^text^coding system
	Priority                    string // OBR-5 (2.3; deprecated later)
	RequestedDateTime           Time   // OBR-6
	ObservationDateTime         Time   // OBR-7
	ObservationEndDateTime      Time   // OBR-8
	SpecimenActionCode          string // OBR-11
	DangerCode                  CE     // OBR-12
	RelevantClinicalInfo        string // OBR-13
	OrderingProviders           []XCN  // OBR-16
	CallbackPhones              []XTN  // OBR-17
	PlacerField1                string // OBR-18, often the accession number
	PlacerField2                string // OBR-19
	FillerField1                string // OBR-20
	FillerField2                string // OBR-21
	ResultsStatusChangeDateTime Time   // OBR-22
	DiagnosticServSectID        string // OBR-24, e.g. RAD, CT, MR
	ResultStatus                string // OBR-25: O, I, S, A, P, C, R, F, X
	QuantityTiming              []TQ   // OBR-27; priority is OBR-27-6
	ResultCopiesTo              []XCN  // OBR-28
	TransportationMode          string // OBR-30
	ReasonForStudy              []CE   // OBR-31
	PrincipalResultInterpreter  NDL    // OBR-32
	AssistantResultInterpreters []NDL  // OBR-33
	Technicians                 []NDL  // OBR-34
	Transcriptionists           []NDL  // OBR-35
	ScheduledDateTime           Time   // OBR-36
	ProcedureCode               CE     // OBR-44
	ProcedureCodeModifiers      []CE   // OBR-45
}

// SegmentID implements Decoder/Encoder.
func (OBR) SegmentID() string { return "OBR" }

// fields lists the fields of OBR this package reads and writes.
func (o *OBR) fields(c fieldCodec) {
	fStr(c, 1, &o.SetID)
	fOne(c, 2, &o.PlacerOrderNumber, eiFrom, EI.rep)
	fOne(c, 3, &o.FillerOrderNumber, eiFrom, EI.rep)
	fOne(c, 4, &o.UniversalServiceID, ceFrom, CE.rep)
	fStr(c, 5, &o.Priority)
	fTime(c, 6, &o.RequestedDateTime)
	fTime(c, 7, &o.ObservationDateTime)
	fTime(c, 8, &o.ObservationEndDateTime)
	fStr(c, 11, &o.SpecimenActionCode)
	fOne(c, 12, &o.DangerCode, ceFrom, CE.rep)
	fStr(c, 13, &o.RelevantClinicalInfo)
	fList(c, 16, &o.OrderingProviders, xcnFrom, XCN.rep)
	fList(c, 17, &o.CallbackPhones, xtnFrom, XTN.rep)
	fStr(c, 18, &o.PlacerField1)
	fStr(c, 19, &o.PlacerField2)
	fStr(c, 20, &o.FillerField1)
	fStr(c, 21, &o.FillerField2)
	fTime(c, 22, &o.ResultsStatusChangeDateTime)
	fStr(c, 24, &o.DiagnosticServSectID)
	fStr(c, 25, &o.ResultStatus)
	fListE(c, 27, &o.QuantityTiming, tqFrom, TQ.rep)
	fList(c, 28, &o.ResultCopiesTo, xcnFrom, XCN.rep)
	fStr(c, 30, &o.TransportationMode)
	fList(c, 31, &o.ReasonForStudy, ceFrom, CE.rep)
	fFirstE(c, 32, &o.PrincipalResultInterpreter, ndlFrom, NDL.rep)
	fListE(c, 33, &o.AssistantResultInterpreters, ndlFrom, NDL.rep)
	fListE(c, 34, &o.Technicians, ndlFrom, NDL.rep)
	fListE(c, 35, &o.Transcriptionists, ndlFrom, NDL.rep)
	fTime(c, 36, &o.ScheduledDateTime)
	fOne(c, 44, &o.ProcedureCode, ceFrom, CE.rep)
	fList(c, 45, &o.ProcedureCodeModifiers, ceFrom, CE.rep)
}

// Decode implements Decoder.
func (o *OBR) Decode(s *Segment) error { return decodeFields(s, o.fields) }

// Encode implements Encoder.
func (o OBR) Encode(s *Segment) { encodeFields(s, o.fields) }

// EffectivePriority returns the first non-empty of OBR-27-6 (quantity/timing
// priority) and OBR-5. For 2.5 messages also look at TQ1-9.
func (o OBR) EffectivePriority() string {
	for _, tq := range o.QuantityTiming {
		if tq.Priority != "" {
			return tq.Priority
		}
	}
	return o.Priority
}

// ---------------------------------------------------------------- TQ1

// TQ1 is the timing/quantity segment (2.5+).
type TQ1 struct {
	SetID            string
	Quantity         string // TQ1-2-1
	StartDateTime    Time   // TQ1-7
	EndDateTime      Time   // TQ1-8
	Priorities       []CE   // TQ1-9 (CWE, table 0485: S, A, R, P, C, T, …)
	ConditionText    string // TQ1-10
	TextInstruction  string // TQ1-11
	Conjunction      string // TQ1-12
	TotalOccurrences string // TQ1-14
}

// SegmentID implements Decoder/Encoder.
func (TQ1) SegmentID() string { return "TQ1" }

// fields lists the fields of TQ1 this package reads and writes.
func (t *TQ1) fields(c fieldCodec) {
	fStr(c, 1, &t.SetID)
	fStr(c, 2, &t.Quantity)
	fTime(c, 7, &t.StartDateTime)
	fTime(c, 8, &t.EndDateTime)
	fList(c, 9, &t.Priorities, ceFrom, CE.rep)
	fStr(c, 10, &t.ConditionText)
	fStr(c, 11, &t.TextInstruction)
	fStr(c, 12, &t.Conjunction)
	fStr(c, 14, &t.TotalOccurrences)
}

// Decode implements Decoder.
func (t *TQ1) Decode(s *Segment) error { return decodeFields(s, t.fields) }

// Encode implements Encoder.
func (t TQ1) Encode(s *Segment) { encodeFields(s, t.fields) }

// Priority returns TQ1-9-1 of the first repetition.
func (t TQ1) Priority() string {
	if len(t.Priorities) == 0 {
		return ""
	}
	return t.Priorities[0].Identifier
}

// ---------------------------------------------------------------- IPC

// IPC is the imaging procedure control segment (2.5+, OMI/ORI).
type IPC struct {
	AccessionID              EI     // IPC-1
	RequestedProcedureID     EI     // IPC-2
	StudyInstanceUID         EI     // IPC-3
	ScheduledProcedureStepID EI     // IPC-4
	Modality                 CE     // IPC-5
	ProtocolCodes            []CE   // IPC-6
	ScheduledStationName     EI     // IPC-7
	ScheduledStepLocations   []CE   // IPC-8
	ScheduledStationAETitle  string // IPC-9
}

// SegmentID implements Decoder/Encoder.
func (IPC) SegmentID() string { return "IPC" }

// fields lists the fields of IPC this package reads and writes.
func (p *IPC) fields(c fieldCodec) {
	fOne(c, 1, &p.AccessionID, eiFrom, EI.rep)
	fOne(c, 2, &p.RequestedProcedureID, eiFrom, EI.rep)
	fOne(c, 3, &p.StudyInstanceUID, eiFrom, EI.rep)
	fOne(c, 4, &p.ScheduledProcedureStepID, eiFrom, EI.rep)
	fOne(c, 5, &p.Modality, ceFrom, CE.rep)
	fList(c, 6, &p.ProtocolCodes, ceFrom, CE.rep)
	fOne(c, 7, &p.ScheduledStationName, eiFrom, EI.rep)
	fList(c, 8, &p.ScheduledStepLocations, ceFrom, CE.rep)
	fStr(c, 9, &p.ScheduledStationAETitle)
}

// Decode implements Decoder.
func (p *IPC) Decode(s *Segment) error { return decodeFields(s, p.fields) }

// Encode implements Encoder.
func (p IPC) Encode(s *Segment) { encodeFields(s, p.fields) }

// ---------------------------------------------------------------- OBX

// OBX is an observation/result segment. OBX-5 is read according to OBX-2:
// text-like types (TX, FT, ST, NM, ID, IS, DT, TM, DTM, TS, …) fill Values (one
// entry per repetition; TX reports usually send one repetition per line);
// CE/CWE/CNE fill Coded; ED fills ED.
type OBX struct {
	SetID                string
	ValueType            string   // OBX-2
	ObservationID        CE       // OBX-3
	SubID                string   // OBX-4
	Values               []string // OBX-5 for text-like types
	Coded                []CE     // OBX-5 for CE/CWE/CNE
	ED                   *ED      // OBX-5 for ED (first repetition)
	Units                CE       // OBX-6
	ReferenceRange       string   // OBX-7
	AbnormalFlags        []string // OBX-8
	ResultStatus         string   // OBX-11: F, P, C, X, …
	ObservationDateTime  Time     // OBX-14
	ProducerID           CE       // OBX-15
	ResponsibleObservers []XCN    // OBX-16
	AnalysisDateTime     Time     // OBX-19
}

// SegmentID implements Decoder/Encoder.
func (OBX) SegmentID() string { return "OBX" }

func isCoded(vt string) bool { return vt == "CE" || vt == "CWE" || vt == "CNE" }

// Decode implements Decoder.
func (o *OBX) Decode(s *Segment) error {
	x := &dec{s: s}
	o.SetID = x.str(1)
	o.ValueType = x.str(2)
	o.ObservationID = ceFrom(x.rep(3))
	o.SubID = x.str(4)
	o.Values, o.Coded, o.ED = nil, nil, nil
	switch {
	case o.ValueType == "ED":
		if r := x.reps(5); len(r) > 0 {
			ed := edFrom(r[0])
			o.ED = &ed
		}
	case isCoded(o.ValueType):
		o.Coded = list(x, 5, ceFrom)
	default:
		// Keep unescaped component separators a sender forgot to escape.
		for _, r := range x.s.Field(5) {
			parts := make([]string, len(r))
			for i := range r {
				parts[i] = rv{r, s.d}.c(i + 1)
			}
			o.Values = append(o.Values, strings.Join(parts, string(s.d.Component)))
		}
	}
	o.Units = ceFrom(x.rep(6))
	o.ReferenceRange = x.str(7)
	o.AbnormalFlags = strs(x, 8)
	o.ResultStatus = x.str(11)
	o.ObservationDateTime = x.time(14)
	o.ProducerID = ceFrom(x.rep(15))
	o.ResponsibleObservers = list(x, 16, xcnFrom)
	o.AnalysisDateTime = x.time(19)
	return x.result()
}

// Encode implements Encoder.
func (o OBX) Encode(s *Segment) {
	e := enc{s}
	d := s.d
	e.str(1, o.SetID)
	e.str(2, o.ValueType)
	e.one(3, o.ObservationID.rep(d))
	e.str(4, o.SubID)
	switch {
	case o.ValueType == "ED" && o.ED != nil:
		e.one(5, o.ED.rep(d))
	case isCoded(o.ValueType):
		many(e, 5, o.Coded, CE.rep)
	default:
		var fld Field
		for _, v := range o.Values {
			fld = append(fld, Repetition{{d.EscapeValue(v)}})
		}
		s.SetField(5, fld)
	}
	e.one(6, o.Units.rep(d))
	e.str(7, o.ReferenceRange)
	e.strs(8, o.AbnormalFlags)
	e.str(11, o.ResultStatus)
	e.str(14, o.ObservationDateTime.String())
	e.one(15, o.ProducerID.rep(d))
	many(e, 16, o.ResponsibleObservers, XCN.rep)
	e.str(19, o.AnalysisDateTime.String())
}

// Text joins Values with "\n" (a TX/FT report sent as one repetition per
// line, or with \.br\ breaks, reads as plain multi-line text).
func (o OBX) Text() string { return strings.Join(o.Values, "\n") }

// ---------------------------------------------------------------- NTE

// NTE is a notes and comments segment.
type NTE struct {
	SetID       string
	Source      string   // NTE-2 (table 0105: L, P, O)
	Comments    []string // NTE-3 (FT, repeating)
	CommentType CE       // NTE-4
}

// SegmentID implements Decoder/Encoder.
func (NTE) SegmentID() string { return "NTE" }

// fields lists the fields of NTE this package reads and writes.
func (n *NTE) fields(c fieldCodec) {
	fStr(c, 1, &n.SetID)
	fStr(c, 2, &n.Source)
	fStrs(c, 3, &n.Comments)
	fOne(c, 4, &n.CommentType, ceFrom, CE.rep)
}

// Decode implements Decoder.
func (n *NTE) Decode(s *Segment) error { return decodeFields(s, n.fields) }

// Encode implements Encoder.
func (n NTE) Encode(s *Segment) { encodeFields(s, n.fields) }

// ---------------------------------------------------------------- IN1

// IN1 is the insurance segment.
type IN1 struct {
	SetID               string
	PlanID              CE     // IN1-2
	CompanyIDs          []CX   // IN1-3
	CompanyNames        []XON  // IN1-4
	CompanyAddresses    []XAD  // IN1-5
	CompanyPhones       []XTN  // IN1-7
	GroupNumber         string // IN1-8
	GroupName           string // IN1-9-1
	PlanEffectiveDate   Time   // IN1-12
	PlanExpirationDate  Time   // IN1-13
	PlanType            string // IN1-15 (user table 0086)
	InsuredNames        []XPN  // IN1-16
	InsuredRelationship CE     // IN1-17
	InsuredDateOfBirth  Time   // IN1-18
	PolicyNumber        string // IN1-36
	CoverageType        string // IN1-47
}

// SegmentID implements Decoder/Encoder.
func (IN1) SegmentID() string { return "IN1" }

// fields lists the fields of IN1 this package reads and writes.
func (n *IN1) fields(c fieldCodec) {
	fStr(c, 1, &n.SetID)
	fOne(c, 2, &n.PlanID, ceFrom, CE.rep)
	fList(c, 3, &n.CompanyIDs, cxFrom, CX.rep)
	fList(c, 4, &n.CompanyNames, xonFrom, XON.rep)
	fList(c, 5, &n.CompanyAddresses, xadFrom, XAD.rep)
	fList(c, 7, &n.CompanyPhones, xtnFrom, XTN.rep)
	fStr(c, 8, &n.GroupNumber)
	fStr(c, 9, &n.GroupName)
	fTime(c, 12, &n.PlanEffectiveDate)
	fTime(c, 13, &n.PlanExpirationDate)
	fStr(c, 15, &n.PlanType)
	fList(c, 16, &n.InsuredNames, xpnFrom, XPN.rep)
	fOne(c, 17, &n.InsuredRelationship, ceFrom, CE.rep)
	fTime(c, 18, &n.InsuredDateOfBirth)
	fStr(c, 36, &n.PolicyNumber)
	fStr(c, 47, &n.CoverageType)
}

// Decode implements Decoder.
func (n *IN1) Decode(s *Segment) error { return decodeFields(s, n.fields) }

// Encode implements Encoder.
func (n IN1) Encode(s *Segment) { encodeFields(s, n.fields) }

// IsMedicare is a heuristic: plan type (IN1-15) or plan ID (IN1-2-1) is one
// of MCR, MA, MB (X12 Medicare Part A/B), MEDICARE, or a company name / plan text mentions
// "MEDICARE" (but not "MEDICARE ADVANTAGE" replacement plans, which are
// commercial payers billed differently). Sites with their own plan codes
// should check PlanID themselves.
func (n IN1) IsMedicare() bool {
	code := func(s string) bool {
		switch strings.ToUpper(strings.TrimSpace(s)) {
		case "MCR", "MA", "MB", "MEDICARE": // not "MC": that is Medicaid in X12
			return true
		}
		return false
	}
	text := func(s string) bool {
		u := strings.ToUpper(s)
		return strings.Contains(u, "MEDICARE") && !strings.Contains(u, "ADVANTAGE")
	}
	if code(n.PlanType) || code(n.PlanID.Identifier) || text(n.PlanID.Text) {
		return true
	}
	for _, c := range n.CompanyNames {
		if text(c.Name) {
			return true
		}
	}
	return false
}
