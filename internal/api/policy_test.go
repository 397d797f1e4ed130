package api

import (
	"net/http"
	"strings"
	"testing"

	"lightbox/internal/auth"
	"lightbox/internal/db"
)

// The quality programmes' policies over HTTP (servePolicy): anyone signed
// in reads one, staff replace it, and the body is checked strictly and by
// the programme's own rules.
func TestPolicyRoutes(t *testing.T) {
	eachAPI(t, func(*db.DB) Options { return Options{} }, func(t *testing.T, _ *db.DB, h http.Handler) {
		rad, coord := as(auth.Radiologist), as(auth.Coordinator)
		js := "application/json"
		for _, c := range []struct {
			who          qcaller
			method, path string
			body         string
			status       int
			contains     string
		}{
			{rad, "GET", "/api/mentoring/policy", "", 200, `"stage":"after"`},
			{rad, "PUT", "/api/mentoring/policy", `{"enabled":true,"new_months":6,"share_percent":50,"stage":"before"}`, 403, ""},
			{coord, "PUT", "/api/mentoring/policy", `{"enabled":true,"new_months":6,"share_percent":50,"stage":"before"}`, 200, `"new_months":6`},
			{coord, "PUT", "/api/mentoring/policy", `{"enabled":true,"new_months":6,"share_percent":50,"stage":"whenever"}`, 422, ""},
			{coord, "PUT", "/api/mentoring/policy", `{"nope":1}`, 400, ""},
			{rad, "GET", "/api/mentoring/policy", "", 200, `"stage":"before"`},
			{rad, "GET", "/api/peer-review/policy", "", 200, `"mode":"percent"`},
			{coord, "PUT", "/api/peer-review/policy", `{"mode":"count","value":2,"hide_author":true,"hide_reviewer":true}`, 200, `"mode":"count"`},
			{coord, "PUT", "/api/peer-review/policy", `{"mode":"most","value":2}`, 422, ""},
			{rad, "GET", "/api/peer-review/policy", "", 200, `"value":2`},
		} {
			w := send(h, c.who, c.method, c.path, js, c.body)
			if w.Code != c.status || !strings.Contains(w.Body.String(), c.contains) {
				t.Errorf("%s %s as %s: %d %s, want %d containing %s", c.method, c.path, c.who.role, w.Code, w.Body, c.status, c.contains)
			}
		}
	})
}
