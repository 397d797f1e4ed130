package main

// The hostile probe of issue 13, replayed against the real binary: a
// facility's sender attaching data to another facility's patient (DCMTK
// storescu, STOW-RS) and reading it back (QIDO, FHIR, findscu -P), HL7 from
// unregistered or misplaced senders, idle and slow sockets, and the audit
// trail's integrity. Each attack must now fail.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/dcm"
	"lightbox/internal/hl7"
)

func addUser(t *testing.T, data, user, role, facility string) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	_ = os.WriteFile(pw, []byte("probe-password-123456\n"), 0o600)
	if _, e, code := run(t, "user", "add", "--data", data, "--username", user, "--role", role, "--facility", facility, "--password-file", pw); code != 0 {
		t.Fatalf("user add %s: %s", user, e)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestHostileProbe(t *testing.T) {
	needTools(t, "storescu", "findscu", "dcmodify", "echoscu")
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	s := startServer(t, "demo", "--data", data)
	defer s.stop(t)
	dicomHost, dicomPort := hostPort(s.addrs["dicom"].(string))
	admin := apiClient{t: t, base: s.http, token: token(t, data, "admin")}

	// One of HBI's patients, as the prober picked them.
	var hbi []map[string]map[string]any
	if code := admin.do("GET", "/dicomweb/studies?IssuerOfPatientID=HBI-MRN&limit=1", nil, &hbi); code != 200 || len(hbi) != 1 {
		t.Fatalf("HBI study: %d %d", code, len(hbi))
	}
	hbiPID, hbiName := dcm.JSONString(hbi[0], "00100020"), dcm.JSONString(hbi[0], "00100010")
	if hbiPID == "" || hbiName == "" {
		t.Fatalf("HBI patient %+v", hbi[0])
	}
	mustRun(t, "ae", "add", "--data", data, "--aet", "SGHAE", "--host", "127.0.0.1", "--port", "104", "--facility", "SGH")
	addUser(t, data, "sgh.tech", "technologist", "SGH")
	addUser(t, data, "sgh.feed", "integration", "SGH")
	tech := apiClient{t: t, base: s.http, token: token(t, data, "sgh.tech")}

	// An SGH instance relabelled with HBI's issuer and patient ID.
	studies := filepath.Join(tmp, "attack")
	mustRun(t, "gen", "--out", studies, "--modality", "CR", "--slices", "1", "--patients", "1", "--rows", "32", "--columns", "32", "--facility", "SGH", "--seed", "1313")
	files := dicomFiles(t, studies)
	if out, err := exec.Command("dcmodify", append([]string{"-nb", "-i", "(0010,0020)=" + hbiPID, "-i", "(0010,0021)=HBI-MRN"}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("dcmodify: %v\n%s", err, out)
	}
	attackStudy := studyUIDOf(t, studies)

	t.Run("C-STORE into another facility's patient is refused", func(t *testing.T) {
		out, err := exec.Command("storescu", append([]string{"-v", "-aet", "SGHAE", "-aec", "LIGHTBOX", dicomHost, dicomPort}, files...)...).CombinedOutput()
		if !regexp.MustCompile(`(?i)0x0?124`).Match(out) {
			t.Errorf("storescu was not refused with 0x0124: %v %d files\n%s", err, len(files), out)
		}
		var got []map[string]map[string]any
		admin.do("GET", "/dicomweb/studies?StudyInstanceUID="+attackStudy, nil, &got)
		if len(got) != 0 {
			t.Fatalf("the relabelled study was stored: %+v", got)
		}
	})

	t.Run("STOW-RS into another facility's patient is refused", func(t *testing.T) {
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		code, body, err := stow(s.http, token(t, data, "sgh.feed"), b)
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusConflict || !strings.Contains(body, `"00081197":{"vr":"US","Value":[292]}`) {
			t.Fatalf("STOW: %d %s", code, body)
		}
	})

	t.Run("patient-level reads stay within the facility", func(t *testing.T) {
		var got []map[string]map[string]any
		if code := tech.do("GET", "/dicomweb/studies?PatientID="+hbiPID, nil, &got); code != 200 || len(got) != 0 {
			t.Errorf("QIDO by HBI patient ID as SGH: %d %+v", code, got)
		}
		code, body := tech.doRaw("GET", "/fhir/Patient?identifier=HBI-MRN|"+hbiPID)
		if code != 200 || strings.Contains(body, hbiPID) || strings.Contains(body, strings.Split(hbiName, "^")[0]) {
			t.Errorf("FHIR Patient search as SGH: %d %s", code, body)
		}
		out, _ := exec.Command("findscu", "-P", "-aet", "SGHAE", "-aec", "LIGHTBOX", "-k", "QueryRetrieveLevel=PATIENT",
			"-k", "PatientID", "-k", "IssuerOfPatientID", "-k", "PatientName", dicomHost, dicomPort).CombinedOutput()
		if !bytes.Contains(out, []byte("SGH-MRN")) {
			t.Errorf("findscu -P as SGH found none of SGH's patients:\n%s", out)
		}
		for _, other := range []string{"HBI-MRN", "RMI-MRN", hbiPID} {
			if bytes.Contains(out, []byte(other)) {
				t.Errorf("findscu -P as SGH lists %s", other)
			}
		}
	})

	t.Run("idle sockets do not lock registered peers out", func(t *testing.T) {
		// 70 idle sockets on each port from another address (127.0.0.2),
		// as the prober held them; then the registered AE and sender work.
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
		var idle []net.Conn
		defer func() {
			for _, c := range idle {
				c.Close()
			}
		}()
		for _, addr := range []string{s.addrs["dicom"].(string), s.addrs["hl7"].(string)} {
			for range 70 {
				c, err := d.Dial("tcp", addr)
				if err != nil {
					t.Skipf("no second loopback address: %v", err)
				}
				idle = append(idle, c)
			}
		}
		if out, err := exec.Command("echoscu", "-aet", "SGH_CT1", "-aec", "LIGHTBOX", dicomHost, dicomPort).CombinedOutput(); err != nil {
			t.Errorf("echoscu with 70 idle sockets open: %v\n%s", err, out)
		}
		c := &hl7.Client{Addr: s.addrs["hl7"].(string)}
		defer c.Close()
		msg := "MSH|^~\\&|EHR|SGH|LIGHTBOX|GROUP|" + time.Now().UTC().Format("20060102150405") + "||ADT^A08|IDLE1|P|2.5.1\rEVN|A08\rPID|1||PROBE-IDLE^^^SGH-MRN||TEST^IDLE"
		ack, err := c.Send(context.Background(), []byte(msg))
		if err != nil {
			t.Fatalf("MLLP with 70 idle sockets open: %v", err)
		}
		if res, _ := hl7.ReadAck(ack); res.Code != hl7.AckAA {
			t.Errorf("ADT from the registered sender: %+v", res)
		}
		// Past the per-address cap, further sockets are closed at once.
		last := idle[len(idle)-1]
		_ = last.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := last.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Errorf("the 70th idle MLLP socket was kept open: %v", err)
		}
	})

	t.Run("slow and idle HTTP clients are cut off, SSE streams stay", func(t *testing.T) {
		// A worklist event stream, open throughout.
		sse, err := net.Dial("tcp", s.http)
		if err != nil {
			t.Fatal(err)
		}
		defer sse.Close()
		fmt.Fprintf(sse, "GET /api/worklist/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", token(t, data, "coordinator"))
		_ = sse.SetReadDeadline(time.Now().Add(10 * time.Second))
		head := make([]byte, 4096)
		if n, err := sse.Read(head); err != nil || !bytes.Contains(head[:n], []byte("200 OK")) {
			t.Fatalf("SSE: %v %q", err, head[:n])
		}
		// STOW announcing 2 GiB and sending 1 KiB: 408, not held forever.
		c, err := net.Dial("tcp", s.http)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /dicomweb/studies HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/related; type=\"application/dicom\"; boundary=b\r\nContent-Length: 2147483648\r\n\r\n--b\r\nContent-Type: application/dicom\r\n\r\n%s",
			token(t, data, "sgh.feed"), strings.Repeat("x", 1024))
		_ = c.SetReadDeadline(time.Now().Add(90 * time.Second))
		resp, err := io.ReadAll(c)
		if !bytes.HasPrefix(resp, []byte("HTTP/1.1 408")) {
			t.Fatalf("slow STOW body: %v %q", err, resp)
		}
		// The stream is still open (nothing to read, not closed).
		_ = sse.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := sse.Read(head); !isTimeout(err) {
			t.Errorf("SSE stream ended: %v", err)
		}
		// One address cannot hold more than its share of connections; others still get in.
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}}
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for range 300 {
			c, err := d.Dial("tcp", s.http)
			if err != nil {
				t.Skipf("no second loopback address: %v", err)
			}
			held = append(held, c)
		}
		last := held[len(held)-1]
		_ = last.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := last.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Errorf("connection 300 from one address was kept: %v", err)
		}
		if code, _ := s.get(t, "/healthz"); code != 200 {
			t.Errorf("healthz while one address holds 256 connections: %d", code)
		}
	})

	t.Run("HL7 only from registered senders, never across facilities", func(t *testing.T) {
		c := &hl7.Client{Addr: s.addrs["hl7"].(string)}
		defer c.Close()
		a08 := func(id, msh4, issuer, name string) hl7.AckCode {
			msg := strings.Join([]string{
				"MSH|^~\\&|EHR|" + msh4 + "|LIGHTBOX|GROUP|" + time.Now().UTC().Format("20060102150405") + "||ADT^A08|" + id + "|P|2.5.1",
				"EVN|A08|" + time.Now().UTC().Format("20060102150405"),
				"PID|1||" + hbiPID + "^^^" + issuer + "||" + name + "||19800101|F",
			}, "\r")
			return sendHL7(t, c, msg).Code
		}
		// The demo registers HBI's sender for this machine; the prober is elsewhere.
		mustRun(t, "hl7-sender", "add", "--data", data, "--sending-facility", "HBI", "--facility", "HBI", "--allow-cidr", "10.20.0.0/16")
		for _, c := range []struct{ id, msh4, issuer string }{{"PROBE1", "HBI", "HBI-MRN"}, {"PROBE2", "NOBODY", "HBI-MRN"}, {"PROBE3", "SGH", "HBI-MRN"}} {
			if got := a08(c.id, c.msh4, c.issuer, "RENAMED^BYPROBE"); got != hl7.AckAR {
				t.Errorf("ADT^A08 %+v answered %s, want AR", c, got)
			}
		}
		var got []map[string]map[string]any
		admin.do("GET", "/dicomweb/studies?IssuerOfPatientID=HBI-MRN&PatientID="+hbiPID, nil, &got)
		if len(got) == 0 || dcm.JSONString(got[0], "00100010") != hbiName {
			t.Fatalf("HBI patient renamed: %+v", got)
		}
		if !strings.Contains(s.stderr.String(), "hl7: message from a sender not allowed on this connection") {
			t.Error("refused sender not logged")
		}
	})

	// Last: it breaks the trail.
	t.Run("audit trail truncation is detected", func(t *testing.T) {
		if out, e, code := run(t, "audit", "verify", "--data", data); code != 0 || !strings.Contains(out, "intact") {
			t.Fatalf("intact trail: %s %s", out, e)
		}
		d, err := db.Open(context.Background(), "sqlite:"+filepath.Join(data, "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		ctx := context.Background()
		for _, q := range []string{
			"DELETE FROM audit_event_study WHERE seq > (SELECT MAX(seq) - 3 FROM audit_event)",
			"DELETE FROM audit_event WHERE seq > (SELECT MAX(seq) - 3 FROM audit_event)",
		} {
			if _, err := d.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		out, _, code := run(t, "audit", "verify", "--data", data)
		if code == 0 || !strings.Contains(out, "truncated") {
			t.Fatalf("truncated trail passed verify: %s", out)
		}
	})
}

// TestCheckOrphanBlobs: a blob left by a crash between publishing and
// indexing is reported by `lightbox check` and removed by --clean-orphans
// once older than the grace period.
func TestCheckOrphanBlobs(t *testing.T) {
	tmp := t.TempDir()
	data, studies := filepath.Join(tmp, "data"), filepath.Join(tmp, "studies")
	mustRun(t, "gen", "--out", studies, "--modality", "CR", "--slices", "1", "--patients", "1", "--rows", "32", "--columns", "32")
	if _, e, code := run(t, "import", "--data", data, studies); code != 0 {
		t.Fatal(e)
	}
	orphan := filepath.Join(data, "blobs", "objects", "ee", "ee", strings.Repeat("e", 64)+".dcm")
	if err := os.MkdirAll(filepath.Dir(orphan), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orphan, []byte("left by a crash"), 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	_ = os.Chtimes(orphan, old, old)
	out, e, code := run(t, "check", "--data", data)
	if code != 0 || !strings.Contains(out, "orphan blobs: 1 ") || !strings.Contains(out, "missing blobs: 0") {
		t.Fatalf("check: %d %s %s", code, out, e)
	}
	out, e, code = run(t, "check", "--data", data, "--clean-orphans")
	if code != 0 || !strings.Contains(out, "removed 1 orphan blobs") {
		t.Fatalf("check --clean-orphans: %d %s %s", code, out, e)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatal("orphan still there")
	}
	if out, _, code := run(t, "check", "--data", data, "--rehash"); code != 0 || !strings.Contains(out, "orphan blobs: 0 ") {
		t.Fatalf("after cleanup: %s", out)
	}
}
