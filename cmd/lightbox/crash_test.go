package main

// Durable cross-module consistency (issue #14 point 5) through the real
// binary: the process is killed (SIGKILL) right after a report signature
// commits and before anything else ran; the restart finishes what the
// signature started, once.

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"lightbox/internal/event"
	"lightbox/internal/report"
)

func TestKilledAfterSignNothingHalfDone(t *testing.T) {
	data := t.TempDir()
	srv := startServerEnv(t, []string{event.CrashEnv + "=" + report.EventSigned}, "demo", "--data", data, "--quiet", "1s")
	s := radiologist(t, srv, data, "dr.alpha")
	study, _ := s.nextStudy("") // any modality
	if st, b := s.do("POST", "/api/worklist/"+study+"/open", nil, nil); st != 200 {
		t.Fatalf("open: %d %s", st, b)
	}
	content := map[string]any{"findings": "No acute intracranial abnormality.", "impression": "Normal CT head."}
	if st, b := s.do("PUT", "/api/reports/studies/"+study+"/draft", content, nil); st != 200 {
		t.Fatalf("draft: %d %s", st, b)
	}
	req, _ := http.NewRequest("POST", "http://"+srv.http+"/api/reports/studies/"+study+"/sign", strings.NewReader(`{"kind":"final"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", s.csrf)
	if resp, err := s.c.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the sign request was answered (%d): the crash point did not fire", resp.StatusCode)
	}
	select {
	case <-srv.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not die at the crash point")
	}

	ctx := context.Background()
	d := openIndex(t, data)
	defer d.Close()
	type state struct {
		report, eventDone string
		signedEvents, oru int
	}
	look := func() state {
		var st state
		for _, q := range []struct {
			sql string
			out any
		}{
			{"SELECT status FROM report WHERE study_uid = ?", &st.report},
			{"SELECT done_at FROM domain_event WHERE kind = 'report.signed' AND subject = ?", &st.eventDone},
			{"SELECT COUNT(*) FROM assignment_event WHERE kind = 'signed' AND study_uid = ?", &st.signedEvents},
			{"SELECT COUNT(*) FROM hl7_outbox WHERE kind = 'ORU' AND related_id LIKE (SELECT id FROM report WHERE study_uid = ?) || ':%'", &st.oru},
		} {
			if err := d.QueryRow(ctx, q.sql, study).Scan(q.out); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		return st
	}
	// Killed between the steps: the signature (and its ORU, same
	// transaction) committed, the worklist has not heard of it yet, the
	// event that tells it is pending.
	before := look()
	if before.report != report.StatusFinal || before.eventDone != "" || before.signedEvents != 0 {
		t.Fatalf("after the kill: %+v, want a final report, a pending event and no worklist change yet", before)
	}

	srv = startServer(t, "demo", "--data", data, "--quiet", "1s")
	defer srv.stop(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		after := look()
		if after.eventDone != "" && after.signedEvents == 1 {
			if after.oru != before.oru {
				t.Fatalf("ORU messages %d → %d: the restart must not send the report again", before.oru, after.oru)
			}
			break
		}
		if time.Now().After(deadline) {
			srv.logMu.Lock()
			logs := srv.stderr.String()
			srv.logMu.Unlock()
			t.Fatalf("after the restart: %+v, want the event handled and the worklist told once\n%s", after, grepLines(logs, "event"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
