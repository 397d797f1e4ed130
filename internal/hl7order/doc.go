// Package hl7order is the HL7 v2 adapter of the order domain: it parses
// ORM/OMI/OMG orders and ADT patient updates received over MLLP into
// HL7-free order.Order and order.Patient values and answers with the ACK
// or ORR/ORI response; it builds the ORM^O01 status messages the order
// service queues in the outbox (OutboxNotifier); and it takes ORU^R01
// triage results from outside tools (Triager). Package order decides; this
// package only speaks the protocol.
package hl7order
