// Package archive stores DICOM instances durably and indexes them.
//
// An instance streams from its source (C-STORE, STOW-RS, import) into a
// temporary blob while a structural parser validates it and reads its header
// — Pixel Data is never held in memory. The blob is fsync'd and published
// under its SHA-256, then the index rows (patient, study, series, instance)
// are committed in one transaction; only then does Store return success. A
// crash at any point leaves either nothing, or an unreferenced blob, never an
// index row without its bytes.
//
// Index commits from concurrent stores are grouped into one transaction
// (group commit), which is what lets many associations ingest at disk speed
// on SQLite. Each instance's DICOM JSON metadata and frame locations are
// computed at ingest so metadata and frame requests never reparse files.
package archive
