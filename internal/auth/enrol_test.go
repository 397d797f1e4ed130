package auth

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

// TestBrowserEnrolment: a radiologist without a second factor enrols with
// the password alone and is logged in by the confirmation; once enrolled,
// the password alone can no longer start another enrolment.
func TestBrowserEnrolment(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		s, c := newTestService(t, d, Options{IdleTimeout: 15 * time.Minute, MaxSessionAge: time.Hour})
		h := testHandler(s)
		if w := do(h, "POST", "/api/login", `{"username":"dr.alpha","password":"`+pw+`"}`, ""); w.Code != 403 || !strings.Contains(w.Body.String(), "enrolment") {
			t.Fatalf("login before enrolment: %d %s", w.Code, w.Body)
		}
		if w := do(h, "POST", "/api/login/enrol", `{"username":"dr.alpha","password":"wrong"}`, ""); w.Code != 401 {
			t.Fatalf("enrol with a wrong password: %d %s", w.Code, w.Body)
		}
		w := do(h, "POST", "/api/login/enrol", `{"username":"dr.alpha","password":"`+pw+`"}`, "")
		var e struct{ Secret, URL string }
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &e) != nil || !strings.HasPrefix(e.URL, "otpauth://totp/") {
			t.Fatalf("enrol: %d %s", w.Code, w.Body)
		}
		if w := do(h, "POST", "/api/login/enrol/confirm", `{"username":"dr.alpha","password":"`+pw+`","totp":"000000"}`, ""); w.Code != 401 {
			t.Fatalf("confirm with a wrong code: %d %s", w.Code, w.Body)
		}
		code, _ := totp.GenerateCode(e.Secret, c.t)
		w = do(h, "POST", "/api/login/enrol/confirm", `{"username":"dr.alpha","password":"`+pw+`","totp":"`+code+`"}`, "")
		var js SessionJSON
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &js) != nil || js.CSRFToken == "" || len(w.Result().Cookies()) == 0 {
			t.Fatalf("confirm: %d %s", w.Code, w.Body)
		}
		if w := do(h, "POST", "/api/login/enrol", `{"username":"dr.alpha","password":"`+pw+`"}`, ""); w.Code != 409 {
			t.Fatalf("second enrolment with the password alone: %d %s", w.Code, w.Body)
		}
		c.t = c.t.Add(time.Minute)
		code, _ = totp.GenerateCode(e.Secret, c.t)
		login(t, h, `{"username":"dr.alpha","password":"`+pw+`","totp":"`+code+`"}`)
	})
}

func TestLogoutClearsSiteData(t *testing.T) {
	d := dbtest.SQLite(t)
	s, c := newTestService(t, d, Options{IdleTimeout: 15 * time.Minute, MaxSessionAge: time.Hour})
	sec := enrol(t, s, c, "dr.alpha")
	h := testHandler(s)
	c.t = c.t.Add(time.Minute)
	code, _ := totp.GenerateCode(sec, c.t)
	cookie, js := login(t, h, `{"username":"dr.alpha","password":"`+pw+`","totp":"`+code+`"}`)
	w := do(h, "POST", "/api/logout", "", cookie, CSRFHeader, js.CSRFToken)
	if w.Code != 204 || !strings.Contains(w.Header().Get("Clear-Site-Data"), `"storage"`) || !strings.Contains(w.Header().Get("Clear-Site-Data"), `"cache"`) {
		t.Fatalf("logout: %d %v", w.Code, w.Header())
	}
}
