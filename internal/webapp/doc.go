// Package webapp serves the reading-room web app (web/, React + Vite) from
// files embedded in the binary: every GET outside the API, DICOMweb and
// FHIR prefixes gets a file of the build, or index.html so that the app's
// own routes (/worklist, /case/...) survive a reload.
//
// `make web` builds web/ into static/ here (Vite's outDir). Only
// static/PLACEHOLDER is committed, so `go build` works on a fresh clone
// before Node has run; the binary then answers the app's pages with a short
// page that says how to build it.
package webapp
