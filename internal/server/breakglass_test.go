package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/dcm"
	"lightbox/internal/dimse"
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
		s := testNode(t, Config{DB: dbURL, DICOM: "127.0.0.1:0", BreakGlassTTL: time.Minute})
		var mu sync.Mutex
		now := time.Now()
		s.BreakGlass.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		seedFacilities(t, s)
		study := storeCT(t, s, "SGH", 0).Study
		tokens := map[string]string{}
		for _, u := range []auth.User{
			{Username: "dr.hbi", Role: auth.Radiologist, Facilities: []string{"HBI"}},
			{Username: "po.admin", Role: auth.Admin},
			{Username: "tech.hbi", Role: auth.Technologist, FacilityID: "HBI"},
		} {
			if err := s.Auth.AddUser(ctx, u, "a-long-enough-password"); err != nil {
				t.Fatal(err)
			}
			tok, err := s.Auth.CreateToken(ctx, u.Username, "test", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			tokens[u.Username] = tok
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
		// Over DIMSE, the same user identified on the association (PS3.7
		// user identity negotiation) under the same rule.
		go func() { _ = s.dicom.Serve(s.dicomLn[0]) }()
		if n := dimseFind(t, s.dicomLn[0].Addr().String(), study); n != 0 {
			t.Fatalf("C-FIND before the grant found %d", n)
		}
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
		if n := dimseFind(t, s.dicomLn[0].Addr().String(), study); n != 1 {
			t.Fatalf("C-FIND under the grant found %d", n)
		}
		if n := dimseGet(t, s.dicomLn[0].Addr().String(), study); n != 1 {
			t.Fatalf("C-GET under the grant retrieved %d instances", n)
		}
		// Audit: the grant as an emergency override, the read as a break-glass use.
		page, err := s.Audit.Search(ctx, audit.Actor{UserID: "po.admin", Interface: audit.CLI}, audit.Filter{UserID: "dr.hbi", StudyUID: study})
		if err != nil {
			t.Fatal(err)
		}
		var override, use, dimseUse bool
		for _, e := range page.Events {
			override = override || (e.EventID == audit.SecurityAlert && e.EventType == audit.EmergencyOverrideStarted && e.Outcome == audit.Success)
			use = use || (e.EventID == audit.InstancesAccessed && e.EventType == audit.UseOfRestrictedFunction && strings.HasPrefix(e.Detail, "break-glass"))
			dimseUse = dimseUse || (e.EventID == audit.InstancesTransferred && e.EventType == audit.UseOfRestrictedFunction && e.Detail == "break-glass: DIMSE retrieve")
		}
		if !override || !use || !dimseUse {
			t.Errorf("audit trail: override %v, use %v, DIMSE use %v in %+v", override, use, dimseUse, page.Events)
		}
		// The privacy officer's notice, read by administrators, names no patient.
		code, body := call("po.admin", "GET", "/api/notices", "")
		if code != http.StatusOK || !strings.Contains(body, "Break-glass access by dr.hbi at facility SGH") || strings.Contains(body, study) ||
			strings.Contains(body, "trauma call") {
			t.Errorf("admin notices (no study, no free-text reason): %d %s", code, body)
		}
		// The reason is read in Lightbox, by administrators, and that read is audited.
		code, body = call("po.admin", "GET", "/api/break-glass?since=2000-01-01", "")
		if code != http.StatusOK || !strings.Contains(body, "trauma call, on-site reader unreachable") || !strings.Contains(body, study) {
			t.Errorf("grant list: %d %s", code, body)
		}
		if code, _ := call("dr.hbi", "GET", "/api/break-glass", ""); code != http.StatusForbidden {
			t.Errorf("grant list for a reader: %d", code)
		}
		if code, _ := call("po.admin", "GET", "/api/break-glass?since=yesterday", ""); code != http.StatusBadRequest {
			t.Errorf("grant list, bad date: %d", code)
		}
		reads, err := s.Audit.Search(ctx, audit.Actor{UserID: "po.admin", Interface: audit.CLI}, audit.Filter{UserID: "po.admin"})
		if err != nil {
			t.Fatal(err)
		}
		listed := false
		for _, e := range reads.Events {
			listed = listed || (e.EventID == audit.PatientRecord && e.ObjectType == "break-glass")
		}
		if !listed {
			t.Errorf("the grant list read is not audited: %+v", reads.Events)
		}
		mu.Lock()
		now = now.Add(2 * time.Minute)
		mu.Unlock()
		denied("after expiry")
		if n := dimseFind(t, s.dicomLn[0].Addr().String(), study); n != 0 {
			t.Fatalf("C-FIND after expiry found %d", n)
		}
		if code, _ := call("dr.hbi", "GET", "/api/studies/"+study+"/key-images", ""); code != http.StatusNotFound {
			t.Errorf("key images after expiry: %d", code)
		}
	})
}

// dimseAssoc opens an association as dr.hbi (user identity with passcode).
// The first context is the service's; its transfer syntax is returned.
func dimseAssoc(t *testing.T, addr string, pcs ...dimse.ContextProposal) (*dimse.Association, string) {
	t.Helper()
	a, err := dimse.Dial(context.Background(), addr, "HBI_WS", "LIGHTBOX", pcs,
		&dimse.DialOptions{UserIdentity: &dimse.UserIdentity{Type: dimse.IdentityUsernamePasscode, Username: "dr.hbi", Passcode: "a-long-enough-password"}})
	if err != nil {
		t.Fatal(err)
	}
	ts, ok := a.TransferSyntax(pcs[0].AbstractSyntax)
	if !ok {
		t.Fatalf("%s not accepted", pcs[0].AbstractSyntax)
	}
	return a, ts
}

func studyIdentifier(t *testing.T, study, ts string) []byte {
	t.Helper()
	id := &dcm.Dataset{}
	id.SetStr(dcm.TagQueryRetrieveLevel, "STUDY")
	id.SetStr(dcm.TagStudyInstanceUID, study)
	var b bytes.Buffer
	if err := dcm.WriteDataset(&b, id, ts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// dimseFind counts the Study Root C-FIND matches for study.
func dimseFind(t *testing.T, addr, study string) int {
	t.Helper()
	a, ts := dimseAssoc(t, addr, dimse.ContextProposal{AbstractSyntax: dimse.StudyRootQRFind})
	defer func() { _ = a.Release(context.Background()) }()
	n := 0
	if _, err := a.Find(context.Background(), dimse.StudyRootQRFind, studyIdentifier(t, study, ts), func([]byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// dimseGet counts the instances a Study Root C-GET of study delivers.
func dimseGet(t *testing.T, addr, study string) int {
	t.Helper()
	ctx := context.Background()
	a, ts := dimseAssoc(t, addr, dimse.ContextProposal{AbstractSyntax: dimse.StudyRootQRGet}, dimse.ContextProposal{AbstractSyntax: "1.2.840.10008.5.1.4.1.1.2", SCPRole: true})
	defer func() { _ = a.Release(ctx) }()
	n := 0
	res, err := a.Get(ctx, dimse.StudyRootQRGet, studyIdentifier(t, study, ts), dimse.StoreFunc(func(context.Context, *dimse.StoreRequest) (uint16, string) {
		n++
		return 0, ""
	}), nil)
	if err != nil {
		t.Fatalf("C-GET: %v %+v", err, res)
	}
	return n
}
