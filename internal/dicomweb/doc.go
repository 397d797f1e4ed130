// Package dicomweb serves DICOMweb (PS3.18) under /dicomweb: QIDO-RS
// search, WADO-RS retrieve (instances, metadata, frames, bulk data,
// rendered images and thumbnails) and STOW-RS store.
//
// Every route runs an authorization hook first; its query.Scope limits
// what the caller sees (studies of its facilities) and where STOW-RS
// stores. Searches go through the query package, the same engine DIMSE
// C-FIND uses. Metadata is the DICOM JSON the archive computed at ingest,
// streamed from the index without opening files; instances stream from the
// blob store part by part; frames are read with ReadAt at the byte ranges
// located at ingest. Nothing loads a whole series into memory.
//
// docs/conformance.md §4 lists routes, media types, status codes and limits.
package dicomweb
