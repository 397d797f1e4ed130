package hl7order

import (
	"context"
	"strings"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/hl7"
	"lightbox/internal/order"
	"lightbox/internal/outbox"
)

// OutboxNotifier returns a Service.Notify hook that enqueues an unsolicited
// ORM^O01 (v2.3.1) status message to the facility's 'hl7' endpoint, if it
// has one, in the caller's transaction: ORC-1 = SC, ORC-5 = SC (scheduled;
// protocol code^text in ORC-16) or CA (rejected / cancelled; ORC-16 =
// status^reason). ORC-2 is the facility's placer
// order number, ORC-3 Lightbox's order ID (filler order number), OBR-18 the
// accession. sendingApp is MSH-3 (e.g. "LIGHTBOX").
func OutboxNotifier(sendingApp string) func(ctx context.Context, tx *db.Tx, o order.Order, ev order.Status) error {
	return func(ctx context.Context, tx *db.Tx, o order.Order, ev order.Status) error {
		ep, ok, err := outbox.LookupEndpoint(ctx, tx, o.FacilityID, "hl7")
		if err != nil || !ok {
			return err
		}
		msg := StatusMessage(sendingApp, o, ev, time.Now())
		return outbox.Enqueue(ctx, tx, outbox.Message{
			FacilityID: o.FacilityID, Address: ep.Address, TLS: ep.TLS,
			Kind: "ORM-status", RelatedID: o.ID, Bytes: msg.Bytes(),
		})
	}
}

// StatusMessage builds the ORM^O01 status message for order o after event ev.
func StatusMessage(sendingApp string, o order.Order, ev order.Status, now time.Time) *hl7.Message {
	m := hl7.NewMessage(hl7.MSH{
		SendingApplication: hl7.HD{NamespaceID: sendingApp},
		ReceivingFacility:  hl7.HD{NamespaceID: o.FacilityID},
		DateTime:           hl7.NewTime(now, hl7.PrecisionSecond),
		MessageType:        hl7.MSG{Code: "ORM", Trigger: "O01", Structure: "ORM_O01"},
		Version:            "2.3.1",
	})
	m.Add(patientPID(o.Patient))
	status := "SC"
	reason := hl7.CE{}
	switch ev {
	case order.StatusRejected, order.StatusCancelled:
		status = "CA"
		reason = hl7.CE{Identifier: string(ev), Text: o.StatusReason}
	case order.StatusScheduled:
		if o.Protocol.Code != "" || o.Protocol.Text != "" {
			reason = hl7.CE{Identifier: o.Protocol.Code, Text: o.Protocol.Text, CodingSystem: "L"}
		}
	}
	m.Add(hl7.ORC{
		OrderControl:        hl7.OrderStatusChanged,
		PlacerOrderNumber:   hl7.EI{EntityID: o.PlacerOrder},
		FillerOrderNumber:   hl7.EI{EntityID: o.ID, NamespaceID: sendingApp},
		OrderStatus:         status,
		TransactionDateTime: hl7.NewTime(now, hl7.PrecisionSecond),
		ControlCodeReason:   reason,
	})
	obr := hl7.OBR{
		SetID:              "1",
		PlacerOrderNumber:  hl7.EI{EntityID: o.PlacerOrder},
		FillerOrderNumber:  hl7.EI{EntityID: o.ID, NamespaceID: sendingApp},
		UniversalServiceID: hl7.CE{Identifier: o.ProcedureCode, Text: o.ProcedureText, CodingSystem: o.ProcedureSystem},
		Priority:           o.Priority.HL7(),
		PlacerField1:       o.Accession,
	}
	if !o.ScheduledAt.IsZero() && ev == order.StatusScheduled {
		obr.ScheduledDateTime = hl7.NewTime(o.ScheduledAt, hl7.PrecisionSecond)
	}
	m.Add(obr)
	return m
}

func patientPID(p order.Patient) hl7.PID {
	pid := hl7.PID{SetID: "1", Identifiers: []hl7.CX{{ID: p.ID, AssigningAuthority: hl7.HD{NamespaceID: p.Issuer}}}, Sex: p.Sex}
	if p.Name != "" {
		parts := strings.SplitN(p.Name, "^", 5)
		for len(parts) < 5 {
			parts = append(parts, "")
		}
		pid.Names = []hl7.XPN{{Family: parts[0], Given: parts[1], Middle: parts[2], Prefix: parts[3], Suffix: parts[4]}}
	}
	if t, err := hl7.ParseTime(p.BirthDate); err == nil {
		pid.DateOfBirth = t
	}
	return pid
}
