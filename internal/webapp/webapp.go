package webapp

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:static
var files embed.FS

// reserved are the prefixes other handlers own; the app never answers them
// (an unknown /api/ path stays a JSON 404 behind authentication).
var reserved = []string{"/api/", "/dicomweb/", "/fhir/", "/ack/", "/healthz", "/readyz"}

// Built reports whether the embedded build holds the app (false on a clone
// where `make web` has not run).
func Built() bool {
	_, err := fs.Stat(files, "static/index.html")
	return err == nil
}

// Owns reports whether the app answers this request: a GET or HEAD outside
// the reserved prefixes.
func Owns(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	if p == "/api" || p == "/fhir" || p == "/dicomweb" {
		return false
	}
	for _, pre := range reserved {
		if strings.HasPrefix(p, pre) {
			return false
		}
	}
	return true
}

// Handler serves the app: a file of the build when one matches the path
// (hashed assets are cached for a year), else index.html (never cached, so a
// new binary's app is picked up at the next load).
func Handler() http.Handler {
	sub, _ := fs.Sub(files, "static")
	serve := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Built() {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(placeholder))
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name != "" && name != "index.html" && name != "PLACEHOLDER" {
			if st, err := fs.Stat(sub, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				serve.ServeHTTP(w, r)
				return
			}
		}
		b, err := fs.ReadFile(sub, "index.html")
		if err != nil {
			http.Error(w, "web app unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(b)
	})
}

// Wrap sends the requests the app owns to the app and every other one to
// next (the authenticated API). routed reports whether next has a route for
// a request: such a request is never the app's, whatever its prefix, so a
// route added later (say /metrics) cannot be shadowed by the app and lose
// its authentication. The app's files carry no patient data, so they are
// public like the login page they contain.
func Wrap(next http.Handler, routed func(*http.Request) bool) http.Handler {
	app := Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Owns(r) && !routed(r) {
			app.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

const placeholder = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lightbox</title></head>
<body style="background:#111;color:#eee;font:16px sans-serif;padding:2em">
<h1>Lightbox</h1><p>The web app is not built into this binary. Run <code>make web</code> (or <code>make demo</code>) and rebuild.</p>
<p>The JSON API is at <code>/api</code>, DICOMweb at <code>/dicomweb</code>, FHIR at <code>/fhir</code>.</p></body></html>
`
