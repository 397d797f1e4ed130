// Package report is Lightbox's radiology reporting: templates and macros,
// the report lifecycle (draft → preliminary → final → addendum /
// correction), the eligibility re-check at signing, what a signed version
// announces to the facility (Result; the HL7 ORU^R01 is built by
// internal/hl7report, the FHIR DiagnosticReport by internal/fhir), PDF
// rendering,
// and reader productivity (work RVUs, pay).
//
// # Lifecycle
//
// Every save is a new draft version; every signature is a new signed
// version. Versions are append-only: no signed row is ever updated
// (docs/domain.md §9 W4). Signing re-checks the reader with model.Check at
// that moment and with the signature's physical location (docs/domain.md §1 L3,
// L6–L8). A final may be signed over another reader's prelim; both are
// kept, and a material difference (impression changed beyond whitespace
// and case, or the final signer's flag) records a Discrepancy (§5 CR4).
//
// # Delivery
//
// Each signed version's Result is handed to Options.Results in the signing
// transaction when the facility has an "hl7" endpoint; the composition
// root wires hl7report.Outbox, which queues the ORU^R01 (v2.5.1) there,
// so the message commits with the signature. OBR-25/OBX-11: prelim P,
// final F, correction C, addendum C with the full text plus every addendum
// (docs/domain.md §9 "usually C"; a facility may choose A instead), or P while the
// report is still preliminary.
//
// # Logging
//
// Logs carry version numbers, kinds and error codes only: never patient
// names or IDs, reader IDs or report text.
package report
