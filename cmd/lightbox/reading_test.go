package main

// A radiologist's day through the real binary and the interactive security
// path: TOTP enrolment, session login with a CSRF token, the worklist, a
// draft, a final signature (re-authenticated), FHIR DiagnosticReport, the
// PDF, a critical result closed with read-back whose statement becomes an
// addendum, and the audit trail.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

type session struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func (s *session) do(method, path string, body any, out any) (int, []byte) {
	s.t.Helper()
	req := jsonRequest(method, "http://"+s.base+path, body)
	if s.csrf != "" {
		req.Header.Set("X-CSRF-Token", s.csrf)
	}
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/") && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/pdf") {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, b
}

func TestRadiologistReadsSignsAndCommunicates(t *testing.T) {
	data := t.TempDir()
	srv := startServer(t, "demo", "--data", data, "--quiet", "1s")
	defer srv.stop(t)

	s := radiologist(t, srv, data, "dr.alpha")
	study, accession := s.nextStudy("CT")
	// CSRF: a state change without the token is refused.
	saved := s.csrf
	s.csrf = ""
	if st, _ := s.do("POST", "/api/worklist/"+study+"/open", nil, nil); st != 403 {
		t.Fatalf("POST without CSRF token: %d", st)
	}
	s.csrf = saved
	if st, b := s.do("POST", "/api/worklist/"+study+"/open", nil, nil); st != 200 {
		t.Fatalf("open: %d %s", st, b)
	}
	content := map[string]any{"clinical_history": "Fall.", "findings": "Acute subdural haematoma, 8 mm, with 4 mm midline shift.",
		"impression": "Acute left subdural haematoma with mass effect."}
	if st, b := s.do("PUT", "/api/reports/studies/"+study+"/draft", content, nil); st != 200 {
		t.Fatalf("draft: %d %s", st, b)
	}
	// The reader marks the finding critical while reading (the loop's clock starts now).
	var crit struct {
		ID string `json:"id"`
	}
	if st, b := s.do("POST", "/api/critical", map[string]any{"study_uid": study, "category": "1", "finding": map[string]string{"text": "Acute subdural haematoma"}}, &crit); st >= 300 || crit.ID == "" {
		t.Fatalf("open critical: %d %s", st, b)
	}
	if st, b := s.do("POST", "/api/reports/studies/"+study+"/sign", map[string]any{"kind": "final"}, nil); st != 200 {
		t.Fatalf("final: %d %s", st, b)
	}
	var dr struct {
		Total int `json:"total"`
		Entry []struct {
			Resource struct {
				Status     string `json:"status"`
				Conclusion string `json:"conclusion"`
			} `json:"resource"`
		} `json:"entry"`
	}
	s.do("GET", "/fhir/DiagnosticReport?identifier="+accession, nil, &dr)
	if dr.Total != 1 || dr.Entry[0].Resource.Status != "final" || !strings.Contains(dr.Entry[0].Resource.Conclusion, "subdural") {
		t.Fatalf("DiagnosticReport: %+v", dr)
	}
	st, pdf := s.do("GET", "/api/reports/studies/"+study+"/pdf", nil, nil)
	if st != 200 || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("pdf: %d %.20q", st, pdf)
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		cmd := exec.Command("pdftotext", "-", "-")
		cmd.Stdin = bytes.NewReader(pdf)
		txt, err := cmd.Output()
		if err != nil || !bytes.Contains(txt, []byte("subdural")) {
			t.Fatalf("pdftotext: %v %s", err, txt)
		}
	}

	// The call with read-back closes the loop; the statement is written
	// into the signed report as an addendum.
	if st, b := s.do("POST", "/api/critical/"+crit.ID+"/close", map[string]any{}, nil); st < 400 {
		t.Fatalf("closing a category 1 without a call was accepted: %d %s", st, b)
	}
	attempt := map[string]any{"method": "phone", "to": map[string]string{"name": "Dr Olivia Ordering", "role": "ED attending", "callback": "(217) 555-0100"},
		"outcome": "reached", "read_back": true}
	if st, b := s.do("POST", "/api/critical/"+crit.ID+"/attempts", attempt, nil); st >= 300 {
		t.Fatalf("attempt: %d %s", st, b)
	}
	if st, b := s.do("POST", "/api/critical/"+crit.ID+"/close", map[string]any{}, nil); st >= 300 {
		t.Fatalf("close: %d %s", st, b)
	}
	var rep struct {
		Versions []struct {
			Kind string `json:"kind"`
			Text string `json:"text"`
		} `json:"versions"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, b := s.do("GET", "/api/reports/studies/"+study, nil, &rep)
		if bytes.Contains(b, []byte("Communicated to Dr Olivia Ordering")) && bytes.Contains(b, []byte("read back")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no communication addendum in the report:\n%s", b)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if out, _, code := run(t, "audit", "verify", "--data", data); code != 0 {
		t.Fatalf("audit: %s", out)
	}
}

// radiologist enrols the demo reader's TOTP through the CLI (mandatory for
// radiologists) and logs in with a session and its CSRF token.
func radiologist(t *testing.T, srv *server, data, user string) *session {
	t.Helper()
	out, e, code := run(t, "user", "totp", "--data", data, "--username", user)
	if code != 0 {
		t.Fatal(e)
	}
	m := regexp.MustCompile(`secret=([A-Z2-7]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no otpauth secret in %q", out)
	}
	secret := m[1]
	first, _ := totp.GenerateCode(secret, time.Now())
	mustRun(t, "user", "totp", "--data", data, "--username", user, "--confirm", first)
	jar, _ := cookiejar.New(nil)
	s := &session{t: t, base: srv.http, c: &http.Client{Jar: jar}}
	if st, _ := s.do("POST", "/api/login", map[string]string{"username": user, "password": "lightbox-demo-password"}, nil); st != 401 {
		t.Fatalf("login without the second factor: %d", st)
	}
	otp, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second)) // a later step than the one just used
	var lr struct {
		CSRF string `json:"csrf_token"`
	}
	if st, b := s.do("POST", "/api/login", map[string]string{"username": user, "password": "lightbox-demo-password", "totp": otp}, &lr); st != 200 {
		t.Fatalf("login: %d %s", st, b)
	}
	s.csrf = lr.CSRF
	return s
}

