// Package dicomweb serves DICOMweb (PS3.18) under /dicomweb: QIDO-RS
// search, WADO-RS retrieve (instances, metadata, frames, bulk data,
// rendered images and thumbnails) and STOW-RS store.
//
// Every route runs an authorization hook first; its query.Scope limits
// what the caller sees (studies of its facilities) and where STOW-RS
// stores. Searches go through the query package, the same engine DIMSE
// C-FIND uses. Metadata is the DICOM JSON the archive computed at ingest,
// read from the index without opening files: assembled once per state of
// a study or series and cached (metacache.go; every request checks the
// state with one aggregate query), or, above metaStreamAbove instances,
// streamed. The same cache keeps, checked the same way, the QIDO-RS
// instance list of a series or study asked for as is, and the instances a
// whole study or series resolves to for WADO-RS (with, once a response has
// read them, the prefixes that make each blob a Part 10 file, so that the
// next response has a Content-Length and large parts go by sendfile).
// Other searches read their results from the index rows into one reused
// data set (query.FindEach). Instances stream from the blob store part by
// part; frames are read with ReadAt at the byte ranges located at ingest.
// Apart from cached metadata and lists (bounded in bytes), nothing holds a
// whole series in memory.
//
// docs/conformance.md §4 lists routes, media types, status codes and limits.
package dicomweb
