package critical_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"lightbox/internal/api"
	"lightbox/internal/auth"
	"lightbox/internal/critical"
	"lightbox/internal/db/dbtest"
)

type principal struct {
	user, role string
	facs       []string
	all        bool
}

func (e *env) server(t *testing.T) (*httptest.Server, func(p principal)) {
	t.Helper()
	cur := principal{user: reader, role: "radiologist", facs: []string{"F1"}}
	h := &api.Critical{Service: e.svc, Logger: quietLog(),
		Principal: func(*http.Request) (*auth.Principal, error) {
			return &auth.Principal{Username: cur.user, Role: auth.Role(cur.role), Facilities: cur.facs, All: cur.all}, nil
		},
		DisplayName: func(_ context.Context, u string) string {
			if u == reader {
				return "Dr Rad One"
			}
			return ""
		}}
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, func(p principal) { cur = p }
}

func call(t *testing.T, method, u, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func form(t *testing.T, u string, v url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAckLink(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		srv, _ := e.server(t)
		r := e.open(studyA, "2")
		ns := e.notes.forResult(r.ID)
		if !strings.HasPrefix(ns[0].AckURL, "https://lb.example.org/ack/") {
			t.Fatalf("ack url %q", ns[0].AckURL)
		}
		tok := tokenOf(t, ns[0].AckURL)
		// Only the hash is stored.
		if n := dbtest.Count(t, e.d, "SELECT COUNT(*) FROM crit_ack_token WHERE token_hash = ?", tok); n != 0 {
			t.Fatalf("raw token stored: %d", n)
		}
		code, page := call(t, "GET", srv.URL+"/ack/"+tok, "")
		if code != 200 || !strings.Contains(page, "Acute subdural hematoma") || !strings.Contains(page, "ACC1") || !strings.Contains(page, `<form method="post">`) {
			t.Fatalf("page %d: %s", code, page)
		}
		if strings.Contains(page, "Doe") || strings.Contains(page, "P1") || strings.Contains(page, "<script") || strings.Contains(page, "style=") {
			t.Fatalf("page shows PHI or inline script/style: %s", page)
		}
		// An empty name records nothing and keeps the link usable.
		if code, _ := form(t, srv.URL+"/ack/"+tok, url.Values{"name": {" "}}); code != 400 {
			t.Fatalf("empty name: %d", code)
		}
		e.clk.Advance(12 * time.Minute) // 09:12 EST
		code, page = form(t, srv.URL+"/ack/"+tok, url.Values{"name": {"Jane Smith"}, "role": {"ordering physician"}})
		if code != 200 || !strings.Contains(page, "recorded") {
			t.Fatalf("confirm %d: %s", code, page)
		}
		got, _ := e.svc.Get(ctx, r.ID)
		if got.State != critical.StateClosed || got.AckBy != "Jane Smith" || !got.AckAt.Equal(t0.Add(12*time.Minute)) || got.ClosedBy != "ack-link" {
			t.Fatalf("after ack: %+v", got)
		}
		want := "Communicated to Jane Smith, ordering physician by Dr Rad One via secure message at 2025-03-04 09:12 EST; receipt confirmed electronically by Jane Smith at 2025-03-04 09:12 EST."
		if calls := e.addenda.all(); len(calls) != 1 || calls[0].Text != want {
			t.Fatalf("addendum: %+v", calls)
		}
		// Reuse: 410 on both verbs, nothing changed.
		if code, _ := call(t, "GET", srv.URL+"/ack/"+tok, ""); code != http.StatusGone {
			t.Fatalf("reuse GET: %d", code)
		}
		if code, _ := form(t, srv.URL+"/ack/"+tok, url.Values{"name": {"Mallory"}}); code != http.StatusGone {
			t.Fatalf("reuse POST: %d", code)
		}
		again, _ := e.svc.Get(ctx, r.ID)
		if again.Version != got.Version || again.AckBy != "Jane Smith" || len(e.addenda.all()) != 1 {
			t.Fatal("reused link changed the loop")
		}
		// Forged token: 404.
		forged := strings.Repeat("A", len(tok))
		if code, _ := call(t, "GET", srv.URL+"/ack/"+forged, ""); code != http.StatusNotFound {
			t.Fatalf("forged GET: %d", code)
		}
		if code, _ := form(t, srv.URL+"/ack/"+forged, url.Values{"name": {"Mallory"}}); code != http.StatusNotFound {
			t.Fatalf("forged POST: %d", code)
		}
		// Expired: 410, nothing recorded.
		r2 := e.open(studyB, "2")
		tok2 := tokenOf(t, e.notes.forResult(r2.ID)[0].AckURL)
		e.clk.Advance(25 * time.Hour)
		if code, _ := call(t, "GET", srv.URL+"/ack/"+tok2, ""); code != http.StatusGone {
			t.Fatalf("expired GET: %d", code)
		}
		if code, _ := form(t, srv.URL+"/ack/"+tok2, url.Values{"name": {"Jane Smith"}}); code != http.StatusGone {
			t.Fatalf("expired POST: %d", code)
		}
		if g2, _ := e.svc.Get(ctx, r2.ID); !g2.AckAt.IsZero() || len(g2.Attempts) != 0 {
			t.Fatalf("expired link recorded: %+v", g2)
		}
	})
}

