package report

import (
	"strconv"
	"strings"
	"time"

	"lightbox/internal/hl7"
)

// OBX-3 codes of the report messages.
var (
	obxText = hl7.CE{Identifier: "18782-3", Text: "Radiology Study observation (narrative)", CodingSystem: "LN"}
	obxPDF  = hl7.CE{Identifier: "PDF", Text: "Report PDF", CodingSystem: "L"}
)

// resultStatus is OBR-25 / OBX-11 for version v given the versions up to
// it: P, F, C; an addendum is P while the report is preliminary, else the
// facility's addendum status (C by default: the full text plus the
// addendum, docs/domain.md §9; A where the site wants it).
func resultStatus(vs []Version, v Version, fs FacilitySettings) string {
	if v.Kind == KindAddendum {
		sm := summarize(vs)
		if sm.final == nil {
			return "P"
		}
	}
	return v.ResultStatus(fs.AddendumStatus)
}

func personName(dicom string) hl7.XPN {
	p := strings.Split(dicom, "^")
	for len(p) < 3 {
		p = append(p, "")
	}
	return hl7.XPN{Family: p[0], Given: p[1], Middle: p[2]}
}

// buildORU builds the ORU^R01 (v2.5.1) announcing version v: MSH, PID,
// PV1, ORC (RE), OBR (accession in OBR-3 and OBR-18, procedure OBR-4,
// OBR-22 result time, OBR-25 status, OBR-32 principal interpreter), one
// TX OBX per line of the full report text, and the PDF as an ED OBX when
// the facility wants it.
func (s *Service) buildORU(st *study, rep Report, vs []Version, v Version, fs FacilitySettings, now time.Time) *hl7.Message {
	status := resultStatus(vs, v, fs)
	m := hl7.NewMessage(hl7.MSH{
		SendingApplication: hl7.HD{NamespaceID: s.opt.SendingApp},
		ReceivingFacility:  hl7.HD{NamespaceID: st.FacilityID},
		DateTime:           hl7.NewTime(now, hl7.PrecisionSecond),
		MessageType:        hl7.MSG{Code: "ORU", Trigger: "R01", Structure: "ORU_R01"},
		Version:            "2.5.1",
		AcceptAckType:      "AL",
	})
	pid := hl7.PID{SetID: "1", Identifiers: []hl7.CX{{ID: st.PatientID, AssigningAuthority: hl7.HD{NamespaceID: st.Issuer}, IdentifierTypeCode: "MR"}}, Sex: st.Sex}
	if st.PatientName != "" {
		pid.Names = []hl7.XPN{personName(st.PatientName)}
	}
	if t, err := hl7.ParseTime(st.BirthDate); err == nil {
		pid.DateOfBirth = t
	}
	m.Add(pid)
	m.Add(hl7.PV1{SetID: "1", PatientClass: "U"})
	code, text, system := st.procedure()
	placer := ""
	var ordering []hl7.XCN
	if st.Order != nil {
		placer = st.Order.PlacerOrder
		if o := st.Order.Ordering; o.Name != "" || o.ID != "" {
			n := personName(o.Name)
			ordering = []hl7.XCN{{ID: o.ID, Family: n.Family, Given: n.Given, IdentifierTypeCode: o.IDType}}
		}
	}
	filler := hl7.EI{EntityID: st.Accession, NamespaceID: s.opt.SendingApp}
	m.Add(hl7.ORC{
		OrderControl:        hl7.OrderObservationsFol,
		PlacerOrderNumber:   hl7.EI{EntityID: placer},
		FillerOrderNumber:   filler,
		OrderStatus:         "CM",
		TransactionDateTime: hl7.NewTime(v.SignedAt, hl7.PrecisionSecond),
		OrderingProviders:   ordering,
		OrderingFacility:    []hl7.XON{{Name: st.FacilityName, OrganizationIdentifier: st.FacilityID}},
	})
	d, _ := s.documentAt(st, rep, vs, v.Seq, fs)
	sm := summarize(vs[:indexOfSeq(vs, v.Seq)+1])
	interp := sm.base
	obr := hl7.OBR{
		SetID:                       "1",
		PlacerOrderNumber:           hl7.EI{EntityID: placer},
		FillerOrderNumber:           filler,
		UniversalServiceID:          hl7.CE{Identifier: code, Text: text, CodingSystem: system},
		OrderingProviders:           ordering,
		PlacerField1:                st.Accession,
		ResultsStatusChangeDateTime: hl7.NewTime(v.SignedAt, hl7.PrecisionSecond),
		DiagnosticServSectID:        "RAD",
		ResultStatus:                status,
	}
	if t, err := hl7.ParseTime(st.StudyDate + padTime(st.StudyTime)); err == nil && st.StudyDate != "" {
		obr.ObservationDateTime = t
	}
	if interp != nil && interp.Signer != nil {
		obr.PrincipalResultInterpreter = hl7.NDL{Name: hl7.CNN{ID: interp.Signer.ReaderID, Family: interp.Signer.Display},
			Start: hl7.NewTime(interp.SignedAt, hl7.PrecisionSecond)}
	}
	m.Add(obr)
	n := 0
	for _, l := range d.lines() {
		n++
		m.Add(hl7.OBX{SetID: strconv.Itoa(n), ValueType: "TX", ObservationID: obxText, SubID: "1", Values: []string{l}, ResultStatus: status,
			ObservationDateTime: hl7.NewTime(v.SignedAt, hl7.PrecisionSecond)})
	}
	if fs.EmbedPDF {
		ed := hl7.NewEDBase64("AP", "PDF", d.pdf("Radiology report "+st.Accession))
		n++
		m.Add(hl7.OBX{SetID: strconv.Itoa(n), ValueType: "ED", ObservationID: obxPDF, SubID: "1", ED: &ed, ResultStatus: status,
			ObservationDateTime: hl7.NewTime(v.SignedAt, hl7.PrecisionSecond)})
	}
	return m
}

func indexOfSeq(vs []Version, seq int) int {
	for i, v := range vs {
		if v.Seq == seq {
			return i
		}
	}
	return len(vs) - 1
}

func padTime(t string) string {
	t, _, _ = strings.Cut(t, ".")
	if len(t) > 6 {
		t = t[:6]
	}
	return t
}
