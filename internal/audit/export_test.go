package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/testwait"
)

// parsed ATNA message, decoded independently of the package's own types.
type xmlCode struct {
	Code   string `xml:"csd-code,attr"`
	System string `xml:"codeSystemName,attr"`
	Text   string `xml:"originalText,attr"`
}

type xmlMessage struct {
	XMLName xml.Name `xml:"AuditMessage"`
	Event   struct {
		Action   string    `xml:"EventActionCode,attr"`
		DateTime string    `xml:"EventDateTime,attr"`
		Outcome  string    `xml:"EventOutcomeIndicator,attr"`
		ID       xmlCode   `xml:"EventID"`
		Types    []xmlCode `xml:"EventTypeCode"`
		Desc     string    `xml:"EventOutcomeDescription"`
	} `xml:"EventIdentification"`
	Participants []struct {
		UserID    string    `xml:"UserID,attr"`
		Requestor string    `xml:"UserIsRequestor,attr"`
		NAP       string    `xml:"NetworkAccessPointID,attr"`
		NAPType   string    `xml:"NetworkAccessPointTypeCode,attr"`
		Roles     []xmlCode `xml:"RoleIDCode"`
	} `xml:"ActiveParticipant"`
	Source struct {
		ID    string    `xml:"AuditSourceID,attr"`
		Site  string    `xml:"AuditEnterpriseSiteID,attr"`
		Types []xmlCode `xml:"AuditSourceTypeCode"`
	} `xml:"AuditSourceIdentification"`
	Objects []struct {
		ID     string  `xml:"ParticipantObjectID,attr"`
		Type   string  `xml:"ParticipantObjectTypeCode,attr"`
		Role   string  `xml:"ParticipantObjectTypeCodeRole,attr"`
		IDType xmlCode `xml:"ParticipantObjectIDTypeCode"`
	} `xml:"ParticipantObjectIdentification"`
}

func parseATNA(t *testing.T, b []byte) xmlMessage {
	t.Helper()
	// Well-formed: the tokenizer reads to the end without error.
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, b)
		}
	}
	var m xmlMessage
	if err := xml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sampleEvent() Event {
	e := AccessEvent(alice, Read, "HOSP", "MRN-A", studyA1, studyA2)
	e.Time = time.Date(2026, 5, 1, 8, 0, 0, 123_000_000, time.UTC)
	e.RecordedAt = e.Time.Add(time.Millisecond)
	e.SourceID, e.Seq = "node-1", 42
	e.Detail = "viewer-open"
	return e
}

func TestATNAMessage(t *testing.T) {
	b, err := MarshalATNA(sampleEvent(), "LIGHTBOX-TELERAD")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		t.Fatalf("no XML declaration: %s", b)
	}
	m := parseATNA(t, b)
	ev := m.Event
	if ev.Action != "R" || ev.DateTime != "2026-05-01T08:00:00.123Z" || ev.Outcome != "0" ||
		ev.ID != (xmlCode{"110103", "DCM", "DICOM Instances Accessed"}) || ev.Desc != "viewer-open" {
		t.Fatalf("EventIdentification %+v", ev)
	}
	if len(m.Participants) != 2 {
		t.Fatalf("participants %+v", m.Participants)
	}
	u := m.Participants[0]
	if u.UserID != "alice" || u.Requestor != "true" || u.NAP != "10.0.0.5" || u.NAPType != "2" {
		t.Fatalf("user participant %+v", u)
	}
	if n := m.Participants[1]; n.UserID != "node-1" || n.Requestor != "false" {
		t.Fatalf("node participant %+v", n)
	}
	if m.Source.ID != "node-1" || m.Source.Site != "LIGHTBOX-TELERAD" || len(m.Source.Types) != 1 {
		t.Fatalf("source %+v", m.Source)
	}
	if len(m.Objects) != 3 {
		t.Fatalf("objects %+v", m.Objects)
	}
	p := m.Objects[0]
	if p.ID != "MRN-A^^^HOSP" || p.Type != "1" || p.Role != "1" || p.IDType.Code != "2" {
		t.Fatalf("patient object %+v", p)
	}
	for i, uid := range []string{studyA1, studyA2} {
		s := m.Objects[i+1]
		if s.ID != uid || s.Type != "2" || s.Role != "3" || s.IDType != (xmlCode{"110180", "DCM", "Study Instance UID"}) {
			t.Fatalf("study object %+v", s)
		}
	}
}

