package hl7

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func decodeAll[T any, P interface {
	*T
	Decoder
}](t *testing.T, m *Message) []T {
	t.Helper()
	var zero T
	var out []T
	for _, s := range m.All(P(&zero).SegmentID()) {
		var v T
		if err := P(&v).Decode(s); err != nil {
			t.Fatalf("decode %s: %v", s.Name, err)
		}
		out = append(out, v)
	}
	return out
}

func TestTypedORM(t *testing.T) {
	m := mustParse(t, sampleORM)
	h, err := m.MSH()
	if err != nil {
		t.Fatal(err)
	}
	if h.SendingApplication.NamespaceID != "RIS" || h.ReceivingFacility.NamespaceID != "TELERAD" ||
		h.MessageType != (MSG{"ORM", "O01", "ORM_O01"}) || h.ControlID != "ORM0001" || h.ProcessingID != "P" || h.Version != "2.3.1" {
		t.Errorf("MSH %+v", h)
	}
	if h.DateTime.Precision != PrecisionSecond || h.DateTime.Time.Hour() != 8 {
		t.Errorf("MSH-7 %+v", h.DateTime)
	}
	pid := decodeAll[PID](t, m)[0]
	if len(pid.Identifiers) != 2 || pid.Identifiers[0].ID != "MRN12345" || pid.Identifiers[0].AssigningAuthority.NamespaceID != "GH" ||
		pid.Identifiers[0].IdentifierTypeCode != "MR" {
		t.Errorf("PID-3 %+v", pid.Identifiers)
	}
	if id, ok := pid.Identifier("SSA", "SS"); !ok || id.ID != "999999999" {
		t.Errorf("Identifier(SSA) %+v", id)
	}
	if n := pid.Name(); n.Family != "DOE" || n.Given != "JANE" || n.Middle != "Q" || n.Prefix != "MS" {
		t.Errorf("name %+v", n)
	}
	if pid.DateOfBirth.String() != "19800101" || pid.DateOfBirth.Precision != PrecisionDay || pid.Sex != "F" {
		t.Errorf("dob/sex %+v %q", pid.DateOfBirth, pid.Sex)
	}
	if a := pid.Addresses[0]; a.State != "IL" || a.City != "SPRINGFIELD" || a.Zip != "62701" {
		t.Errorf("address %+v", a)
	}
	if pid.HomePhones[0].Best() != "(555)555-0100" || pid.AccountNumber.ID != "ACCT001" {
		t.Errorf("phone/account %+v %+v", pid.HomePhones, pid.AccountNumber)
	}
	pv1 := decodeAll[PV1](t, m)[0]
	if pv1.PatientClass != "O" || pv1.AssignedLocation.PointOfCare != "RAD" || pv1.AssignedLocation.Facility.NamespaceID != "GH" ||
		pv1.AttendingDoctors[0].Family != "ATTENDING" || pv1.ReferringDoctors[0].IdentifierTypeCode != "NPI" ||
		pv1.ReferringDoctors[0].Degree != "MD" {
		t.Errorf("PV1 %+v", pv1)
	}
	orc := decodeAll[ORC](t, m)[0]
	if orc.OrderControl != OrderNew || orc.PlacerOrderNumber.EntityID != "PLC1001" || orc.FillerOrderNumber.NamespaceID != "LB" ||
		orc.OrderStatus != "SC" || orc.QuantityTiming.Priority != "S" || orc.QuantityTiming.Start.String() != "20240315090000" ||
		orc.TransactionDateTime.String() != "20240315083000" || orc.OrderingProviders[0].ID != "1234567890" ||
		orc.CallbackPhones[0].Number != "(555)555-0199" || orc.EnteringOrganization.Text != "General Hospital" {
		t.Errorf("ORC %+v", orc)
	}
	obr := decodeAll[OBR](t, m)[0]
	if obr.UniversalServiceID != (CE{Identifier: "71020", Text: "CHEST XRAY 2 VIEWS", CodingSystem: "C4"}) ||
		obr.Priority != "S" || obr.EffectivePriority() != "S" || obr.RelevantClinicalInfo != "Cough & fever, r/o pneumonia" ||
		obr.OrderingProviders[0].Family != "REFERRER" || obr.CallbackPhones[0].UseCode != "WPN" || obr.PlacerField1 != "ACC5001" ||
		obr.DiagnosticServSectID != "CR" || obr.RequestedDateTime.String() != "20240315090000" {
		t.Errorf("OBR %+v", obr)
	}
	nte := decodeAll[NTE](t, m)[0]
	if !reflect.DeepEqual(nte.Comments, []string{"Patient is claustrophobic", "Needs interpreter"}) {
		t.Errorf("NTE %+v", nte)
	}
}

