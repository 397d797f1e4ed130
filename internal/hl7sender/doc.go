// Package hl7sender is the registry of HL7 v2 senders, the MLLP counterpart
// of the DICOM AE registry: a sender is named by its sending facility
// (MSH-4) and optionally its sending application (MSH-3), speaks for one
// Lightbox facility, and may connect only from its allowed networks and/or
// with a verified TLS client certificate whose subject is registered.
//
// Gate wraps the intake handler: a message whose MSH names a sender that is
// not registered, or that arrives over a connection not allowed for it, is
// answered AR and kept as a dead letter; it never reaches the orders.
package hl7sender
