package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lightbox/internal/auth"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

// The API tests share one way in: an API over each test database
// (dbtest.Each), registered on a fresh mux, whose callers name themselves
// with X-Test-* headers, so a test says only which dependencies it needs
// and who calls.

// qcaller is who a test request is from: X-Test-User, X-Test-Role and
// X-Test-Facilities.
type qcaller struct{ user, role, facilities string }

// as is a caller of role only; testPrincipal names them "u-<role>".
func as(role auth.Role) qcaller { return qcaller{role: string(role)} }

// testPrincipal is the caller the X-Test-* headers name; administrators and
// coordinators see every facility.
func testPrincipal(r *http.Request) (*auth.Principal, error) {
	role := auth.Role(r.Header.Get("X-Test-Role"))
	user := r.Header.Get("X-Test-User")
	if user == "" {
		user = "u-" + string(role)
	}
	var facs []string
	if f := r.Header.Get("X-Test-Facilities"); f != "" {
		facs = strings.Split(f, ",")
	}
	return &auth.Principal{Username: user, Role: role, Facilities: facs, All: role == auth.Admin || role == auth.Coordinator}, nil
}

// apiMux is the API built from o (testPrincipal unless o names a
// principal) with its routes on a fresh mux.
func apiMux(o Options) *http.ServeMux {
	if o.Principal == nil {
		o.Principal = testPrincipal
	}
	mux := http.NewServeMux()
	New(o).Register(mux)
	return mux
}

// eachAPI runs f on every test database with the API that opts describes
// for it (DB filled in).
func eachAPI(t *testing.T, opts func(d *db.DB) Options, f func(t *testing.T, d *db.DB, h http.Handler)) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		o := opts(d)
		o.DB = d
		f(t, d, apiMux(o))
	})
}

// send makes one request to h as c; a body goes as ctype.
func send(h http.Handler, c qcaller, method, path, ctype, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	r.Header.Set("X-Test-User", c.user)
	r.Header.Set("X-Test-Role", c.role)
	r.Header.Set("X-Test-Facilities", c.facilities)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