func TestTypedOMI(t *testing.T) {
	m := mustParse(t, sampleOMI)
	h, _ := m.MSH()
	if h.SendingFacility != (HD{"MERCY", "1.2.3.4", "ISO"}) || h.AcceptAckType != "AL" || h.ApplicationAckType != "NE" ||
		!reflect.DeepEqual(h.CharacterSets, []string{"UNICODE UTF-8"}) {
		t.Errorf("MSH %+v", h)
	}
	if h.DateTime.FracDigits != 3 || !h.DateTime.HasZone || h.DateTime.String() != "20240316101500.123-0500" {
		t.Errorf("MSH-7 %+v %s", h.DateTime, h.DateTime)
	}
	pid := decodeAll[PID](t, m)[0]
	if pid.Identifiers[0].AssigningAuthority != (HD{"MERCY", "1.2.3.4", "ISO"}) || pid.Names[0].NameTypeCode != "L" {
		t.Errorf("PID %+v", pid)
	}
	if p := pid.HomePhones[0]; p.AreaCode != "417" || p.LocalNumber != "5550123" || p.Best() != "+1 (417) 5550123" {
		t.Errorf("XTN %+v %q", p, p.Best())
	}
	tq1 := decodeAll[TQ1](t, m)[0]
	if tq1.Priority() != "S" || tq1.Priorities[0].CodingSystem != "HL70485" || tq1.StartDateTime.String() != "20240316103000" {
		t.Errorf("TQ1 %+v", tq1)
	}
	orc := decodeAll[ORC](t, m)[0]
	if orc.EnteringOrganization.Identifier != "MERCY" || orc.CallbackPhones[0].LocalNumber != "5550188" || orc.TransactionDateTime.IsZero() {
		t.Errorf("ORC %+v", orc)
	}
	obr := decodeAll[OBR](t, m)[0]
	if obr.UniversalServiceID.Identifier != "CTHEADWO" || obr.PlacerField1 != "ACC7788" || obr.DiagnosticServSectID != "CT" ||
		obr.RelevantClinicalInfo != "Fall & head strike, r/o bleed" {
		t.Errorf("OBR %+v", obr)
	}
	ipc := decodeAll[IPC](t, m)[0]
	want := IPC{AccessionID: EI{EntityID: "ACC7788", NamespaceID: "MERCY"}, RequestedProcedureID: EI{EntityID: "RP7788"},
		StudyInstanceUID: EI{EntityID: "1.2.840.113619.2.55.3.1234.5678"}, ScheduledProcedureStepID: EI{EntityID: "SPS7788"},
		Modality: CE{Identifier: "CT", Text: "CT", CodingSystem: "DCM"}, ScheduledStationName: EI{EntityID: "CT01"},
		ScheduledStepLocations: []CE{{Identifier: "MAIN"}}, ScheduledStationAETitle: "MERCYCT01"}
	if !reflect.DeepEqual(ipc, want) {
		t.Errorf("IPC\n got %+v\nwant %+v", ipc, want)
	}
}