func TestATNALoginAndTransferRoles(t *testing.T) {
	login := LoginEvent(bob, SeriousFailure, "bad-password")
	login.SourceID = "node-1"
	m := parseATNA(t, mustATNA(t, login))
	if m.Event.ID.Code != "110114" || len(m.Event.Types) != 1 || m.Event.Types[0].Code != "110122" || m.Event.Outcome != "8" {
		t.Fatalf("login %+v", m.Event)
	}
	if m.Participants[0].NAPType != "1" || len(m.Objects) != 0 {
		t.Fatalf("login participants %+v objects %+v", m.Participants, m.Objects)
	}

	recv := StoreEvent(Actor{UserID: "CT_SCANNER_1", NetworkAddr: "10.1.1.7", Interface: DICOM}, "CT_SCANNER_1", "HOSP", "MRN-A", studyA1)
	recv.SourceID = "node-1"
	m = parseATNA(t, mustATNA(t, recv))
	roles := map[string]string{}
	for _, p := range m.Participants {
		if len(p.Roles) > 0 {
			roles[p.UserID] = p.Roles[0].Code
		}
	}
	if roles["node-1"] != "110152" || roles["CT_SCANNER_1"] != "110153" {
		t.Fatalf("receive roles %v", roles)
	}

	used := Event{EventID: AuditLogUsed, Action: Read, UserID: "carol", UserIsRequestor: true, SourceID: "node-1"}
	m = parseATNA(t, mustATNA(t, used))
	if len(m.Objects) != 1 || m.Objects[0].Role != "13" || m.Objects[0].IDType.Code != "12" {
		t.Fatalf("audit-log-used objects %+v", m.Objects)
	}
}

func mustATNA(t *testing.T, e Event) []byte {
	t.Helper()
	b, err := MarshalATNA(e, "")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFHIRAuditEvent(t *testing.T) {
	b, err := json.Marshal(FHIRBundle([]Event{sampleEvent(), LoginEvent(bob, Success, "")}, "LIGHTBOX", "https://lb.example/fhir/", ""))
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		ResourceType, Type string
		Total              int
		Entry              []struct {
			FullURL  string         `json:"fullUrl"`
			Resource map[string]any `json:"resource"`
			Search   struct{ Mode string }
		}
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	if bundle.ResourceType != "Bundle" || bundle.Type != "searchset" || bundle.Total != 2 || len(bundle.Entry) != 2 {
		t.Fatalf("bundle %s", b)
	}
	if bundle.Entry[0].FullURL != "https://lb.example/fhir/AuditEvent/42" || bundle.Entry[0].Search.Mode != "match" {
		t.Fatalf("entry %+v", bundle.Entry[0])
	}
	r := bundle.Entry[0].Resource
	get := func(v any, path ...any) any {
		for _, p := range path {
			switch k := p.(type) {
			case string:
				m, _ := v.(map[string]any)
				v = m[k]
			case int:
				l, _ := v.([]any)
				if k >= len(l) {
					return nil
				}
				v = l[k]
			}
		}
		return v
	}
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"resourceType"}, "AuditEvent"},
		{[]any{"id"}, "42"},
		{[]any{"type", "system"}, FHIRDCMSystem},
		{[]any{"type", "code"}, "110103"},
		{[]any{"action"}, "R"},
		{[]any{"recorded"}, "2026-05-01T08:00:00.124Z"},
		{[]any{"period", "start"}, "2026-05-01T08:00:00.123Z"},
		{[]any{"outcome"}, "0"},
		{[]any{"agent", 0, "who", "identifier", "value"}, "alice"},
		{[]any{"agent", 0, "requestor"}, true},
		{[]any{"agent", 0, "network", "address"}, "10.0.0.5"},
		{[]any{"agent", 0, "network", "type"}, "2"},
		{[]any{"agent", 1, "requestor"}, false},
		{[]any{"source", "observer", "display"}, "node-1"},
		{[]any{"source", "site"}, "LIGHTBOX"},
		{[]any{"entity", 0, "what", "identifier", "system"}, "HOSP"},
		{[]any{"entity", 0, "what", "identifier", "value"}, "MRN-A"},
		{[]any{"entity", 0, "type", "code"}, "1"},
		{[]any{"entity", 0, "role", "code"}, "1"},
		{[]any{"entity", 1, "what", "identifier", "value"}, "urn:oid:" + studyA1},
		{[]any{"entity", 1, "type", "code"}, "2"},
		{[]any{"entity", 1, "role", "code"}, "3"},
	}
	for _, c := range checks {
		if got := get(r, c.path...); got != c.want {
			t.Errorf("%v = %v, want %v", c.path, got, c.want)
		}
	}
	login := bundle.Entry[1].Resource
	if get(login, "subtype", 0, "code") != "110122" || get(login, "type", "code") != "110114" {
		t.Errorf("login resource %v", login)
	}
}

