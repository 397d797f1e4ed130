package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/consult"
	"lightbox/internal/demo"
)

// consultNode is a node with the demo group (dr.alpha: neuro and body,
// everywhere; dr.bravo: body and chest, not at HBI; dr.delta: breast, MG
// and US only; dr.sydney) and one small CT each at SGH and HBI on the
// worklist; call answers one request as a user.
type consultNode struct {
	s       *Server
	studies map[string]string // facility -> study UID
	tokens  map[string]string
	srv     *httptest.Server
}

func newConsultNode(t *testing.T) *consultNode {
	t.Helper()
	ctx := context.Background()
	s := testNode(t, Config{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), Quiet: time.Millisecond, ConsultRVU: 0.75})
	if err := demo.Seed(ctx, s.Storage.DB, s.Storage.Archive, s.Auth, 1, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	n := &consultNode{s: s, studies: map[string]string{}, tokens: map[string]string{}}
	for i, fac := range []string{"SGH", "HBI"} {
		n.studies[fac] = storeCT(t, s, fac, int64(77+i)).Study
	}
	if err := s.Dispatch.ReloadAll(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_ = s.Dispatch.Tick(ctx)
		var k int
		_ = s.Storage.DB.QueryRow(ctx, "SELECT COUNT(*) FROM read_item WHERE study_uid IN (?, ?)", n.studies["SGH"], n.studies["HBI"]).Scan(&k)
		if k == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the test studies did not reach the worklist")
		}
	}
	for _, u := range []string{"dr.alpha", "dr.bravo", "dr.delta", "dr.sydney", "coordinator"} {
		tok, err := s.Auth.CreateToken(ctx, u, "test", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		n.tokens[u] = tok
	}
	n.srv = httptest.NewServer(s.Handler())
	t.Cleanup(n.srv.Close)
	return n
}

