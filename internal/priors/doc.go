// Package priors brings a patient's earlier studies from the facility's own
// PACS before a case is read (docs/conformance.md, "Priors from the
// facility's PACS").
//
// A facility registers its PACS as a query/retrieve source (Source, through
// internal/setup). When a study is complete (internal/dispatch asks Hold
// before it puts the study on the worklist) or an order is approved
// (Request), a fetch is recorded; a runner on any node claims it atomically
// (so it runs once across a cluster, like internal/outbox), queries the PACS
// with C-FIND at STUDY level (issuer + patient ID; else patient name and
// birth date, kept only when both equal the patient's exactly and recorded
// as matched "name_dob"), ranks the results (same modality, then same body
// part, then the most recent; never the current study) and retrieves the
// best N (default 2) with C-MOVE to Lightbox's own AE or C-GET. The DICOM
// operations are internal/dicomsvc's (Remote). Retrieved studies land in the
// facility's patient namespace like any other, are linked to the study
// (prior_link), never become reading work themselves, and each fetch is
// audited. Assignment waits for the fetch until its deadline (the source's
// Wait, default 60 s), then goes on without it.
package priors
