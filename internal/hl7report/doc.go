// Package hl7report is the HL7 v2 adapter of the report domain: it turns a
// signed version's report.Result into the ORU^R01 (v2.5.1) a facility
// receives, and queues it in the outbox inside the signing transaction
// (Outbox, wired as report.Options.Results). Package report decides what
// is announced; this package only speaks the protocol.
package hl7report
