package hl7report

import (
	"context"
	"strconv"
	"strings"

	"lightbox/internal/db"
	"lightbox/internal/hl7"
	"lightbox/internal/outbox"
	"lightbox/internal/report"
)

// OBX-3 codes of the report messages.
var (
	obxText = hl7.CE{Identifier: "18782-3", Text: "Radiology Study observation (narrative)", CodingSystem: "LN"}
	obxPDF  = hl7.CE{Identifier: "PDF", Text: "Report PDF", CodingSystem: "L"}
)

// Outbox queues r's ORU^R01 for ep through x (the signing transaction): a
// report.ResultWriter.
func Outbox(ctx context.Context, x db.Execer, ep outbox.Endpoint, relatedID string, r report.Result) error {
	return outbox.Enqueue(ctx, x, outbox.Message{FacilityID: r.FacilityID, Address: ep.Address, TLS: ep.TLS,
		Kind: "ORU", RelatedID: relatedID, Bytes: ORU(r).Bytes()})
}

func personName(dicom string) hl7.XPN {
	p := strings.Split(dicom, "^")
	for len(p) < 3 {
		p = append(p, "")
	}
	return hl7.XPN{Family: p[0], Given: p[1], Middle: p[2]}
}

// ORU builds the ORU^R01 (v2.5.1) announcing a version: MSH, PID, PV1, ORC
// (RE), OBR (accession in OBR-3 and OBR-18, procedure OBR-4, OBR-22 result
// time, OBR-25 status, OBR-32 principal interpreter), one TX OBX per line
// of the full report text, and the PDF as an ED OBX when the facility
// wants it.
func ORU(r report.Result) *hl7.Message {
	m := hl7.NewMessage(hl7.MSH{
		SendingApplication: hl7.HD{NamespaceID: r.SendingApp},
		ReceivingFacility:  hl7.HD{NamespaceID: r.FacilityID},
		DateTime:           hl7.NewTime(r.Now, hl7.PrecisionSecond),
		MessageType:        hl7.MSG{Code: "ORU", Trigger: "R01", Structure: "ORU_R01"},
		Version:            "2.5.1",
		AcceptAckType:      "AL",
	})
	pid := hl7.PID{SetID: "1", Identifiers: []hl7.CX{{ID: r.PatientID, AssigningAuthority: hl7.HD{NamespaceID: r.Issuer}, IdentifierTypeCode: "MR"}}, Sex: r.Sex}
	if r.PatientName != "" {
		pid.Names = []hl7.XPN{personName(r.PatientName)}
	}
	if t, err := hl7.ParseTime(r.BirthDate); err == nil {
		pid.DateOfBirth = t
	}
	m.Add(pid)
	m.Add(hl7.PV1{SetID: "1", PatientClass: "U"})
	var ordering []hl7.XCN
	if r.OrderingName != "" || r.OrderingID != "" {
		n := personName(r.OrderingName)
		ordering = []hl7.XCN{{ID: r.OrderingID, Family: n.Family, Given: n.Given, IdentifierTypeCode: r.OrderingIDType}}
	}
	filler := hl7.EI{EntityID: r.Accession, NamespaceID: r.SendingApp}
	m.Add(hl7.ORC{
		OrderControl:        hl7.OrderObservationsFol,
		PlacerOrderNumber:   hl7.EI{EntityID: r.PlacerOrder},
		FillerOrderNumber:   filler,
		OrderStatus:         "CM",
		TransactionDateTime: hl7.NewTime(r.SignedAt, hl7.PrecisionSecond),
		OrderingProviders:   ordering,
		OrderingFacility:    []hl7.XON{{Name: r.FacilityName, OrganizationIdentifier: r.FacilityID}},
	})
	obr := hl7.OBR{
		SetID:                       "1",
		PlacerOrderNumber:           hl7.EI{EntityID: r.PlacerOrder},
		FillerOrderNumber:           filler,
		UniversalServiceID:          hl7.CE{Identifier: r.ProcedureCode, Text: r.ProcedureText, CodingSystem: r.ProcedureSystem},
		OrderingProviders:           ordering,
		PlacerField1:                r.Accession,
		ResultsStatusChangeDateTime: hl7.NewTime(r.SignedAt, hl7.PrecisionSecond),
		DiagnosticServSectID:        "RAD",
		ResultStatus:                r.Status,
	}
	if t, err := hl7.ParseTime(r.StudyDate + padTime(r.StudyTime)); err == nil && r.StudyDate != "" {
		obr.ObservationDateTime = t
	}
	if r.InterpreterID != "" || r.InterpreterName != "" {
		obr.PrincipalResultInterpreter = hl7.NDL{Name: hl7.CNN{ID: r.InterpreterID, Family: r.InterpreterName},
			Start: hl7.NewTime(r.InterpretedAt, hl7.PrecisionSecond)}
	}
	m.Add(obr)
	n := 0
	for _, l := range r.Lines {
		n++
		m.Add(hl7.OBX{SetID: strconv.Itoa(n), ValueType: "TX", ObservationID: obxText, SubID: "1", Values: []string{l}, ResultStatus: r.Status,
			ObservationDateTime: hl7.NewTime(r.SignedAt, hl7.PrecisionSecond)})
	}
	if r.PDF != nil {
		ed := hl7.NewEDBase64("AP", "PDF", r.PDF)
		n++
		m.Add(hl7.OBX{SetID: strconv.Itoa(n), ValueType: "ED", ObservationID: obxPDF, SubID: "1", ED: &ed, ResultStatus: r.Status,
			ObservationDateTime: hl7.NewTime(r.SignedAt, hl7.PrecisionSecond)})
	}
	return m
}

func padTime(t string) string {
	t, _, _ = strings.Cut(t, ".")
	if len(t) > 6 {
		t = t[:6]
	}
	return t
}