func TestTypedADT(t *testing.T) {
	m := mustParse(t, sampleA08)
	evn := decodeAll[EVN](t, m)[0]
	if evn.RecordedDateTime.String() != "20240317120000" || evn.Operators[0].ID != "CLERK" {
		t.Errorf("EVN %+v", evn)
	}
	pid := decodeAll[PID](t, m)[0]
	if len(pid.Addresses) != 0 || !m.IsNull("PID-11") {
		t.Errorf("null address: %+v", pid.Addresses)
	}
	in1 := decodeAll[IN1](t, m)[0]
	if !in1.IsMedicare() || in1.PlanType != "MB" || in1.CompanyNames[0].Name != "MEDICARE" || in1.CompanyIDs[0].AssigningAuthority.NamespaceID != "CMS" {
		t.Errorf("IN1 %+v", in1)
	}
	for _, in := range []IN1{{PlanID: CE{Identifier: "BCBS"}, CompanyNames: []XON{{Name: "BLUE CROSS"}}}, {PlanType: "MC"},
		{CompanyNames: []XON{{Name: "Acme Medicare Advantage"}}}} {
		if in.IsMedicare() {
			t.Errorf("%+v should not be Medicare", in)
		}
	}

	m31 := mustParse(t, sampleA31)
	if m31.Type() != (MSG{Code: "ADT", Trigger: "A31"}) {
		t.Errorf("A31 type %v", m31.Type())
	}
	evn = decodeAll[EVN](t, m31)[0]
	pid = decodeAll[PID](t, m31)[0]
	if evn.EventTypeCode != "A31" || evn.RecordedDateTime.Precision != PrecisionMinute || pid.PatientID.ID != "EXT555" ||
		pid.Name().Suffix != "JR" || pid.DateOfBirth.Time.Year() != 1999 || pid.HomePhones[0].Number != "555-555-0142" ||
		pid.Addresses[0].State != "TX" {
		t.Errorf("A31 %+v %+v", evn, pid)
	}
}

func TestTypedORU(t *testing.T) {
	m := mustParse(t, sampleORU)
	obr := decodeAll[OBR](t, m)[0]
	pri := obr.PrincipalResultInterpreter
	if pri.Name.ID != "5555" || pri.Name.Family != "RADIOLOGIST" || pri.Name.Given != "RUTH" || pri.Name.Prefix != "DR" ||
		pri.Name.Degree != "MD" || obr.ResultStatus != "F" || obr.ResultsStatusChangeDateTime.String() != "20240319142900" {
		t.Errorf("OBR %+v", obr)
	}
	obx := decodeAll[OBX](t, m)
	if len(obx) != 3 {
		t.Fatalf("%d OBX", len(obx))
	}
	if obx[0].ValueType != "TX" || obx[0].Text() != "FINDINGS:\nLungs are clear.\nNo effusion & no pneumothorax." ||
		obx[0].ResultStatus != "F" || obx[0].SubID != "1" {
		t.Errorf("OBX1 %+v", obx[0])
	}
	ed := obx[2].ED
	if ed == nil || ed.TypeOfData != "application" || ed.DataSubtype != "pdf" || ed.Encoding != "Base64" {
		t.Fatalf("ED %+v", ed)
	}
	pdf, err := ed.Bytes()
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-1.4")) {
		t.Errorf("ED bytes %q %v", pdf, err)
	}
}

