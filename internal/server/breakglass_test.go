package server

import (
	"bytes"
	"context"
	"lightbox/internal/db/dbtest"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/facility"
	"lightbox/internal/gen"
)

// TestBreakGlass: a radiologist without privileges at SGH cannot read an
// SGH study's metadata; after breaking glass with a reason they can, the
// grant and the read are in the audit trail as an emergency override, the
// privacy officer's notice reaches administrators, and once the grant
// expires the study is out of reach again. The node's clock is moved
// rather than waited on.
func TestBreakGlass(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s, err := New(ctx, Config{DB: dbURL, Data: t.TempDir(), HTTP: "127.0.0.1:0", AETitle: "LIGHTBOX", Logger: slog.New(slog.DiscardHandler), BreakGlassTTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { s.Dispatch.Close(); s.closeListeners(); s.Storage.Close() }()
		var mu sync.Mutex
		now := time.Now()
		s.BreakGlass.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		fs := facility.Store{DB: s.Storage.DB}
		for _, code := range []string{"SGH", "HBI"} {
			f, _ := gen.FacilityByCode(code)
			if err := fs.Upsert(ctx, facility.Facility{ID: f.Code, Name: f.Name, State: f.State, TimeZone: f.TimeZone, IssuerOfPatientID: f.IssuerOfPatientID}); err != nil {
				t.Fatal(err)
			}
		}
		var study string
		err = gen.Each(ctx, gen.Options{Modality: "CT", Slices: 1, Patients: 1, Rows: 16, Columns: 16, Facility: "SGH"}, func(inst *gen.Instance) error {
			var b bytes.Buffer
			_, _ = inst.WriteTo(&b)
			study = inst.StudyInstanceUID
			_, err := s.Storage.Archive.Store(ctx, &b, archive.Source{Facility: "SGH"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		tokens := map[string]string{}
		for _, u := range []auth.User{
			{Username: "dr.hbi", Role: auth.Radiologist, Facilities: []string{"HBI"}},
			{Username: "po.admin", Role: auth.Admin},
			{Username: "tech.hbi", Role: auth.Technologist, FacilityID: "HBI"},
		} {
			if err := s.Auth.AddUser(ctx, u, "a-long-enough-password"); err != nil {
				t.Fatal(err)
			}
			if tokens[u.Username], err = s.Auth.CreateToken(ctx, u.Username, "test", time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		h := s.Handler()
		call := func(user, method, path, body string) (int, string) {
			r := httptest.NewRequest(method, path, strings.NewReader(body))
			r.RemoteAddr = "127.0.0.1:1234"
			r.Header.Set("Authorization", "Bearer "+tokens[user])
			if body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w.Code, w.Body.String()
		}
		meta := "/dicomweb/studies/" + study + "/metadata"
		glass := "/api/studies/" + study + "/break-glass"
		denied := func(when string) {
			t.Helper()
			if code, body := call("dr.hbi", "GET", meta, ""); code == http.StatusOK || strings.Contains(body, study) {
				t.Fatalf("%s: out-of-scope metadata answered %d", when, code)
			}
		}
		denied("before")
		for _, c := range []struct {
			user, path, body string
			want             int
		}{
			{"dr.hbi", glass, `{"reason": "urgent"}`, http.StatusUnprocessableEntity},
			{"dr.hbi", "/api/studies/1.2.3.4/break-glass", `{"reason": "trauma call, on-site reader unreachable"}`, http.StatusNotFound},
			{"tech.hbi", glass, `{"reason": "trauma call, on-site reader unreachable"}`, http.StatusForbidden},
		} {
			if code, body := call(c.user, "POST", c.path, c.body); code != c.want {
				t.Errorf("%s %s %s: %d %s, want %d", c.user, c.path, c.body, code, body, c.want)
			}
		}
		denied("after refused requests")
		if code, body := call("dr.hbi", "POST", glass, `{"reason": "trauma call, on-site reader unreachable"}`); code != http.StatusCreated {
			t.Fatalf("break glass: %d %s", code, body)
		}
		if code, body := call("dr.hbi", "GET", meta, ""); code != http.StatusOK || !strings.Contains(body, study) {
			t.Fatalf("metadata under the grant: %d %.200s", code, body)
		}
		if code, body := call("dr.hbi", "GET", "/api/studies/"+study+"/key-images", ""); code != http.StatusOK {
			t.Fatalf("key images under the grant: %d %s", code, body)
		}
		// Audit: the grant as an emergency override, the read as a break-glass use.
		page, err := s.Audit.Search(ctx, audit.Actor{UserID: "po.admin", Interface: audit.CLI}, audit.Filter{UserID: "dr.hbi", StudyUID: study})
		if err != nil {
			t.Fatal(err)
		}
		var override, use bool
		for _, e := range page.Events {
			override = override || (e.EventID == audit.SecurityAlert && e.EventType == audit.EmergencyOverrideStarted && e.Outcome == audit.Success)
			use = use || (e.EventID == audit.InstancesAccessed && e.EventType == audit.UseOfRestrictedFunction && strings.HasPrefix(e.Detail, "break-glass"))
		}
		if !override || !use {
			t.Errorf("audit trail: override %v, use %v in %+v", override, use, page.Events)
		}
		// The privacy officer's notice, read by administrators, names no patient.
		code, body := call("po.admin", "GET", "/api/notices", "")
		if code != http.StatusOK || !strings.Contains(body, "Break-glass access by dr.hbi at facility SGH") || strings.Contains(body, study) {
			t.Errorf("admin notices: %d %s", code, body)
		}
		mu.Lock()
		now = now.Add(2 * time.Minute)
		mu.Unlock()
		denied("after expiry")
		if code, _ := call("dr.hbi", "GET", "/api/studies/"+study+"/key-images", ""); code != http.StatusNotFound {
			t.Errorf("key images after expiry: %d", code)
		}
	})
}
