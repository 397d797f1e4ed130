// Package importer bulk-loads DICOM files from folders and zip archives into
// the archive, in parallel, reporting progress and a per-file account of
// what was stored, already present, rejected (malformed DICOM) or skipped
// (not DICOM at all).
package importer
