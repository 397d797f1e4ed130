// The browser app is not Go: this module boundary keeps `go ./...` (vet,
// staticcheck, test) out of web/, whose node_modules may carry Go files.
module lightbox/web
