package auth

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

const pw = "correct horse battery"

func newTestService(t *testing.T, d *db.DB, o Options) (*Service, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	o.Now = c.now
	s := New(d, o)
	ctx := context.Background()
	for _, u := range []User{
		{Username: "dr.alpha", Role: Radiologist, Facilities: []string{"SGH"}},
		{Username: "tech", Role: Technologist, FacilityID: "SGH"},
	} {
		if err := s.AddUser(ctx, u, pw); err != nil {
			t.Fatal(err)
		}
	}
	return s, c
}

func enrol(t *testing.T, s *Service, c *clock, user string) string {
	t.Helper()
	ctx := context.Background()
	e, err := s.EnrolTOTP(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.URL, "otpauth://totp/") || !strings.Contains(e.URL, "secret="+e.Secret) {
		t.Fatalf("url %s", e.URL)
	}
	code, _ := totp.GenerateCode(e.Secret, c.t)
	if err := s.ConfirmTOTP(ctx, user, code); err != nil {
		t.Fatal(err)
	}
	return e.Secret
}

func TestTOTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		key := make([]byte, 32)
		s, c := newTestService(t, d, Options{SecretKey: key, MaxFailures: 10})
		if _, err := s.Authenticate(ctx, "dr.alpha", pw, ""); !errors.Is(err, ErrTOTPEnrolmentRequired) {
			t.Fatalf("mandatory role without enrolment: %v", err)
		}
		if _, err := s.Login(ctx, "dr.alpha", pw); err != nil {
			t.Fatalf("first factor alone: %v", err)
		}
		if p, err := s.Authenticate(ctx, "tech", pw, ""); err != nil || p.Username != "tech" {
			t.Fatalf("optional role: %v", err)
		}
		e, err := s.EnrolTOTP(ctx, "dr.alpha")
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		_ = d.QueryRow(ctx, "SELECT totp_pending FROM app_user WHERE username = ?", "dr.alpha").Scan(&stored)
		if !strings.HasPrefix(stored, "v1:") || strings.Contains(stored, e.Secret) {
			t.Fatalf("secret stored in clear: %q", stored)
		}
		if err := s.ConfirmTOTP(ctx, "dr.alpha", "000000"); !errors.Is(err, ErrBadTOTP) {
			t.Fatalf("wrong confirm code: %v", err)
		}
		code, _ := totp.GenerateCode(e.Secret, c.t)
		if err := s.ConfirmTOTP(ctx, "dr.alpha", code); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.TOTPEnrolled(ctx, "dr.alpha"); !ok {
			t.Fatal("not enrolled")
		}
		if _, err := s.Authenticate(ctx, "dr.alpha", pw, code); !errors.Is(err, ErrBadTOTP) {
			t.Fatalf("confirmation code replayed: %v", err)
		}
		if _, err := s.Authenticate(ctx, "dr.alpha", pw, ""); !errors.Is(err, ErrTOTPRequired) {
			t.Fatalf("no code: %v", err)
		}
		c.t = c.t.Add(30 * time.Second)
		code, _ = totp.GenerateCode(e.Secret, c.t)
		if _, err := s.Authenticate(ctx, "dr.alpha", "wrong password!", code); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
		if p, err := s.Authenticate(ctx, "dr.alpha", pw, code); err != nil || p.Role != Radiologist {
			t.Fatalf("login with code: %v", err)
		}
		if _, err := s.Authenticate(ctx, "dr.alpha", pw, code); !errors.Is(err, ErrBadTOTP) {
			t.Fatalf("replayed code: %v", err)
		}
		// An older code (previous step, still within skew) is refused too.
		prev, _ := totp.GenerateCode(e.Secret, c.t.Add(-30*time.Second))
		if _, err := s.Authenticate(ctx, "dr.alpha", pw, prev); !errors.Is(err, ErrBadTOTP) {
			t.Fatalf("older code: %v", err)
		}
		if _, err := s.Authenticate(ctx, "dr.alpha", pw, "123456"); !errors.Is(err, ErrBadTOTP) {
			t.Fatalf("wrong code: %v", err)
		}
		c.t = c.t.Add(30 * time.Second)
		next, _ := totp.GenerateCode(e.Secret, c.t)
		if _, err := s.Authenticate(ctx, "dr.alpha", pw, next); err != nil {
			t.Fatalf("next step: %v", err)
		}
		// A service with another secret key cannot use the sealed secret.
		other := New(d, Options{SecretKey: []byte("another key of thirty-two bytes!"), Now: c.now})
		c.t = c.t.Add(30 * time.Second)
		next, _ = totp.GenerateCode(e.Secret, c.t)
		if _, err := other.Authenticate(ctx, "dr.alpha", pw, next); err == nil || errors.Is(err, ErrBadTOTP) {
			t.Fatalf("wrong secret key: %v", err)
		}
		if err := s.ResetTOTP(ctx, "dr.alpha"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "dr.alpha", pw, next); !errors.Is(err, ErrTOTPEnrolmentRequired) {
			t.Fatalf("after reset: %v", err)
		}
		// Policy: no mandatory roles.
		none := New(d, Options{TOTPRoles: []Role{}, Now: c.now})
		if _, err := none.Authenticate(ctx, "dr.alpha", pw, ""); err != nil {
			t.Fatalf("TOTP not mandatory: %v", err)
		}
		// Unsealed secrets still work (no key configured).
		sec := enrol(t, none, c, "tech")
		c.t = c.t.Add(30 * time.Second)
		code, _ = totp.GenerateCode(sec, c.t)
		if _, err := none.Authenticate(ctx, "tech", pw, ""); !errors.Is(err, ErrTOTPRequired) {
			t.Fatalf("enrolled optional role must give a code: %v", err)
		}
		if _, err := none.Authenticate(ctx, "tech", pw, code); err != nil {
			t.Fatal(err)
		}
	})
}

