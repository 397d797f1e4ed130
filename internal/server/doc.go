// Package server assembles a Lightbox node: it opens the index database and
// blob store named by the configuration, runs migrations, starts the archive
// and the network edges (HTTP, DICOM), and shuts them down in order so that
// in-flight stores finish and nothing is left half-written.
package server
