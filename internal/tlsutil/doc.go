// Package tlsutil builds TLS configurations for Lightbox's listeners and
// clients (HTTPS/DICOMweb, DICOM, MLLP): TLS 1.2 or later with modern
// cipher suites, optional mutual TLS (IHE ATNA node authentication), and a
// self-signed certificate for demonstrations.
package tlsutil