func TestAckCategory1NeedsReadBack(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := e.open(studyA, "1")
		tok := tokenOf(t, e.notes.forResult(r.ID)[0].AckURL)
		got, err := e.svc.ConfirmAck(ctx, tok, "Jane Smith", "")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != critical.StateOpen || got.AckBy != "Jane Smith" || !got.ClosedAt.IsZero() || got.NextDueAt.IsZero() {
			t.Fatalf("category 1 after electronic ack: %+v", got)
		}
		if _, err := e.svc.Close(ctx, r.ID, rad); err == nil {
			t.Fatal("category 1 closed without read-back")
		}
		// The ladder keeps running until a verbal read-back.
		e.clk.Advance(30 * time.Minute)
		if n := e.tick(e.svc.NewScheduler()); n != 1 {
			t.Fatalf("fired %d", n)
		}
	})
}

func TestHTTPAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv, as := e.server(t)
		// Open as the holder.
		code, body := call(t, "POST", srv.URL+"/api/critical", `{"study_uid":"`+studyA+`","category":"1","finding":{"code":"RID5352","text":"Tension pneumothorax"}}`)
		if code != 201 {
			t.Fatalf("open %d %s", code, body)
		}
		var res critical.Result
		_ = json.Unmarshal([]byte(body), &res)
		// Not the holder.
		as(principal{user: "rad2", role: "radiologist", facs: []string{"F1"}})
		if code, body := call(t, "POST", srv.URL+"/api/critical", `{"study_uid":"`+studyA+`","category":"1","finding":{"text":"x"}}`); code != 403 {
			t.Fatalf("non-holder open %d %s", code, body)
		}
		if code, _ := call(t, "GET", srv.URL+"/api/critical/"+res.ID, ""); code != 200 {
			t.Fatalf("same-facility reader get %d", code)
		}
		// A reader of another facility does not see it.
		as(principal{user: "rad3", role: "radiologist", facs: []string{"F2"}})
		if code, _ := call(t, "GET", srv.URL+"/api/critical/"+res.ID, ""); code != 404 {
			t.Fatalf("foreign get %d", code)
		}
		// Clinicians and technologists have no access.
		as(principal{user: "tech", role: "technologist", facs: []string{"F1"}})
		if code, _ := call(t, "GET", srv.URL+"/api/critical/board", ""); code != 403 {
			t.Fatalf("technologist board %d", code)
		}
		as(principal{user: reader, role: "radiologist", facs: []string{"F1"}})
		if code, body := call(t, "POST", srv.URL+"/api/critical/"+res.ID+"/attempts", `{"method":"phone","to":{"name":"Jane Smith","role":"ordering physician"},"outcome":"reached"}`); code != 200 {
			t.Fatalf("attempt %d %s", code, body)
		}
		if code, body := call(t, "POST", srv.URL+"/api/critical/"+res.ID+"/close", `{}`); code != 422 || !strings.Contains(body, "read-back") {
			t.Fatalf("close without read-back %d %s", code, body)
		}
		if code, body := call(t, "POST", srv.URL+"/api/critical/"+res.ID+"/handoff", `{"to":"coord1"}`); code != 200 {
			t.Fatalf("handoff %d %s", code, body)
		}
		code, body = call(t, "GET", srv.URL+"/api/critical/board", "")
		if code != 200 || !strings.Contains(body, res.ID) {
			t.Fatalf("board %d %s", code, body)
		}
		as(principal{user: "coord1", role: "coordinator", all: true})
		if code, body := call(t, "POST", srv.URL+"/api/critical/"+res.ID+"/attempts", `{"method":"phone","to":{"name":"Jane Smith","role":"ordering physician"},"outcome":"reached","read_back":true}`); code != 200 {
			t.Fatalf("coordinator attempt %d %s", code, body)
		}
		if code, body := call(t, "POST", srv.URL+"/api/critical/"+res.ID+"/close", `{}`); code != 200 || !strings.Contains(body, `"state":"closed"`) {
			t.Fatalf("close %d %s", code, body)
		}
		if code, _ := call(t, "POST", srv.URL+"/api/critical/"+res.ID+"/close", `{}`); code != 409 {
			t.Fatalf("second close %d", code)
		}
		code, body = call(t, "GET", srv.URL+"/api/critical/compliance?from=2025-03-01&to=2025-04-01", "")
		if code != 200 || !strings.Contains(body, `"closed_on_time": 1`) && !strings.Contains(body, `"closed_on_time":1`) {
			t.Fatalf("compliance %d %s", code, body)
		}
		code, body = call(t, "GET", srv.URL+"/api/critical/compliance.csv?month=2025-03", "")
		if code != 200 || !strings.HasPrefix(body, "facility_id,category,") || !strings.Contains(body, "F1,1,Red,1,0,1,1,1,0,100.0,") {
			t.Fatalf("csv %d %s", code, body)
		}
		// critical.Directory CRUD.
		code, body = call(t, "POST", srv.URL+"/api/critical/contacts", `{"facility_id":"F1","name":"Dr Ortho","role":"orthopedics","phones":["555-0700"]}`)
		if code != 201 {
			t.Fatalf("create contact %d %s", code, body)
		}
		var ct critical.Contact
		_ = json.Unmarshal([]byte(body), &ct)
		if code, body := call(t, "PUT", srv.URL+"/api/critical/contacts/"+ct.ID, `{"name":"Dr Ortho","department":"ed","phones":["555-0701"]}`); code != 200 || !strings.Contains(body, "555-0701") {
			t.Fatalf("update contact %d %s", code, body)
		}
		if code, body := call(t, "GET", srv.URL+"/api/critical/contacts?facility=F1&department=ed", ""); code != 200 || !strings.Contains(body, "Dr Ortho") || !strings.Contains(body, "ED Attending") {
			t.Fatalf("list contacts %d %s", code, body)
		}
		code, body = call(t, "POST", srv.URL+"/api/critical/coverage", `{"facility_id":"F1","covering_id":"`+ct.ID+`","start":"22:00","end":"06:00","days":["sat","sun"]}`)
		if code != 201 {
			t.Fatalf("coverage %d %s", code, body)
		}
		var cv critical.Coverage
		_ = json.Unmarshal([]byte(body), &cv)
		if code, _ := call(t, "DELETE", srv.URL+"/api/critical/coverage/"+cv.ID, ""); code != 204 {
			t.Fatalf("delete coverage %d", code)
		}
		as(principal{user: reader, role: "radiologist", facs: []string{"F1"}})
		if code, _ := call(t, "DELETE", srv.URL+"/api/critical/contacts/"+ct.ID, ""); code != 403 {
			t.Fatalf("radiologist delete contact %d", code)
		}
		as(principal{user: "coord1", role: "coordinator", all: true})
		if code, _ := call(t, "DELETE", srv.URL+"/api/critical/contacts/"+ct.ID, ""); code != 204 {
			t.Fatalf("delete contact %d", code)
		}
		if code, _ := call(t, "GET", srv.URL+"/api/critical/contacts/"+ct.ID, ""); code != 404 {
			t.Fatalf("deleted contact %d", code)
		}
	})
}

