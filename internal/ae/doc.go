// Package ae keeps the remote DICOM application entities a node knows:
// modalities and PACS that may associate with it (by calling AE title),
// destinations for C-MOVE, and the facility each one belongs to, which is
// how an instance received over DICOM is attributed to a facility.
package ae