// do sends a request through h with the given cookie and headers.
func do(h http.Handler, method, path, body, cookie string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: "lightbox_session", Value: cookie})
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func testHandler(s *Service) http.Handler {
	mux := http.NewServeMux()
	s.Routes(mux)
	mux.HandleFunc("/api/whoami", func(w http.ResponseWriter, r *http.Request) {
		p := PrincipalFrom(r.Context())
		if p == nil {
			http.Error(w, "no principal", 500)
			return
		}
		_, _ = w.Write([]byte(p.Username))
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/ack/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ack")) })
	return SecurityHeaders(s.Middleware(mux, MiddlewareOptions{}), false)
}

func login(t *testing.T, h http.Handler, body string) (cookie string, js SessionJSON) {
	t.Helper()
	w := do(h, "POST", "/api/login", body, "")
	if w.Code != 200 {
		t.Fatalf("login %d %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == "lightbox_session" {
			cookie = c.Value
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &js); err != nil || cookie == "" || js.CSRFToken == "" {
		t.Fatalf("login response %s %v", w.Body, err)
	}
	return cookie, js
}

func TestSessionsMiddlewareCSRF(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, c := newTestService(t, d, Options{IdleTimeout: 15 * time.Minute, MaxSessionAge: time.Hour})
		sec := enrol(t, s, c, "dr.alpha")
		h := testHandler(s)

		// Public paths open; others 401 JSON.
		if w := do(h, "GET", "/healthz", "", ""); w.Code != 200 {
			t.Fatalf("healthz %d", w.Code)
		}
		if w := do(h, "GET", "/ack/abc", "", ""); w.Code != 200 {
			t.Fatalf("ack %d", w.Code)
		}
		w := do(h, "GET", "/api/whoami", "", "")
		if w.Code != 401 || !strings.Contains(w.Body.String(), `"error"`) || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("unauthenticated %d %s", w.Code, w.Body)
		}
		// Security headers on every response.
		if !strings.Contains(w.Header().Get("Content-Security-Policy"), "script-src 'self' 'wasm-unsafe-eval';") ||
			w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("X-Frame-Options") != "DENY" ||
			w.Header().Get("Referrer-Policy") != "no-referrer" || w.Header().Get("Strict-Transport-Security") != "" {
			t.Fatalf("headers %v", w.Header())
		}
		if w := do(h, "GET", "/api/whoami", "", "bogus"); w.Code != 401 {
			t.Fatalf("bogus cookie %d", w.Code)
		}

		// Login: TOTP needed for a radiologist.
		w = do(h, "POST", "/api/login", `{"username":"dr.alpha","password":"`+pw+`"}`, "")
		if w.Code != 401 || !strings.Contains(w.Body.String(), "totp_required") {
			t.Fatalf("login without code %d %s", w.Code, w.Body)
		}
		if w := do(h, "POST", "/api/login", `{"username":"dr.alpha","password":"nope"}`, ""); w.Code != 401 {
			t.Fatalf("bad password %d", w.Code)
		}
		c.t = c.t.Add(30 * time.Second)
		code, _ := totp.GenerateCode(sec, c.t)
		r := httptest.NewRequest("POST", "/api/login", strings.NewReader(`{"username":"dr.alpha","password":"`+pw+`","totp":"`+code+`"}`))
		r.Header.Set("Content-Type", "application/json")
		r.TLS = &tls.ConnectionState{}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("login %d %s", w.Code, w.Body)
		}
		var ck *http.Cookie
		for _, x := range w.Result().Cookies() {
			if x.Name == "lightbox_session" {
				ck = x
			}
		}
		if ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" {
			t.Fatalf("cookie %+v", ck)
		}
		if w.Header().Get("Strict-Transport-Security") == "" {
			t.Fatal("no HSTS over TLS")
		}
		var js SessionJSON
		_ = json.Unmarshal(w.Body.Bytes(), &js)
		if js.Principal.Username != "dr.alpha" || js.CSRFToken != CSRFToken(ck.Value) || js.ExpiresIn != 900 {
			t.Fatalf("session json %+v", js)
		}
		var stored int
		_ = d.QueryRow(ctx, "SELECT COUNT(*) FROM app_session WHERE id_sha256 = ?", ck.Value).Scan(&stored)
		if stored != 0 {
			t.Fatal("raw session ID stored")
		}
		cookie := ck.Value

		// Principal in context; expiry header.
		w = do(h, "GET", "/api/whoami", "", cookie)
		if w.Code != 200 || w.Body.String() != "dr.alpha" || w.Header().Get(ExpiresInHeader) != "900" {
			t.Fatalf("whoami %d %s %v", w.Code, w.Body, w.Header())
		}
		// CSRF.
		if w := do(h, "POST", "/api/whoami", "", cookie); w.Code != 403 {
			t.Fatalf("POST without CSRF %d", w.Code)
		}
		if w := do(h, "DELETE", "/api/whoami", "", cookie, CSRFHeader, "wrong"); w.Code != 403 {
			t.Fatalf("wrong CSRF %d", w.Code)
		}
		if w := do(h, "POST", "/api/whoami", "", cookie, CSRFHeader, js.CSRFToken); w.Code != 200 {
			t.Fatalf("right CSRF %d", w.Code)
		}
		tok, _ := s.CreateToken(ctx, "tech", "pacs", time.Hour)
		if w := do(h, "POST", "/api/whoami", "", "", "Authorization", "Bearer "+tok); w.Code != 200 || w.Body.String() != "tech" {
			t.Fatalf("bearer POST %d %s", w.Code, w.Body)
		}
		if w := do(h, "GET", "/api/whoami", "", "", "Authorization", "Bearer lbx_nope"); w.Code != 401 {
			t.Fatalf("bad bearer %d", w.Code)
		}

		// Re-authentication: fresh after login, stale later.
		reauthCheck := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := s.RequireRecentAuth(r.Context()); err != nil {
				w.WriteHeader(401)
			}
		})
		rh := s.Middleware(reauthCheck, MiddlewareOptions{})
		if w := do(rh, "GET", "/sign", "", cookie); w.Code != 200 {
			t.Fatal("login counts as recent authentication")
		}
		// Idle: 14 minutes later still alive (and slides), polling /api/session does not slide.
		c.t = c.t.Add(14 * time.Minute)
		if w := do(rh, "GET", "/sign", "", cookie); w.Code != 401 {
			t.Fatal("stale authentication accepted for signing")
		}
		c.t = c.t.Add(30 * time.Second)
		code, _ = totp.GenerateCode(sec, c.t)
		w = do(h, "POST", "/api/reauth", `{"password":"`+pw+`","totp":"`+code+`"}`, cookie, CSRFHeader, js.CSRFToken)
		if w.Code != 200 {
			t.Fatalf("reauth %d %s", w.Code, w.Body)
		}
		if w := do(rh, "GET", "/sign", "", cookie); w.Code != 200 {
			t.Fatal("re-authenticated session refused")
		}
		c.t = c.t.Add(10 * time.Minute)
		w = do(h, "GET", "/api/session", "", cookie)
		if w.Code != 200 || w.Header().Get(ExpiresInHeader) != "300" {
			t.Fatalf("session poll %d %v", w.Code, w.Header())
		}
		if w := do(h, "GET", "/api/whoami", "", cookie, PassiveHeader, "1"); w.Code != 200 {
			t.Fatal("passive request")
		}
		c.t = c.t.Add(5*time.Minute + time.Second)
		if w := do(h, "GET", "/api/whoami", "", cookie); w.Code != 401 {
			t.Fatalf("idle session alive %d", w.Code)
		}
		if w := do(h, "GET", "/api/session", "", cookie); w.Code != 401 {
			t.Fatal("expired session reported alive")
		}

		// Absolute lifetime: keep active every 10 minutes, still ends after an hour.
		cookie, js = login(t, h, `{"username":"tech","password":"`+pw+`"}`)
		start := c.t
		for c.t.Sub(start) < 50*time.Minute {
			c.t = c.t.Add(10 * time.Minute)
			if w := do(h, "GET", "/api/whoami", "", cookie); w.Code != 200 {
				t.Fatalf("active session ended at %v", c.t.Sub(start))
			}
		}
		c.t = start.Add(time.Hour)
		if w := do(h, "GET", "/api/whoami", "", cookie); w.Code != 401 {
			t.Fatal("session outlived its maximum age")
		}

		// Logout.
		cookie, js = login(t, h, `{"username":"tech","password":"`+pw+`"}`)
		if w := do(h, "POST", "/api/logout", "", cookie); w.Code != 403 {
			t.Fatalf("logout without CSRF %d", w.Code)
		}
		w = do(h, "POST", "/api/logout", "", cookie, CSRFHeader, js.CSRFToken)
		if w.Code != 204 || len(w.Result().Cookies()) == 0 || w.Result().Cookies()[0].MaxAge >= 0 {
			t.Fatalf("logout %d %v", w.Code, w.Result().Cookies())
		}
		if w := do(h, "GET", "/api/whoami", "", cookie); w.Code != 401 {
			t.Fatal("session alive after logout")
		}
		// Disabling a user ends the sessions.
		cookie, _ = login(t, h, `{"username":"tech","password":"`+pw+`"}`)
		_ = s.SetDisabled(ctx, "tech", true)
		if w := do(h, "GET", "/api/whoami", "", cookie); w.Code == 200 {
			t.Fatal("disabled user's session alive")
		}
		if n, err := s.PruneSessions(ctx); err != nil || n != 0 {
			t.Fatalf("prune %d %v", n, err)
		}
		c.t = c.t.Add(48 * time.Hour)
		if n, err := s.PruneSessions(ctx); err != nil || n == 0 {
			t.Fatalf("prune %d %v", n, err)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, c := newTestService(t, d, Options{LoginBurst: 3, LoginEvery: 10 * time.Second, MaxFailures: 100})
		h := testHandler(s)
		body := `{"username":"tech","password":"wrong password"}`
		for i := range 3 {
			if w := do(h, "POST", "/api/login", body, ""); w.Code != 401 {
				t.Fatalf("attempt %d: %d", i, w.Code)
			}
		}
		w := do(h, "POST", "/api/login", body, "")
		if w.Code != 429 || w.Header().Get("Retry-After") != "10" {
			t.Fatalf("4th attempt %d %v", w.Code, w.Header())
		}
		// Another address is not limited.
		r := httptest.NewRequest("POST", "/api/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = "198.51.100.7:4000"
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 401 {
			t.Fatalf("other address %d", w.Code)
		}
		c.t = c.t.Add(10 * time.Second)
		if w := do(h, "POST", "/api/login", body, ""); w.Code != 401 {
			t.Fatalf("after refill %d", w.Code)
		}
		if w := do(h, "POST", "/api/login", body, ""); w.Code != 429 {
			t.Fatalf("one token refilled only %d", w.Code)
		}
		// Form posts (cross-site) are refused.
		r = httptest.NewRequest("POST", "/api/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "text/plain")
		r.RemoteAddr = "198.51.100.8:4000"
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusUnsupportedMediaType {
			t.Fatalf("text/plain login %d", w.Code)
		}
	})
}