// nextStudy goes online and waits for a study of the modality ("": any) on the
// reader's worklist (the demo fills it).
func (s *session) nextStudy(modality string) (study, accession string) {
	s.t.Helper()
	s.awaitWorklist(40*time.Second, func(items []worklistCase) bool {
		for _, it := range items {
			if modality == "" || it.Modality == modality {
				study, accession = it.StudyUID, it.Accession
			}
		}
		return study != ""
	}, func(items []worklistCase) {
		s.t.Fatalf("no %s on the worklist: %+v", modality, items)
	})
	return study, accession
}

// worklistCase is what the tests read of a worklist item.
type worklistCase struct {
	StudyUID  string `json:"study_uid"`
	Modality  string `json:"modality"`
	Accession string `json:"accession"`
}

// awaitWorklist keeps the reader online (a heartbeat a round) and reads
// their worklist every half second until found is satisfied with it; after
// timeout, fail is told the last worklist and fails the test.
func (s *session) awaitWorklist(timeout time.Duration, found func([]worklistCase) bool, fail func([]worklistCase)) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if st, b := s.do("POST", "/api/presence", nil, nil); st != 200 {
			s.t.Fatalf("heartbeat: %d %s", st, b)
		}
		var wl struct {
			Items []worklistCase `json:"items"`
		}
		s.do("GET", "/api/worklist", nil, &wl)
		if found(wl.Items) {
			return
		}
		if time.Now().After(deadline) {
			fail(wl.Items)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}