// --- syslog over TLS ---

// testPKI is a self-signed certificate used by both collector and node
// (mutual TLS, as ATNA requires).
func testPKI(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "lightbox-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	server = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	client = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client
}

// chainSD is the chain position each forwarded event carries.
var chainSD = regexp.MustCompile(`^\[lightbox-chain@32473 seq="[1-9][0-9]*" hash="[0-9a-f]{64}"\]$`)

type syslogMsg struct {
	pri, version, timestamp, host, app, procID, msgID, sd string
	xml                                                   xmlMessage
}

// collector is an RFC 5425 receiver: octet-counted frames over TLS.
type collector struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	msgs  []syslogMsg
	errs  []error
}

// close takes the collector down: listener and open connections.
func (c *collector) close() {
	c.ln.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
}

func startCollector(t *testing.T, addr string, cfg *tls.Config) *collector {
	t.Helper()
	ln, err := tls.Listen("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.conns = append(c.conns, conn)
			c.mu.Unlock()
			go c.serve(t, conn)
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *collector) serve(t *testing.T, conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		n, err := r.ReadString(' ')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(strings.TrimSuffix(n, " "))
		if err != nil || size <= 0 {
			c.fail(fmt.Errorf("bad frame length %q", n))
			return
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(r, buf); err != nil {
			c.fail(err)
			return
		}
		f := strings.SplitN(string(buf), " ", 7)
		if len(f) != 7 {
			c.fail(fmt.Errorf("bad message %q", buf))
			return
		}
		// STRUCTURED-DATA: "-" or [elements] (their values may hold spaces).
		sd, msg, ok := strings.Cut(f[6], " ")
		if strings.HasPrefix(f[6], "[") {
			sd, msg, ok = strings.Cut(f[6], "] ")
			sd += "]"
		}
		if !ok {
			c.fail(fmt.Errorf("bad message %q", buf))
			return
		}
		f = append(f[:6], sd, msg)
		pri, ver, ok := strings.Cut(f[0], ">")
		if !ok {
			c.fail(fmt.Errorf("bad PRI %q", f[0]))
			return
		}
		var m xmlMessage
		if err := xml.Unmarshal([]byte(f[7]), &m); err != nil {
			c.fail(fmt.Errorf("MSG is not ATNA XML: %v", err))
			return
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, syslogMsg{pri: pri + ">", version: ver, timestamp: f[1], host: f[2], app: f[3], procID: f[4], msgID: f[5], sd: f[6], xml: m})
		c.mu.Unlock()
	}
}

func (c *collector) fail(err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

func (c *collector) received() ([]syslogMsg, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]syslogMsg(nil), c.msgs...), errors.Join(c.errs...)
}

func cursor(t *testing.T, d *db.DB, name string) int64 {
	t.Helper()
	var n int64
	err := d.W.QueryRowContext(context.Background(), d.Rebind(`SELECT last_seq FROM audit_forward WHERE name = ?`), name).Scan(&n)
	if err != nil {
		return -1
	}
	return n
}