// TestTypedRoundTrip encodes fully populated structs, parses the result and
// decodes it again.
func TestTypedRoundTrip(t *testing.T) {
	ts := MustParseTime("20240102030405.6789+0100")
	day := MustParseTime("19700101")
	weird := "we|ird^val~ue\\with&delims\nand a break"
	xcn := XCN{ID: "1", Family: "DOC", Given: "DANA", Middle: "D", Suffix: "III", Prefix: "DR", Degree: "MD", SourceTable: "T",
		AssigningAuthority: HD{"NPI", "2.16.840.1.113883.4.6", "ISO"}, NameTypeCode: "L", CheckDigit: "3", CheckDigitScheme: "M10",
		IdentifierTypeCode: "NPI", AssigningFacility: HD{NamespaceID: "FAC"}}
	xtn := XTN{Number: "(555)555-0100", UseCode: "WPN", EquipmentType: "PH", Email: "a@example.invalid", CountryCode: "1", AreaCode: "555",
		LocalNumber: "5550100", Extension: "12", AnyText: weird}
	ce := CE{"C", weird, "SYS", "AC", "AT", "AS"}
	cx := CX{"ID", "1", "M10", HD{"AUTH", "1.2", "ISO"}, "MR", HD{"FAC", "", ""}}
	ei := EI{"E1", "NS", "1.2.3", "ISO"}
	pl := PL{"POC", "R", "B", HD{NamespaceID: "F"}, "S", "T", "BLD", "FL", "desc"}
	xad := XAD{"1 MAIN ST", "APT 1", "TOWN", "CA", "90000", "USA", "H", "OG", "COUNTY"}
	xpn := XPN{"DOE", "JANE", "Q", "JR", "MS", "PHD", "L"}
	ndl := NDL{Name: CNN{"9", "RAD", "RUTH", "R", "SR", "DR", "MD", "T", HD{"A", "1.2", "ISO"}}, Start: ts, End: day, PointOfCare: "P", Room: "R", Bed: "B", Facility: HD{NamespaceID: "F"}}
	tq := TQ{"1", "Q1H", "D1", ts, day, "S", "C", "T"}
	items := []interface {
		Encoder
	}{
		MSH{HD{"A", "1", "ISO"}, HD{NamespaceID: "B"}, HD{NamespaceID: "C"}, HD{NamespaceID: "D"}, ts, "SEC", MSG{"ORM", "O01", "ORM_O01"},
			"CTRL", "P", "T", "2.5.1", "7", "AL", "NE", "USA", []string{"UNICODE UTF-8", "8859/1"}, []EI{ei}},
		EVN{"A08", ts, day, "01", []XCN{xcn}, ts, HD{NamespaceID: "F"}},
		PID{"1", cx, []CX{cx, {ID: "2"}}, []CX{cx}, []XPN{xpn, {Family: "ALIAS"}}, []XPN{xpn}, day, "F", []CE{ce}, []XAD{xad, xad},
			"CNTY", []XTN{xtn}, []XTN{xtn}, ce, ce, cx, "123456789", ts, "Y"},
		PV1{"1", "I", pl, "E", []XCN{xcn}, []XCN{xcn, xcn}, []XCN{xcn}, "RAD", []XCN{xcn}, "T", cx, "MB", ts, day},
		ORC{"NW", ei, ei, ei, "SC", "Y", tq, ts, []XCN{xcn}, []XCN{xcn}, []XCN{xcn}, pl, []XTN{xtn}, ts, ce, ce, ce, []XCN{xcn},
			[]XON{{"ORG", "L", "3", HD{NamespaceID: "AA"}, "XX", "10"}}, []XAD{xad}, []XTN{xtn}, []XAD{xad}},
		OBR{"1", ei, ei, ce, "S", ts, ts, day, "A", ce, weird, []XCN{xcn}, []XTN{xtn}, "ACC", "P2", "F1", "F2", ts, "CT", "F",
			[]TQ{tq, {Priority: "R"}}, []XCN{xcn}, "WALK", []CE{ce}, ndl, []NDL{ndl}, []NDL{ndl}, []NDL{ndl}, ts, ce, []CE{ce}},
		TQ1{"1", "1", ts, day, []CE{{Identifier: "S"}, {Identifier: "A"}}, "cond", "instr", "S", "1"},
		IPC{ei, ei, ei, ei, ce, []CE{ce}, ei, []CE{ce}, "AE_TITLE"},
		OBX{SetID: "1", ValueType: "TX", ObservationID: ce, SubID: "1", Values: []string{"line 1", weird, ""}, Units: ce,
			ReferenceRange: "1-2", AbnormalFlags: []string{"H", "A"}, ResultStatus: "F", ObservationDateTime: ts, ProducerID: ce,
			ResponsibleObservers: []XCN{xcn}, AnalysisDateTime: ts},
		OBX{SetID: "2", ValueType: "CWE", Coded: []CE{ce, {Identifier: "X"}}, ResultStatus: "P"},
		OBX{SetID: "3", ValueType: "ED", ED: &ED{HD{NamespaceID: "APP"}, "application", "pdf", "Base64", "AAEC"}},
		NTE{"1", "P", []string{weird, "two"}, ce},
		IN1{"1", ce, []CX{cx}, []XON{{Name: "MEDICARE"}}, []XAD{xad}, []XTN{xtn}, "G1", "GROUP", day, day, "MB", []XPN{xpn}, ce, day, "POL", "C"},
		MSA{AckAE, "CTRL", "text", "5", "D", ce},
		ERR{[]ELD{{"PID", 1, 3, CE{Identifier: "101", Text: "Required field missing", CodingSystem: "HL70357"}}},
			ERL{"PID", 1, 3, 1, 2, 1}, CE{Identifier: "101", Text: "Required field missing", CodingSystem: "HL70357"}, SeverityError, ce, "diag", weird},
	}
	m := &Message{Delims: DefaultDelimiters()}
	for _, it := range items {
		m.Add(it)
	}
	m2 := mustParse(t, m.String())
	counts := map[string]int{}
	for i, it := range items {
		id := it.SegmentID()
		counts[id]++
		s := m2.SegmentN(id, counts[id])
		ptr := reflect.New(reflect.TypeOf(it))
		if err := ptr.Interface().(Decoder).Decode(s); err != nil {
			t.Fatalf("item %d %s: %v", i, id, err)
		}
		got := ptr.Elem().Interface()
		want := it
		if o, ok := it.(OBX); ok && len(o.Values) > 0 {
			// a trailing empty repetition is kept
			want = o
		}
		if !reflect.DeepEqual(normTimes(got), normTimes(want)) {
			t.Errorf("item %d %s round trip:\n got %+v\nwant %+v", i, id, got, want)
		}
	}
	// Encoding into an existing segment replaces the fields it owns.
	s := m.Segment("PID")
	PID{SetID: "9"}.Encode(s)
	if m.Get("PID-1") != "9" || m.Has("PID-3") || m.Has("PID-5") {
		t.Errorf("re-encode did not replace fields: %q", m.GetRaw("PID-3"))
	}
}

