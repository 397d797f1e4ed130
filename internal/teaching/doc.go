// Package teaching keeps the group's teaching file: anonymised copies of
// cases shared by readers, de-identified by the DICOM PS3.15 Basic
// Application Level Confidentiality Profile (internal/deid) with UIDs
// remapped consistently across the case, with the reader's teaching note,
// subspecialty and finding to browse by. A case with burned-in annotation
// is refused; one whose instances do not say is flagged for a look.
package teaching