func TestTokenAllowlist(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, _ := newTestService(t, d, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
		if _, err := s.CreateTokenWith(ctx, "tech", "x", TokenOptions{TTL: time.Hour, AllowCIDRs: []string{"not a net"}}); err == nil {
			t.Fatal("bad CIDR accepted")
		}
		tok, err := s.CreateTokenWith(ctx, "tech", "modality", TokenOptions{TTL: time.Hour, AllowCIDRs: []string{"10.20.0.0/16", "2001:db8::1"}})
		if err != nil {
			t.Fatal(err)
		}
		try := func(remote, xff string) error {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = remote
			if xff != "" {
				r.Header.Set("X-Forwarded-For", xff)
			}
			r.Header.Set("Authorization", "Bearer "+tok)
			_, err := s.FromRequest(r)
			return err
		}
		if err := try("10.20.3.4:1234", ""); err != nil {
			t.Fatalf("allowed address: %v", err)
		}
		if err := try("[2001:db8::1]:104", ""); err != nil {
			t.Fatalf("allowed v6 address: %v", err)
		}
		if err := try("10.21.0.1:1234", ""); !errors.Is(err, ErrAddressNotAllowed) {
			t.Fatalf("other address: %v", err)
		}
		if err := try("127.0.0.1:5000", "192.0.2.9, 10.20.0.5"); err != nil {
			t.Fatalf("via trusted proxy: %v", err)
		}
		if err := try("192.0.2.50:5000", "10.20.0.5"); !errors.Is(err, ErrAddressNotAllowed) {
			t.Fatalf("XFF from untrusted peer believed: %v", err)
		}
		if _, err := s.VerifyToken(ctx, tok); !errors.Is(err, ErrAddressNotAllowed) {
			t.Fatalf("restricted token without address: %v", err)
		}
		h := s.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), MiddlewareOptions{})
		if w := do(h, "GET", "/x", "", "", "Authorization", "Bearer "+tok); w.Code != 403 {
			t.Fatalf("middleware from outside allowlist %d", w.Code)
		}
		// Old signature still works and is unrestricted.
		open, _ := s.CreateToken(ctx, "tech", "viewer", time.Hour)
		if _, err := s.VerifyToken(ctx, open); err != nil {
			t.Fatal(err)
		}
	})
}