func (n *consultNode) call(t *testing.T, user, method, path, body string) (int, string) {
	t.Helper()
	r, _ := http.NewRequest(method, n.srv.URL+path, strings.NewReader(body))
	if user != "" {
		r.Header.Set("Authorization", "Bearer "+n.tokens[user])
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

// online sends a heartbeat and sets a reading-room status.
func (n *consultNode) online(t *testing.T, user, status string) {
	t.Helper()
	if code, body := n.call(t, user, "POST", "/api/presence", ""); code != http.StatusOK {
		t.Fatalf("heartbeat %s: %d %s", user, code, body)
	}
	if code, body := n.call(t, user, "PUT", "/api/room/status", `{"status": "`+status+`", "visible": true}`); code != http.StatusOK {
		t.Fatalf("status %s: %d %s", user, code, body)
	}
}

// TestConsults runs the second-opinion, thread and visit checks on one
// node (seeding the demo group is the slow part).
func TestConsults(t *testing.T) {
	n := newConsultNode(t)
	t.Run("thread", func(t *testing.T) { consultThread(t, n) })
	t.Run("routing", func(t *testing.T) { secondOpinionRouting(t, n) })
	t.Run("visit", func(t *testing.T) { clinicVisitLink(t, n) })
}

type askAnswer struct {
	Consult    consult.Consult     `json:"consult"`
	Candidates []consult.Candidate `json:"candidates"`
}

func reasonsOf(a askAnswer, reader string) string {
	for _, c := range a.Candidates {
		if c.ReaderID == reader {
			var codes []string
			for _, r := range c.Reasons {
				codes = append(codes, string(r.Code))
			}
			return strings.Join(codes, ",")
		}
	}
	return "absent"
}

// secondOpinionRouting: a request for "any available body reader" or
// a named colleague reaches only a colleague the engine's eligibility
// (licence, privileges, modality, presence) allows and whose status is
// available; when nobody can, the answer gives every candidate's reasons.
// The reading room shows only readers who opted in and are online.
func secondOpinionRouting(t *testing.T, n *consultNode) {
	n.online(t, "dr.alpha", "reading")
	n.online(t, "dr.bravo", "available")
	n.online(t, "dr.delta", "available")
	sgh, hbi := n.studies["SGH"], n.studies["HBI"]
	for _, c := range []struct {
		name, study, body string
		code              int
		to                string            // the chosen consultant
		why               map[string]string // reader -> reason codes (substring)
	}{
		{"any body reader", sgh, `{"subspecialty": "body", "question": "Subtle nodule in the RLL?"}`, http.StatusCreated, "dr.bravo", map[string]string{"dr.alpha": "absent"}},
		{"named, wrong modality", sgh, `{"consultant": "dr.delta", "question": "Second look?"}`, http.StatusConflict, "", map[string]string{"dr.delta": "qualification.modality"}},
		{"no privilege at HBI", hbi, `{"subspecialty": "chest", "question": "Second look?"}`, http.StatusConflict, "", map[string]string{"dr.bravo": "privilege.missing"}},
		{"offline", sgh, `{"consultant": "dr.sydney", "question": "Second look?"}`, http.StatusConflict, "", map[string]string{"dr.sydney": "presence.offline"}},
		{"the requester", sgh, `{"consultant": "dr.alpha", "question": "Second look?"}`, http.StatusConflict, "", map[string]string{"dr.alpha": "room.requester"}},
		{"nobody breast for CT", sgh, `{"subspecialty": "breast", "question": "Second look?"}`, http.StatusConflict, "", map[string]string{"dr.delta": "qualification.modality"}},
	} {
		code, body := n.call(t, "dr.alpha", "POST", "/api/studies/"+c.study+"/consults", c.body)
		var a askAnswer
		_ = json.Unmarshal([]byte(body), &a)
		if code != c.code || a.Consult.Consultant != c.to {
			t.Errorf("%s: %d, consultant %q, want %d %q: %s", c.name, code, a.Consult.Consultant, c.code, c.to, body)
		}
		for reader, want := range c.why {
			if got := reasonsOf(a, reader); !strings.Contains(got, want) {
				t.Errorf("%s: %s's reasons %q, want %q", c.name, reader, got, want)
			}
		}
	}
	// Status matters: bravo busy reading is no longer routed to.
	n.online(t, "dr.bravo", "reading")
	code, body := n.call(t, "dr.alpha", "POST", "/api/studies/"+sgh+"/consults", `{"subspecialty": "body", "question": "Again?"}`)
	var a askAnswer
	_ = json.Unmarshal([]byte(body), &a)
	if code != http.StatusConflict || !strings.Contains(reasonsOf(a, "dr.bravo"), "room.status") {
		t.Errorf("busy colleague: %d %s", code, body)
	}
	// The reading room: alpha, bravo and delta opted in and are online;
	// sydney never set a status and is offline.
	code, body = n.call(t, "dr.bravo", "GET", "/api/room", "")
	if code != http.StatusOK || !strings.Contains(body, `"username":"dr.delta"`) || strings.Contains(body, "dr.sydney") || !strings.Contains(body, `"status":"reading"`) {
		t.Errorf("room: %d %s", code, body)
	}
	n.call(t, "dr.delta", "PUT", "/api/room/status", `{"status": "away", "visible": false}`)
	if _, body = n.call(t, "dr.bravo", "GET", "/api/room", ""); strings.Contains(body, "dr.delta") {
		t.Errorf("a reader who opted out still shows: %s", body)
	}
	// The consultant was told in-app.
	if _, body = n.call(t, "dr.bravo", "GET", "/api/notices", ""); !strings.Contains(body, "Second opinion requested by dr.alpha") {
		t.Errorf("no in-app notice for the consultant: %s", body)
	}
}

// consultThread: the case-bound thread reaches the other participant
// live over SSE and is stored; a colleague who is neither participant nor
// the case's reader is refused (403); only the consultant records the
// opinion, credited as configured; the requester stays reader of record.
func consultThread(t *testing.T, n *consultNode) {
	n.online(t, "dr.alpha", "reading")
	n.online(t, "dr.bravo", "available")
	sgh := n.studies["SGH"]
	var holder string
	_ = n.s.Storage.DB.QueryRow(context.Background(), "SELECT reader_id FROM read_item WHERE study_uid = ?", sgh).Scan(&holder)
	code, body := n.call(t, "dr.alpha", "POST", "/api/studies/"+sgh+"/consults", `{"consultant": "dr.bravo", "question": "Is this a fracture?"}`)
	if code != http.StatusCreated {
		t.Fatalf("ask: %d %s", code, body)
	}
	var a askAnswer
	_ = json.Unmarshal([]byte(body), &a)
	base := "/api/studies/" + sgh + "/consults/" + strconv.FormatInt(a.Consult.ID, 10)
	if a.Consult.RVUCredit != 0.75 {
		t.Errorf("rvu credit %v, want the configured 0.75", a.Consult.RVUCredit)
	}

	// Bravo listens; alpha writes; the message arrives live.
	req, _ := http.NewRequest("GET", n.srv.URL+base+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+n.tokens["dr.bravo"])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("events: %v %v", err, res)
	}
	got := make(chan string, 8)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				got <- sc.Text()
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // subscribed before the message
	if code, body := n.call(t, "dr.alpha", "POST", base+"/messages", `{"body": "Look at slice 3, cortex"}`); code != http.StatusCreated {
		t.Fatalf("say: %d %s", code, body)
	}
	select {
	case ev := <-got:
		if !strings.Contains(ev, "Look at slice 3, cortex") || !strings.Contains(ev, `"kind":"message"`) {
			t.Errorf("live event %s", ev)
		}
	case <-time.After(5 * time.Second):
		t.Error("the message did not arrive live")
	}
	cancel()
	res.Body.Close()
	wg.Wait()

	for _, c := range []struct {
		user, method, path, body string
		want                     int
	}{
		{"dr.bravo", "GET", base, "", http.StatusOK},
		{"dr.alpha", "GET", base, "", http.StatusOK},
		{"dr.sydney", "GET", base, "", http.StatusForbidden},
		{"dr.delta", "GET", base, "", http.StatusForbidden},
		{"dr.sydney", "POST", base + "/messages", `{"body": "hi"}`, http.StatusForbidden},
		{"dr.sydney", "GET", base + "/events", "", http.StatusForbidden},
		{"dr.sydney", "POST", base + "/signal", `{"kind": "view", "data": {}}`, http.StatusForbidden},
		{"dr.alpha", "POST", base + "/opinion", `{"opinion": "mine"}`, http.StatusForbidden},
		{"dr.bravo", "POST", base + "/opinion", `{"opinion": ""}`, http.StatusUnprocessableEntity},
		{"dr.bravo", "POST", base + "/opinion", `{"opinion": "Non-displaced fracture of the left 6th rib."}`, http.StatusOK},
		{"dr.bravo", "POST", base + "/signal", `{"kind": "rm -rf", "data": {}}`, http.StatusUnprocessableEntity},
		{"coordinator", "GET", base, "", http.StatusForbidden},
	} {
		if code, body := n.call(t, c.user, c.method, c.path, c.body); code != c.want {
			t.Errorf("%s %s %s: %d, want %d: %s", c.user, c.method, c.path, code, c.want, body)
		}
	}
	_, body = n.call(t, "dr.alpha", "GET", base, "")
	if !strings.Contains(body, "Non-displaced fracture of the left 6th rib.") || !strings.Contains(body, `"status":"answered"`) || !strings.Contains(body, "Look at slice 3, cortex") {
		t.Errorf("stored consult: %s", body)
	}
	var after string
	_ = n.s.Storage.DB.QueryRow(context.Background(), "SELECT reader_id FROM read_item WHERE study_uid = ?", sgh).Scan(&after)
	if after != holder {
		t.Errorf("reader of record moved from %q to %q", holder, after)
	}
	// Audited with the study.
	page, err := n.s.Audit.Search(context.Background(), audit.Actor{UserID: "test", Interface: audit.CLI}, audit.Filter{StudyUID: sgh, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	evs := page.Events
	seen := false
	for _, e := range evs {
		seen = seen || (e.ObjectType == "consult" && e.UserID == "dr.bravo" && strings.Contains(e.Detail, "/opinion"))
	}
	if !seen {
		t.Errorf("the opinion is not in the audit trail (%d events)", len(evs))
	}
}

// clinicVisitLink: a patient's link works once, only with consent,
// not after it expires; the patient's visit key reaches the visit's events
// and nothing else; joining is documented and audited.
func clinicVisitLink(t *testing.T, n *consultNode) {
	sgh := n.studies["SGH"]
	invite := func() (int64, string) {
		code, body := n.call(t, "dr.alpha", "POST", "/api/studies/"+sgh+"/visits", "")
		var v struct {
			Visit consult.Visit `json:"visit"`
			Link  string        `json:"link"`
		}
		_ = json.Unmarshal([]byte(body), &v)
		if code != http.StatusCreated || !strings.HasPrefix(v.Link, "/visit#") {
			t.Fatalf("invite: %d %s", code, body)
		}
		return v.Visit.ID, strings.TrimPrefix(v.Link, "/visit#")
	}
	id, tok := invite()
	var stored string
	_ = n.s.Storage.DB.QueryRow(context.Background(), "SELECT token_hash FROM clinic_visit WHERE pk = ?", id).Scan(&stored)
	if stored == "" || stored == tok || strings.Contains(stored, tok) {
		t.Fatalf("the token is not hashed at rest: %q", stored)
	}
	join := func(tok, consent string) (int, []*http.Cookie) {
		res, err := http.Post(n.srv.URL+"/api/visit/join", "application/json", strings.NewReader(`{"token": "`+tok+`", "name": "Pat Example", "consent": `+consent+`}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Cookies()
	}
	if code, _ := join(tok, "false"); code != http.StatusUnprocessableEntity {
		t.Errorf("join without consent: %d", code)
	}
	code, cookies := join(tok, "true")
	if code != http.StatusOK || len(cookies) != 1 || !cookies[0].HttpOnly {
		t.Fatalf("join: %d %v", code, cookies)
	}
	if code, _ := join(tok, "true"); code != http.StatusGone {
		t.Errorf("second use of the link: %d, want 410", code)
	}
	if code, _ := join("not-a-token", "true"); code != http.StatusGone {
		t.Errorf("unknown link: %d, want 410", code)
	}
	// The visit key is the patient's only credential: the visit's events,
	// not the archive, not the API.
	get := func(path string, cs []*http.Cookie) int {
		r, _ := http.NewRequest("GET", n.srv.URL+path, nil)
		for _, c := range cs {
			r.AddCookie(c)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		res, err := http.DefaultClient.Do(r.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if c := get("/api/visit/events", cookies); c != http.StatusOK {
		t.Errorf("patient events: %d", c)
	}
	if c := get("/api/visit/events", nil); c != http.StatusUnauthorized {
		t.Errorf("events without the key: %d", c)
	}
	if c := get("/dicomweb/studies/"+sgh+"/metadata", cookies); c != http.StatusUnauthorized {
		t.Errorf("the patient reached DICOMweb: %d", c)
	}
	code, body := n.call(t, "dr.alpha", "GET", "/api/studies/"+sgh+"/visits/"+strconv.FormatInt(id, 10), "")
	if code != http.StatusOK || !strings.Contains(body, `"consent":true`) || !strings.Contains(body, "Pat Example") || !strings.Contains(body, `"joined_at":"20`) {
		t.Errorf("visit record: %d %s", code, body)
	}
	if code, _ := n.call(t, "dr.bravo", "GET", "/api/studies/"+sgh+"/visits/"+strconv.FormatInt(id, 10), ""); code != http.StatusForbidden {
		t.Errorf("another physician read the visit: %d", code)
	}
	// Ending the visit ends the key.
	n.call(t, "dr.alpha", "POST", "/api/studies/"+sgh+"/visits/"+strconv.FormatInt(id, 10)+"/end", "")
	if c := get("/api/visit/events", cookies); c != http.StatusUnauthorized {
		t.Errorf("events after the end: %d", c)
	}
	// An unused link expires.
	_, tok2 := invite()
	n.s.Consults.Now = func() time.Time { return time.Now().Add(consult.VisitTTL + time.Minute) }
	if code, _ := join(tok2, "true"); code != http.StatusGone {
		t.Errorf("expired link: %d, want 410", code)
	}
	n.s.Consults.Now = nil
	page, _ := n.s.Audit.Search(context.Background(), audit.Actor{UserID: "test", Interface: audit.CLI}, audit.Filter{StudyUID: sgh, Limit: 1000})
	joined := false
	for _, e := range page.Events {
		joined = joined || (e.ObjectType == "clinic-visit" && e.UserRole == "patient")
	}
	if !joined {
		t.Error("the patient's join is not audited")
	}
}
