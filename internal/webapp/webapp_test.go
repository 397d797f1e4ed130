package webapp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestOwns(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/", true},
		{"GET", "/login", true},
		{"GET", "/case/1.2.3", true},
		{"HEAD", "/assets/index.js", true},
		{"POST", "/", false},
		{"GET", "/api/worklist", false},
		{"GET", "/api", false},
		{"GET", "/dicomweb/studies", false},
		{"GET", "/fhir/metadata", false},
		{"GET", "/ack/token", false},
		{"GET", "/healthz", false},
		{"GET", "/readyz", false},
	} {
		if got := Owns(httptest.NewRequest(c.method, c.path, nil)); got != c.want {
			t.Errorf("%s %s: %v, want %v", c.method, c.path, got, c.want)
		}
	}
}

// TestWrap: the app answers its own paths (index.html for app routes, or
// the placeholder page before `make web`), everything else reaches next.
func TestWrap(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := Wrap(next, func(r *http.Request) bool { return r.URL.Path == "/metrics" })
	for _, p := range []string{"/", "/case/1.2.3", "/worklist"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		body := w.Body.String()
		if Built() {
			if w.Code != 200 || !strings.Contains(body, `<div id="root">`) || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("%s: %d %q", p, w.Code, body)
			}
		} else if w.Code != http.StatusServiceUnavailable || !strings.Contains(body, "make web") {
			t.Errorf("%s without a build: %d %q", p, w.Code, body)
		}
	}
	for _, p := range []string{"/api/worklist", "/dicomweb/studies", "/metrics"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != http.StatusTeapot {
			t.Errorf("%s reached the app: %d", p, w.Code)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/PLACEHOLDER", nil))
	if strings.Contains(w.Body.String(), "go:embed") {
		t.Error("the placeholder file is served as a file")
	}
}