// TestLoginRateLimitCountsFailures: a successful sign-in gives its token
// back, so a reading room behind one address (a NAT) signs in as often as
// it needs at a shift change, while failed attempts from it still run the
// bucket dry, after which even the right password waits.
func TestLoginRateLimitCountsFailures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _ := newTestService(t, d, Options{LoginBurst: 3, LoginEvery: 10 * time.Second, MaxFailures: 100})
		h := testHandler(s)
		good := `{"username":"tech","password":"` + pw + `"}`
		for i := range 10 {
			if w := do(h, "POST", "/api/login", good, ""); w.Code != 200 {
				t.Fatalf("sign-in %d: %d %s", i, w.Code, w.Body)
			}
		}
		for i := range 3 {
			if w := do(h, "POST", "/api/login", `{"username":"tech","password":"wrong password"}`, ""); w.Code != 401 {
				t.Fatalf("failed attempt %d: %d", i, w.Code)
			}
		}
		if w := do(h, "POST", "/api/login", good, ""); w.Code != 429 {
			t.Fatalf("right password after the bucket ran dry: %d", w.Code)
		}
	})
}

// TestLockedAnswersLikeUnknown: a locked account's login answer (status and
// body) is the unknown user name's, even with the right password, so
// lockouts do not enumerate accounts; the enrolment endpoint, which also
// takes a password, answers the same way.
func TestLockedAnswersLikeUnknown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _ := newTestService(t, d, Options{LoginBurst: 100, MaxFailures: 3})
		h := testHandler(s)
		for range 3 {
			do(h, "POST", "/api/login", `{"username":"tech","password":"wrong password"}`, "")
		}
		if _, err := s.Login(context.Background(), "tech", pw); !errors.Is(err, ErrLocked) {
			t.Fatalf("not locked: %v", err)
		}
		for _, path := range []string{"/api/login", "/api/login/enrol"} {
			unknown := do(h, "POST", path, `{"username":"nobody","password":"`+pw+`"}`, "")
			for _, body := range []string{`{"username":"tech","password":"` + pw + `"}`, `{"username":"tech","password":"wrong password"}`} {
				w := do(h, "POST", path, body, "")
				if w.Code != unknown.Code || w.Body.String() != unknown.Body.String() {
					t.Errorf("%s locked %s: %d %s; unknown: %d %s", path, body, w.Code, w.Body, unknown.Code, unknown.Body)
				}
			}
		}
	})
}