func TestDirectoryFromOrders(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		d := e.svc.Directory()
		c, err := d.UpsertFromOrder(ctx, "F1", "Smith^Jane^^Dr", "NPI1", "555-0999")
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != e.ids["ordering"] || len(c.Phones) != 2 || c.Phones[0] != "555-0999" {
			t.Fatalf("upsert same clinician: %+v", c)
		}
		c2, err := d.UpsertFromOrder(ctx, "F1", "Brown^Bob", "", "555-1000")
		if err != nil || c2.Name != "Bob Brown" || c2.Callback() != "555-1000" {
			t.Fatalf("new clinician: %+v %v", c2, err)
		}
		if again, _ := d.UpsertFromOrder(ctx, "F1", "BROWN^BOB", "", ""); again.ID != c2.ID {
			t.Fatal("name match failed")
		}
		// critical.Coverage wrapping midnight: Saturday 23:00 and Sunday 05:00 local.
		if _, err := d.AddCoverage(ctx, critical.Coverage{FacilityID: "F1", CoveringID: c2.ID, Start: "22:00", End: "06:00", Days: []string{"sat"}}); err != nil {
			t.Fatal(err)
		}
		sat := time.Date(2025, 3, 8, 23, 0, 0, 0, time.UTC).Add(5 * time.Hour)  // Sat 23:00 EST
		sun := time.Date(2025, 3, 9, 5, 0, 0, 0, time.UTC).Add(4 * time.Hour)   // Sun 05:00 EDT
		mon := time.Date(2025, 3, 10, 23, 0, 0, 0, time.UTC).Add(4 * time.Hour) // Mon 23:00 EDT
		for _, tc := range []struct {
			at   time.Time
			want bool
		}{{sat, true}, {sun, true}, {mon, false}} {
			cs, err := d.Covering(ctx, "F1", "", tc.at)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, x := range cs {
				found = found || x.ID == c2.ID
			}
			if found != tc.want {
				t.Fatalf("coverage at %v: %v", tc.at, cs)
			}
		}
	})
}

