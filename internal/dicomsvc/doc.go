// Package dicomsvc puts Lightbox's domain behind the DICOM network stack
// (package dimse): who may associate (known calling AE titles, or a Lightbox
// user by user identity negotiation) and what they may see (the AE's
// facility, or the user's scope); storage into the archive; C-FIND, C-MOVE
// and C-GET on the index through the same query engine as QIDO-RS; Modality
// Worklist from scheduled orders; MPPS into order state.
package dicomsvc