func TestSyslogForwarding(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		serverTLS, clientTLS := testPKI(t)
		// Reserve an address, then leave it closed: the collector is down.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()

		l := newLogger(d)
		record := func(from, to int) {
			for i := from; i < to; i++ {
				e := AccessEvent(alice, Read, "HOSP", "MRN-A", studyA1)
				e.Detail = "n=" + strconv.Itoa(i)
				if i == 2 {
					e.Outcome = SeriousFailure
				}
				mustRecord(t, l, e)
			}
		}
		record(0, 5)

		newFwd := func() *SyslogForwarder {
			return &SyslogForwarder{DB: d, Addr: addr, TLSConfig: clientTLS, Name: "arr", Hostname: "lb-node-1",
				PollInterval: 20 * time.Millisecond, BaseBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, BatchSize: 3}
		}
		fwd := newFwd()
		fwd.Start(ctx)
		time.Sleep(300 * time.Millisecond) // several failed attempts
		if c := cursor(t, d, "arr"); c != 0 {
			t.Fatalf("cursor advanced to %d with the collector down", c)
		}

		col := startCollector(t, addr, serverTLS)
		testwait.Until(t, 10*time.Second, "5 messages after the collector came up", func() bool { m, _ := col.received(); return len(m) >= 5 })
		testwait.Until(t, 10*time.Second, "cursor 5", func() bool { return cursor(t, d, "arr") == 5 })

		// The collector goes down under an open connection, then comes back.
		col.close()
		record(5, 8)
		time.Sleep(200 * time.Millisecond)
		col2 := startCollector(t, addr, serverTLS)
		testwait.Until(t, 10*time.Second, "3 messages on the restarted collector", func() bool { m, _ := col2.received(); return len(m) >= 3 })
		testwait.Until(t, 10*time.Second, "cursor 8", func() bool { return cursor(t, d, "arr") == 8 })
		fwd.Stop()

		// Forwarder restart: new events only, resumed from the stored cursor.
		record(8, 10)
		fwd = newFwd()
		fwd.Start(ctx)
		testwait.Until(t, 10*time.Second, "5 messages", func() bool { m, _ := col2.received(); return len(m) >= 5 })
		testwait.Until(t, 10*time.Second, "cursor 10", func() bool { return cursor(t, d, "arr") == 10 })
		fwd.Stop()

		first, err := col.received()
		if err != nil {
			t.Fatal(err)
		}
		second, err := col2.received()
		if err != nil {
			t.Fatal(err)
		}
		// At-least-once: 5..7 may be re-sent if a batch hit the closing
		// connection; 0..4 and (after the forwarder restart) 8..9 exactly once.
		seen := map[string]int{}
		var msgs []syslogMsg
		for _, m := range append(first, second...) {
			if seen[m.xml.Event.Desc]++; seen[m.xml.Event.Desc] == 1 {
				msgs = append(msgs, m)
			}
		}
		for i := range 10 {
			if n := seen["n="+strconv.Itoa(i)]; n == 0 || (n > 1 && (i < 5 || i >= 8)) {
				t.Fatalf("event %d received %d times (%v)", i, n, seen)
			}
		}
		for i, m := range msgs {
			wantPri := "<85>"
			if i == 2 {
				wantPri = "<84>"
			}
			if m.pri != wantPri || m.version != "1" || m.host != "lb-node-1" || m.app != "lightbox" || m.msgID != "IHE+RFC-3881" || !chainSD.MatchString(m.sd) {
				t.Fatalf("message %d header %+v", i, m)
			}
			if _, err := time.Parse("2006-01-02T15:04:05.000Z", m.timestamp); err != nil {
				t.Fatalf("timestamp %q: %v", m.timestamp, err)
			}
			x := m.xml
			if x.Event.Desc != "n="+strconv.Itoa(i) || x.Event.ID.Code != "110103" || len(x.Objects) != 2 || x.Objects[0].ID != "MRN-A^^^HOSP" {
				t.Fatalf("message %d: %+v", i, x)
			}
		}
		if rep := mustVerify(t, d); !rep.OK {
			t.Fatal(rep.Break)
		}
	})
}

// A second forwarder for the same collector waits while the first holds
// the lease.
func TestSyslogLease(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		seed(t, d, 2)
		a := &SyslogForwarder{DB: d, Addr: "127.0.0.1:1", Name: "arr", LeaseTTL: time.Hour}
		b := &SyslogForwarder{DB: d, Addr: "127.0.0.1:1", Name: "arr", LeaseTTL: time.Hour}
		if _, ok, err := a.claim(ctx); err != nil || !ok {
			t.Fatalf("a: %v %v", ok, err)
		}
		if _, ok, err := b.claim(ctx); err != nil || ok {
			t.Fatalf("b claimed a held lease: %v %v", ok, err)
		}
		if n, err := b.ForwardOnce(ctx); n != 0 || err != nil {
			t.Fatalf("b forwarded %d, %v", n, err)
		}
	})
}