// normTimes makes time.Time values comparable with DeepEqual by formatting
// them (locations from FixedZone differ in pointer identity).
func normTimes(v any) string {
	var b strings.Builder
	walk(reflect.ValueOf(v), &b)
	return b.String()
}

func walk(v reflect.Value, b *strings.Builder) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			b.WriteString(v.Interface().(time.Time).Format(time.RFC3339Nano))
			return
		}
		b.WriteString("{")
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walk(v.Field(i), b)
				b.WriteString(",")
			}
		}
		b.WriteString("}")
	case reflect.Slice:
		b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			walk(v.Index(i), b)
			b.WriteString(",")
		}
		b.WriteString("]")
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
		} else {
			walk(v.Elem(), b)
		}
	default:
		fmt.Fprintf(b, "%#v", v.Interface())
	}
}

func TestDecodeErrors(t *testing.T) {
	m := mustParse(t, "MSH|^~\\&|A|B|C|D|2024||ORM^O01|1|P|2.3\rPID|1||X||DOE||19801301\rOBR|1\rOBR|2"+strings.Repeat("|", 26)+"^^^2024XX\r")
	var pid PID
	err := pid.Decode(m.Segment("PID"))
	var he *Error
	if !errors.As(err, &he) || he.Code != CodeDataType || he.Segment != "PID" || he.Field != 7 || he.SegmentSeq != 1 {
		t.Errorf("PID-7: %v (%+v)", err, he)
	}
	if strings.Contains(err.Error(), "19801301") {
		t.Errorf("error leaks the value: %v", err)
	}
	var obr OBR
	err = obr.Decode(m.SegmentN("OBR", 2))
	if !errors.As(err, &he) || he.Location() != "OBR(2)-27-4" {
		t.Errorf("OBR-27: %v", err)
	}
	var tq1 TQ1
	if err := m.DecodeFirst(&tq1); !errors.As(err, &he) || he.Segment != "TQ1" {
		t.Errorf("missing TQ1: %v", err)
	}
}
