package hl7order

import (
	"context"
	"net"
	"testing"
	"time"

	"lightbox/internal/hl7"
	"lightbox/internal/order/ordertest"
)

var forEachDB = ordertest.Each

func lookup(_ context.Context, sender string) (string, bool) {
	id, ok := map[string]string{"HOSPA": "fac-a", "HOSPB": "fac-b"}[sender]
	return id, ok
}

// startMLLP serves h on loopback and returns a connected client.
func startMLLP(t *testing.T, h hl7.Handler) *hl7.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &hl7.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	c := &hl7.Client{Addr: l.Addr().String(), AckTimeout: 10 * time.Second}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

type ormOpts struct {
	msgType     hl7.MSG
	sender      string
	control     string
	accession   string
	procedure   string
	noPID3      bool
	placer      string
	priority    string
	withIPC     bool
	reason      string
	birth       string
	noOBR       bool
	fillerOrder string
	orc1        string // default NW
}

func buildORM(o ormOpts) *hl7.Message {
	if o.msgType.Code == "" {
		o.msgType = hl7.MSG{Code: "ORM", Trigger: "O01", Structure: "ORM_O01"}
	}
	if o.sender == "" {
		o.sender = "HOSPA"
	}
	if o.control == "" {
		o.control = hl7.NewControlID()
	}
	if o.birth == "" {
		o.birth = "19700101"
	}
	ver := "2.3.1"
	if o.msgType.Code == "OMI" {
		ver = "2.5.1"
	}
	m := hl7.NewMessage(hl7.MSH{SendingApplication: hl7.HD{NamespaceID: "EPIC"}, SendingFacility: hl7.HD{NamespaceID: o.sender},
		ReceivingApplication: hl7.HD{NamespaceID: "LIGHTBOX"}, MessageType: o.msgType, ControlID: o.control, Version: ver})
	pid := hl7.PID{SetID: "1", Names: []hl7.XPN{{Family: "DOE", Given: "JANE"}}, DateOfBirth: hl7.MustParseTime(o.birth), Sex: "F",
		Addresses: []hl7.XAD{{Street: "1 Main St", City: "Springfield", State: "IL", Zip: "62701"}}}
	if !o.noPID3 {
		pid.Identifiers = []hl7.CX{{ID: "MRN123", AssigningAuthority: hl7.HD{NamespaceID: "HOSPA"}, IdentifierTypeCode: "MR"}}
	}
	m.Add(pid)
	m.Add(hl7.PV1{SetID: "1", PatientClass: "E"})
	m.Add(hl7.IN1{SetID: "1", PlanID: hl7.CE{Identifier: "MCR"}, CompanyNames: []hl7.XON{{Name: "MEDICARE"}}})
	if o.placer == "" {
		o.placer = "PL" + o.accession
	}
	return finishORM(m, o)
}

func finishORM(m *hl7.Message, o ormOpts) *hl7.Message {
	if o.priority == "" {
		o.priority = "S"
	}
	m.Add(hl7.ORC{OrderControl: orderControl(o), PlacerOrderNumber: hl7.EI{EntityID: o.placer}, FillerOrderNumber: hl7.EI{EntityID: o.fillerOrder},
		TransactionDateTime: hl7.MustParseTime("202611220825"),
		OrderingProviders:   []hl7.XCN{{ID: "1234567890", Family: "SMITH", Given: "JOHN", IdentifierTypeCode: "NPI"}},
		CallbackPhones:      []hl7.XTN{{Number: "(555)555-0100"}}})
	if o.msgType.Code == "OMI" {
		m.Add(hl7.TQ1{SetID: "1", StartDateTime: hl7.MustParseTime("202611221000"), Priorities: []hl7.CE{{Identifier: o.priority}}})
	}
	if !o.noOBR {
		obr := hl7.OBR{SetID: "1", PlacerOrderNumber: hl7.EI{EntityID: o.placer},
			UniversalServiceID: hl7.CE{Identifier: o.procedure, Text: "CT HEAD WO CONTRAST", CodingSystem: "CPT"},
			ReasonForStudy:     []hl7.CE{{Text: o.reason}}, DiagnosticServSectID: "CT"}
		if !o.withIPC {
			obr.PlacerField1 = o.accession
			obr.QuantityTiming = []hl7.TQ{{Start: hl7.MustParseTime("202611220900"), Priority: o.priority}}
		}
		m.Add(obr)
	}
	if o.withIPC {
		m.Add(hl7.IPC{AccessionID: hl7.EI{EntityID: o.accession}, RequestedProcedureID: hl7.EI{EntityID: "RP1"},
			StudyInstanceUID: hl7.EI{EntityID: "1.2.3.4." + o.accession}, ScheduledProcedureStepID: hl7.EI{EntityID: "SPS1"},
			Modality: hl7.CE{Identifier: "CT"}, ScheduledStationAETitle: "CT1"})
	}
	return m
}

func orderControl(o ormOpts) string {
	if o.orc1 != "" {
		return o.orc1
	}
	return hl7.OrderNew
}

func send(t *testing.T, c *hl7.Client, m *hl7.Message) hl7.AckResult {
	t.Helper()
	ack, err := c.SendMessage(context.Background(), m)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	r, err := hl7.ReadAck(ack)
	if err != nil {
		t.Fatalf("read ack: %v", err)
	}
	return r
}
