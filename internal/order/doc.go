// Package order holds Lightbox's radiology orders: intake of orders parsed
// at the edge (HL7 ORM^O01/OMI^O23 by internal/hl7order, FHIR
// ServiceRequest by internal/fhir), protocoling, scheduling for the
// Modality Worklist, MPPS progress, and reconciliation of received studies
// with orders.
//
// Status model:
//
//	requested → protocol_pending → scheduled → in_progress → completed
//	                                                       ↘ discontinued
//	any open state → cancelled | on_hold (→ back on release)
//	protocol_pending → rejected;  scheduled → protocol_pending (Return)
//
// Intake stores an order as protocol_pending, recording two events:
// "requested" at T0 (ORC-9, the time the order was placed) and
// "protocol_pending" at receipt. Every change appends an order_event row
// (from, to, actor, reason, at): MPPS in progress is T1, completed T2.
//
// Approve and Reject (and Cancel from Lightbox's side) call Service.Notify
// in the same transaction; the composition root wires
// hl7order.OutboxNotifier, which queues an unsolicited ORM^O01 status
// message (ORC-1 = SC, ORC-5 = SC / CA) to the facility's 'hl7' endpoint
// when it has one.
package order
