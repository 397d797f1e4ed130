package main

// A group set up from nothing through the CLI and the API only (no demo
// code), against a running server: facilities (one by hand, 2,000 by CSV
// with bad rows), a result endpoint tested with a real MLLP peer, an AE,
// a reader with licence, privilege and shift (added by the CLI while the
// server runs: its engine must see them), an order over MLLP, a study by
// DCMTK storescu, a signed report, and the ORU delivered to the
// facility's endpoint.

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"lightbox/internal/hl7"
	"lightbox/internal/notify/notifytest"
)

func TestGroupFromScratch(t *testing.T) {
	needTools(t, "storescu", "dcmodify")
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	pw := filepath.Join(tmp, "pw")
	_ = os.WriteFile(pw, []byte("a-long-enough-password-1\n"), 0o600)
	// The group's mail relay (aiosmtpd: STARTTLS and AUTH) and the coverage
	// desk's paging webhook.
	relay := notifytest.SMTPD(t, "lightbox", "relay-password")
	relayPW := filepath.Join(tmp, "relay-pw")
	_ = os.WriteFile(relayPW, []byte("relay-password\n"), 0o600)
	const hookSecret = "paging-service-shared-secret"
	hook := notifytest.Webhook(t, hookSecret, 0)
	srv := startServer(t, "serve", "--data", data, "--quiet", "1s", "--smtp", relay.Addr, "--smtp-ca", relay.CertFile,
		"--smtp-username", "lightbox", "--smtp-password-file", relayPW, "--smtp-from", "lightbox@group.example.org",
		"--public-url", "https://lightbox.group.example.org")
	defer srv.stop(t)
	for _, u := range [][]string{{"admin", "admin", ""}, {"dr.new", "radiologist", "NWH"}} {
		if _, e, code := run(t, "user", "add", "--data", data, "--username", u[0], "--role", u[1], "--facilities", u[2], "--password-file", pw); code != 0 {
			t.Fatalf("user add %s: %s", u[0], e)
		}
	}
	admin := apiClient{t: t, base: srv.http, token: token(t, data, "admin")}

	// Facilities: one by hand, a national group's 2,000 from CSV with bad rows.
	if out, e, code := run(t, "facility", "add", "--data", data, "--id", "NWH", "--name", "Northwest Hospital", "--state", "OR",
		"--timezone", "America/Los_Angeles", "--issuer", "NWH-MRN", "--read-type", "final"); code != 0 {
		t.Fatalf("facility add: %s %s", out, e)
	}
	if _, _, code := run(t, "facility", "add", "--data", data, "--id", "BAD", "--name", "Bad", "--state", "XX", "--timezone", "UTC"); code == 0 {
		t.Fatal("a facility in no US state was accepted")
	}
	var csv strings.Builder
	csv.WriteString("id,name,state,timezone,issuer_of_patient_id,read_type,medicare\n")
	for i := range 2000 {
		fmt.Fprintf(&csv, "N%04d,National %d,TX,America/Chicago,,final,true\n", i, i)
	}
	csv.WriteString("N0007,Duplicate,TX,America/Chicago,,,\nNOZONE,No Zone,TX,,,,\nNOSTATE,No State,,America/Chicago,,,\n")
	facCSV := filepath.Join(tmp, "facilities.csv")
	_ = os.WriteFile(facCSV, []byte(csv.String()), 0o600)
	start := time.Now()
	out, _, code := run(t, "facility", "import", "--data", data, facCSV)
	t.Logf("CLI import of 2,003 facility rows beside a running server: %v", time.Since(start))
	if code == 0 || !strings.Contains(out, "2000 of 2003 rows imported, 3 rejected") || !strings.Contains(out, "row 2002 N0007 [duplicate]") {
		t.Fatalf("facility import:\n%s", out)
	}
	// 500 readers by CSV (two bad rows), through the API.
	var rcsv strings.Builder
	rcsv.WriteString("id,name,country,state,timezone,modalities,subspecialties,workstation,mqsa,rvu_target_per_hour\n")
	for i := range 500 {
		fmt.Fprintf(&rcsv, "nat.%03d,Dr National %d,US,TX,America/Chicago,CT MR,,3MP,false,10\n", i, i)
	}
	rcsv.WriteString("nat.bad,Nowhere,,TX,America/Chicago,CT,,3MP,false,10\nnat.bad2,Bad Zone,US,TX,Mars/Base,CT,,3MP,false,10\n")
	var rep struct {
		Accepted int `json:"accepted"`
		Rejected []struct {
			Row  int    `json:"row"`
			Code string `json:"code"`
		} `json:"rejected"`
	}
	if st := admin.postRaw("/api/readers/import?kind=readers", "text/csv", rcsv.String(), &rep); st != 200 || rep.Accepted != 500 || len(rep.Rejected) != 2 {
		t.Fatalf("reader import: %d %+v", st, rep)
	}

	// The result endpoint, tested against the facility's MLLP peer.
	peer := startMLLPPeer(t)
	if st := admin.do("PUT", "/api/facilities/NWH/endpoints/hl7", map[string]any{"address": peer.addr}, nil); st != 200 {
		t.Fatalf("endpoint: %d", st)
	}
	var test struct {
		OK  bool   `json:"ok"`
		Ack string `json:"ack"`
	}
	if st := admin.do("POST", "/api/facilities/NWH/endpoints/hl7/test", nil, &test); st != 200 || !test.OK || test.Ack != "AA" {
		t.Fatalf("endpoint test: %d %+v", st, test)
	}
	if peer.find("|T|2.5.1") == "" {
		t.Fatal("the peer never saw the test message")
	}
	var apiErr struct{ Code string }
	if st := admin.do("PUT", "/api/facilities/NOPE/endpoints/hl7", map[string]any{"address": peer.addr}, &apiErr); st != 422 || apiErr.Code != "unknown_facility" {
		t.Fatalf("endpoint of an unknown facility: %d %+v", st, apiErr)
	}
	// Its scanner, and the reference check on AEs.
	if st := admin.do("PUT", "/api/aes/NWH_CT1", map[string]any{"host": "127.0.0.1", "port": 104, "facility_id": "NWH"}, nil); st != 200 {
		t.Fatalf("AE: %d", st)
	}
	if st := admin.do("PUT", "/api/aes/GHOST", map[string]any{"host": "127.0.0.1", "port": 104, "facility_id": "NOPE"}, &apiErr); st != 422 || apiErr.Code != "unknown_facility" {
		t.Fatalf("AE of an unknown facility: %d %+v", st, apiErr)
	}
	if st := admin.do("PUT", "/api/facilities/NWH/protocols", []map[string]string{{"code": "CTHEAD-NC", "text": "CT head without contrast", "modality": "CT"}}, nil); st != 200 {
		t.Fatalf("protocol library: %d", st)
	}

	// The reader, by the CLI while the server runs: the engine must see it.
	if out, e, code := run(t, "reader", "add", "--data", data, "--id", "dr.new", "--name", "Dr New", "--country", "US", "--state", "OR",
		"--timezone", "America/Los_Angeles", "--modalities", "CT MR", "--licence", "OR:MD-1:2030-01-01", "--privilege", "NWH:2030-01-01",
		"--malpractice-states", "OR", "--malpractice-expires", "2030-01-01"); code != 0 {
		t.Fatalf("reader add: %s %s", out, e)
	}
	if out, e, code := run(t, "reader", "add", "--data", data, "--id", "dr.ghost", "--name", "Ghost", "--state", "OR", "--timezone", "UTC",
		"--licence", "OR:1:2030-01-01", "--privilege", "NOPE:2030-01-01"); code == 0 || !strings.Contains(e, "no facility") {
		t.Fatalf("privilege at an unknown facility: %s %s", out, e)
	}
	if out, e, code := run(t, "shift", "add", "--data", data, "--reader", "dr.new", "--type", "swing", "--start", "00:00", "--end", "00:00"); code != 0 {
		t.Fatalf("shift add: %s %s", out, e)
	}

	// The gap map: NWH is covered all day by dr.new; a national facility
	// nobody is privileged at has gaps, each naming what is missing.
	var gm struct {
		Rows []struct {
			FacilityID string `json:"facility_id"`
			Covered    []bool `json:"covered"`
			Gaps       []struct {
				Missing string `json:"missing"`
			} `json:"gaps"`
		} `json:"rows"`
	}
	if st := admin.do("GET", "/api/coverage/gaps?facility=NWH,N0001&hours=24", nil, &gm); st != 200 || len(gm.Rows) != 2 {
		t.Fatalf("gap map: %d %+v", st, gm)
	}
	for _, row := range gm.Rows {
		covered := !slices.Contains(row.Covered, false)
		if (row.FacilityID == "NWH") != covered || (!covered && (len(row.Gaps) == 0 || row.Gaps[0].Missing == "")) {
			t.Fatalf("gap map row %+v", row)
		}
	}

	// The radiologist enrols a second factor and logs in.
	out, e, code := run(t, "user", "totp", "--data", data, "--username", "dr.new")
	m := regexp.MustCompile(`secret=([A-Z2-7]+)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("totp: %s %s", out, e)
	}
	first, _ := totp.GenerateCode(m[1], time.Now())
	mustRun(t, "user", "totp", "--data", data, "--username", "dr.new", "--confirm", first)
	jar, _ := cookiejar.New(nil)
	s := &session{t: t, base: srv.http, c: &http.Client{Jar: jar}}
	otp, _ := totp.GenerateCode(m[1], time.Now().Add(30*time.Second))
	var lr struct {
		CSRF string `json:"csrf_token"`
	}
	if st, b := s.do("POST", "/api/login", map[string]string{"username": "dr.new", "password": "a-long-enough-password-1", "totp": otp}, &lr); st != 200 {
		t.Fatalf("login: %d %s", st, b)
	}
	s.csrf = lr.CSRF

	// The order from the new facility, over MLLP, from its registered sender.
	if out, e, code := run(t, "hl7-sender", "add", "--data", data, "--sending-facility", "NWH", "--facility", "NWH", "--allow-cidr", "127.0.0.0/8"); code != 0 {
		t.Fatalf("hl7-sender add: %s %s", out, e)
	}
	now := time.Now().UTC()
	orm := strings.Join([]string{
		"MSH|^~\\&|EHR|NWH|LIGHTBOX|GROUP|" + now.Format("20060102150405") + "||ORM^O01|NEW0001|P|2.3.1",
		"PID|1||NW000001^^^NWH-MRN||SCRATCH^TEST||19800101|M",
		"PV1|1|E",
		"ORC|NW|NWPLC1|||||^^^^^S||" + now.Format("20060102150405"),
		"OBR|1|NWPLC1||70450^CT head without contrast^C4|S||||||||Headache|||||ACC-NWH-1",
	}, "\r")
	if res := sendHL7(t, &hl7.Client{Addr: srv.addrs["hl7"].(string)}, orm); res.Code != hl7.AckAA {
		t.Fatalf("ORM from the new facility: %+v", res)
	}
	orderID := protocolOrder(t, "ACC-NWH-1", func(path string, out any) { s.do("GET", path, nil, out) })
	if st, _ := s.do("POST", "/api/orders/"+orderID+"/approve", map[string]any{"code": "NOT-IN-LIBRARY"}, nil); st != 422 {
		t.Fatalf("approval with a protocol outside the facility's library: %d", st)
	}
	if st, b := s.do("POST", "/api/orders/"+orderID+"/approve", map[string]any{"code": "CTHEAD-NC", "station_ae": "NWH_CT1"}, nil); st != 200 {
		t.Fatalf("approve: %d %s", st, b)
	}

	// The study from the new facility's scanner (DCMTK storescu).
	studies := filepath.Join(tmp, "studies")
	mustRun(t, "gen", "--out", studies, "--modality", "CT", "--slices", "4", "--patients", "1", "--rows", "64", "--columns", "64", "--seed", "5")
	files, _ := filepath.Glob(filepath.Join(studies, "*", "*", "*", "*.dcm"))
	args := []string{"-nb", "-m", "AccessionNumber=ACC-NWH-1", "-m", "PatientID=NW000001", "-m", "IssuerOfPatientID=NWH-MRN",
		"-m", "PatientName=SCRATCH^TEST", "-m", "InstitutionName=Northwest Hospital"}
	if out, err := exec.Command("dcmodify", append(args, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("dcmodify: %v %s", err, out)
	}
	dh, dp := hostPort(srv.addrs["dicom"].(string))
	if out, err := exec.Command("storescu", append([]string{"-aet", "NWH_CT1", "-aec", "LIGHTBOX", dh, dp}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}

	// It reaches dr.new's worklist: the engine knows the reader the CLI added.
	waitOnWorklist := func() (study string) {
		s.awaitWorklist(60*time.Second, func(items []worklistCase) bool {
			for _, it := range items {
				if it.Accession == "ACC-NWH-1" {
					study = it.StudyUID
					return true
				}
			}
			return false
		}, func(items []worklistCase) {
			var board any
			admin.do("GET", "/api/worklist", nil, &board)
			t.Fatalf("the study never reached dr.new: %+v\nboard: %+v", items, board)
		})
		return study
	}
	study := waitOnWorklist()

	// The reader drops offline with the study assigned: nobody else can read
	// it. The coverage desk is told by e-mail, signed webhook and in-app.
	if st := admin.do("PUT", "/api/notify/preferences/coordinators", map[string]any{"email": "desk@group.example.org",
		"webhook_url": hook.URL, "webhook_secret": hookSecret, "channels": []string{"email", "webhook", "inapp"}}, nil); st != 200 {
		t.Fatalf("coverage desk preference: %d", st)
	}
	if st, b := s.do("POST", "/api/presence/offline", nil, nil); st != 200 {
		t.Fatalf("offline: %d %s", st, b)
	}
	var notices []struct {
		Event   string `json:"event"`
		Subject string `json:"subject"`
	}
	admin.do("GET", "/api/notices", nil, &notices)
	events := map[string]bool{}
	for _, n := range notices {
		events[n.Event] = true
	}
	if !events["reader.offline"] || !events["study.uncovered"] {
		t.Fatalf("coverage desk notices: %+v", notices)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mails := strings.Join(relay.Messages(), "\n")
		bodies, refused := hook.Received()
		if strings.Contains(mails, "Subject: Reader dr.new went offline with studies assigned") && strings.Contains(mails, "https://lightbox.group.example.org/coverage") &&
			strings.Contains(strings.Join(bodies, ""), `"event":"study.uncovered"`) {
			if refused != 0 || strings.Contains(mails, "ACC-NWH-1") || strings.Contains(mails, "SCRATCH") {
				t.Fatalf("refused webhooks %d, or patient data in e-mail:\n%s", refused, mails)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("coverage desk not told: mails\n%s\nwebhooks %v (refused %d)", mails, bodies, refused)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// Back online, the study comes back.
	if again := waitOnWorklist(); again != study {
		t.Fatalf("another study came back: %s", again)
	}
	if st, b := s.do("POST", "/api/worklist/"+study+"/open", nil, nil); st != 200 {
		t.Fatalf("open: %d %s", st, b)
	}
	if st, b := s.do("PUT", "/api/reports/studies/"+study+"/draft", map[string]any{"findings": "No acute intracranial abnormality.", "impression": "Normal CT head."}, nil); st != 200 {
		t.Fatalf("draft: %d %s", st, b)
	}
	if st, b := s.do("POST", "/api/reports/studies/"+study+"/sign", map[string]any{"kind": "final"}, nil); st != 200 {
		t.Fatalf("sign: %d %s", st, b)
	}

	// The report arrives at the facility's configured endpoint.
	deadline = time.Now().Add(30 * time.Second)
	for {
		if oru := peer.find("ORU^R01", "ACC-NWH-1"); oru != "" {
			if !strings.Contains(oru, "Normal CT head") {
				t.Fatalf("ORU without the report:\n%s", oru)
			}
			break
		}
		if time.Now().After(deadline) {
			peer.mu.Lock()
			t.Fatalf("no ORU delivered to NWH's endpoint; peer got %d messages:\n%s", len(peer.msgs), strings.Join(peer.msgs, "\n---\n"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	// The dashboard counts the new facility's study.
	var vol struct {
		Rows []struct {
			FacilityID string `json:"facility_id"`
			Studies    int    `json:"studies"`
		} `json:"rows"`
	}
	if st := admin.do("GET", "/api/dashboard/volume", nil, &vol); st != 200 || len(vol.Rows) != 1 || vol.Rows[0].FacilityID != "NWH" || vol.Rows[0].Studies != 1 {
		t.Fatalf("dashboard volume: %d %+v", st, vol)
	}
	// Every set-up change was audited.
	if out, e, code := run(t, "audit", "verify", "--data", data); code != 0 {
		t.Fatalf("audit verify: %s %s", out, e)
	}
}
