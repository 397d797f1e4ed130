// Package deid de-identifies DICOM data sets by the Basic Application Level
// Confidentiality Profile of DICOM PS3.15 Annex E (E.2 and Table E.1-1):
// every attribute the table lists is removed (X), emptied (Z), replaced by
// a dummy of its VR (D) or, for UIDs (U), replaced by a new UID that is the
// same for the same original UID across every instance de-identified with
// one Remapper, so a study stays a study. Private attributes, curves and
// overlay data are removed; Patient Identity Removed (0012,0062) and
// De-identification Method (0012,0063) are set. An instance whose Burned In
// Annotation (0028,0301) is YES is refused (its pixels may name the
// patient); one that does not say is flagged.
//
// Table E.1-1 is data (table_e1_1.tsv), transcribed from the standard; the
// tests check every listed attribute with DCMTK's dcmdump.
package deid
