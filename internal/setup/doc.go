// Package setup configures a reading group without the demo seeder: its
// facilities (identity and contract), their result endpoints (HL7 MLLP,
// FHIR) with a "send test message" check, readers with their credentials,
// and shifts. It is the one entry point the JSON API and the CLI share, so
// both validate the same way.
//
// Every write here:
//   - is validated, with references checked (a privilege or AE naming a
//     facility that does not exist is refused), and refused with a stable
//     error code ([Error]);
//   - commits in one transaction with its audit record (DICOM Security
//     Alert, configuration change): a change that cannot be audited fails;
//   - increments the set-up stamp in that transaction. A running dispatcher
//     polls [Version] and reloads, so a change made from the CLI against a
//     live server's database takes effect at once.
//
// Bulk imports (CSV or JSON) validate row by row: valid rows are saved
// together, invalid ones are returned in a [Report] with their row number,
// a code and the reason.
//
// Tables are written through their owners' Go APIs: facility (facility),
// facility_contract and reader (roster), facility_endpoint (outbox),
// remote_ae (ae). This package owns setup_stamp.
package setup