// TestOpenerKeepsLoopAfterSigning: a teleradiologist's scope is their
// worklist, not the facility; once they sign and the study leaves their
// worklist they still see, work and close the loop they opened, while a
// reader who took no part in it still does not see it.
func TestOpenerKeepsLoopAfterSigning(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv, as := e.server(t)
		code, body := call(t, "POST", srv.URL+"/api/critical", `{"study_uid":"`+studyA+`","category":"2","finding":{"text":"Pneumothorax"}}`)
		if code != 201 {
			t.Fatalf("open %d %s", code, body)
		}
		var res critical.Result
		_ = json.Unmarshal([]byte(body), &res)
		// Signed: F1 is no longer in the reader's scope.
		as(principal{user: reader, role: "radiologist"})
		if code, body := call(t, "GET", srv.URL+"/api/critical/"+res.ID, ""); code != 200 || !strings.Contains(body, res.ID) {
			t.Fatalf("opener get after signing %d %s", code, body)
		}
		if code, body := call(t, "GET", srv.URL+"/api/critical/board?mine=1", ""); code != 200 || !strings.Contains(body, res.ID) {
			t.Fatalf("opener's open loops after signing %d %s", code, body)
		}
		if code, body := call(t, "POST", srv.URL+"/api/critical/"+res.ID+"/attempts", `{"method":"phone","to":{"name":"Jane Smith","role":"ordering physician"},"outcome":"reached","read_back":true}`); code != 200 {
			t.Fatalf("opener attempt after signing %d %s", code, body)
		}
		as(principal{user: "rad2", role: "radiologist"})
		if code, body := call(t, "GET", srv.URL+"/api/critical/board?mine=1", ""); code != 200 || strings.Contains(body, res.ID) {
			t.Fatalf("bystander's open loops %d %s", code, body)
		}
		if code, _ := call(t, "GET", srv.URL+"/api/critical/"+res.ID, ""); code != 404 {
			t.Fatalf("bystander get %d", code)
		}
		if code, _ := call(t, "POST", srv.URL+"/api/critical/"+res.ID+"/close", `{}`); code != 404 {
			t.Fatalf("bystander close %d", code)
		}
		as(principal{user: reader, role: "radiologist"})
		if code, body := call(t, "POST", srv.URL+"/api/critical/"+res.ID+"/close", `{}`); code != 200 || !strings.Contains(body, `"state":"closed"`) {
			t.Fatalf("opener close after signing %d %s", code, body)
		}
	})
}
