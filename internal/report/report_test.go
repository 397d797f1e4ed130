package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/hl7"
	"lightbox/internal/model"
	"lightbox/internal/order"
	"lightbox/internal/outbox"
	"lightbox/internal/roster"
)

var testNow = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

// listener is a facility's MLLP receiver.
type listener struct {
	mu   sync.Mutex
	got  [][]byte
	addr string
	srv  *hl7.Server
}

func newListener(t *testing.T, code hl7.AckCode) *listener {
	l := &listener{}
	l.srv = &hl7.Server{Handler: hl7.HandlerFunc(func(ctx context.Context, req *hl7.Request) []byte {
		l.mu.Lock()
		l.got = append(l.got, append([]byte(nil), req.Raw...))
		l.mu.Unlock()
		return hl7.NewACK(req.Message, code, hl7.AckOptions{}).Bytes()
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.addr = ln.Addr().String()
	go func() { _ = l.srv.Serve(ln) }()
	t.Cleanup(func() { _ = l.srv.Close() })
	return l
}

func (l *listener) messages() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.got...)
}

type hooks struct {
	mu       sync.Mutex
	signed   []string
	notified []string
	started  []Discrepancy
}

type fixture struct {
	d     *db.DB
	s     *Service
	h     *hooks
	ok    *listener
	nak   *listener
	deliv *outbox.Deliverer
}

func reader(id, country, state string, expires model.Date) *model.Reader {
	r := &model.Reader{ID: id, Name: "Dr " + strings.ToUpper(id[:1]) + id[1:], Modalities: []string{"CT", "MG", "CR"},
		Location:    model.Location{Country: country, State: state},
		MQSA:        model.MQSA{Qualified: true, Last24Months: 1200, DBT: true},
		Workstation: model.WS5MP,
		Licenses:    []model.License{{State: "TX", Number: "TX-" + id, Status: model.LicenceActive, Expires: expires}},
		Malpractice: []model.Malpractice{{Carrier: "X", States: []string{"TX"}, Telemedicine: true}},
		Enrolments:  []model.Enrolment{{Payer: model.PayerMedicare, Active: true}},
	}
	for _, f := range []string{"fac-a", "fac-m", "fac-n"} {
		r.Privileges = append(r.Privileges, model.Privilege{Facility: f, Basis: model.Direct, Scope: model.Scope{Mammography: true}})
	}
	return r
}

func setup(t *testing.T, d *db.DB, results ResultWriter) *fixture {
	ctx := context.Background()
	f := &fixture{d: d, h: &hooks{}}
	now := db.Now(testNow)
	for _, fac := range [][2]string{{"fac-a", "General Hospital"}, {"fac-m", "Medicare Clinic"}, {"fac-n", "Nak Hospital"}} {
		if _, err := d.Exec(ctx, "INSERT INTO facility (id, name, state, timezone, created_at) VALUES (?, ?, 'TX', 'America/Chicago', ?)", fac[0], fac[1], now); err != nil {
			t.Fatal(err)
		}
	}
	rs := roster.Store{DB: d}
	must(t, rs.PutContract(ctx, "fac-a", roster.Contract{ReadType: model.ReadFinalType}))
	must(t, rs.PutContract(ctx, "fac-m", roster.Contract{ReadType: model.ReadFinalType, Medicare: true}))
	must(t, rs.PutReader(ctx, reader("areader", "AU", "", 0)))
	must(t, rs.PutReader(ctx, reader("breader", "US", "TX", model.MustDate("2027-12-31"))))
	must(t, rs.PutReader(ctx, reader("creader", "US", "TX", model.MustDate("2026-03-09")))) // lapsed after assignment
	var ppk int64
	must(t, d.W.QueryRowContext(ctx, d.Rebind("INSERT INTO patient (issuer, patient_id, name, birth_date, sex, created_at, updated_at) VALUES ('fac-a', 'MRN1', 'DOE^JANE', '19700102', 'F', ?, ?) RETURNING pk"), now, now).Scan(&ppk))
	studies := []struct{ uid, fac, acc, mod, code string }{
		{"1.2.3.1", "fac-a", "ACC1", "CT", "70450"},
		{"1.2.3.2", "fac-a", "ACC2", "CT", "70450"},
		{"1.2.3.3", "fac-m", "ACC3", "CT", "70450"},
		{"1.2.3.4", "fac-a", "ACC4", "MG", "77067"},
		{"1.2.3.5", "fac-n", "ACC5", "CT", "70450"},
	}
	orders := &order.Service{DB: d}
	for _, st := range studies {
		if _, err := d.Exec(ctx, `INSERT INTO study (study_uid, patient_pk, facility_id, accession, study_date, study_time, modalities, procedure_code, created_at, last_instance_at)
			VALUES (?, ?, ?, ?, '20260310', '081500', ?, ?, ?, ?)`, st.uid, ppk, st.fac, st.acc, st.mod, st.code, now, now); err != nil {
			t.Fatal(err)
		}
		if _, _, err := orders.Intake(ctx, order.Order{FacilityID: st.fac, Accession: st.acc, PlacerOrder: "P-" + st.acc, Patient: order.Patient{Issuer: "fac-a", ID: "MRN1", Name: "DOE^JANE"},
			ProcedureCode: st.code, ProcedureText: "EXAM " + st.code, Ordering: order.Clinician{Name: "SMITH^JOHN", ID: "1234567890", IDType: "NPI"},
			LocationState: "TX", Medicare: st.fac == "fac-m"}); err != nil {
			t.Fatal(err)
		}
	}
	f.ok = newListener(t, hl7.AckAA)
	f.nak = newListener(t, hl7.AckAE)
	must(t, outbox.SetEndpoint(ctx, d, outbox.Endpoint{FacilityID: "fac-a", Kind: "hl7", Address: f.ok.addr}))
	must(t, outbox.SetEndpoint(ctx, d, outbox.Endpoint{FacilityID: "fac-n", Kind: "hl7", Address: f.nak.addr}))
	h := f.h
	f.s = New(d, Options{
		Now:     func() time.Time { return testNow },
		Results: results,
		OnSigned: func(ctx context.Context, uid, rid string, k model.ReadKind) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.signed = append(h.signed, uid+"/"+rid+"/"+k.String())
			return nil
		},
		NotifyDiscrepancy: func(ctx context.Context, rid string, d Discrepancy) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.notified = append(h.notified, rid)
		},
		OnDiscrepancy: func(ctx context.Context, d Discrepancy) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.started = append(h.started, d)
			return nil
		},
	})
	must(t, f.s.SetFacilitySettings(ctx, FacilitySettings{FacilityID: "fac-a", EmbedPDF: true, Letterhead: []string{"1 Main Street", "Austin, TX 78701"}}))
	f.deliv = &outbox.Deliverer{DB: d, PollInterval: 10 * time.Millisecond, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		MaxAttempts: 2, AckTimeout: 5 * time.Second, DialTimeout: 2 * time.Second}
	dctx, cancel := context.WithCancel(ctx)
	f.deliv.Start(dctx)
	t.Cleanup(func() { cancel(); f.deliv.Stop() })
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// settle waits until no ORU is pending.
func (f *fixture) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if dbtest.Count(t, f.d, "SELECT COUNT(*) FROM hl7_outbox WHERE status = 'pending'") == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("outbox did not settle")
}

func (f *fixture) status(t *testing.T, uid string) string {
	t.Helper()
	rep, err := f.s.Get(context.Background(), uid)
	must(t, err)
	return rep.Status
}

// pyHL7 returns OBR-25 and the OBX text as python3-hl7 reads them.
func pyHL7(t *testing.T, msg []byte) (string, string, bool) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		return "", "", false
	}
	if exec.Command("/usr/bin/python3", "-c", "import hl7").Run() != nil {
		return "", "", false
	}
	cmd := exec.Command("/usr/bin/python3", "-c", `import sys, json, hl7
m = hl7.parse(sys.stdin.read())
obr = m.segment('OBR')
txt = [str(s[5]) for s in m.segments('OBX') if str(s[2]) == 'TX']
print(json.dumps({"status": str(obr[25]), "text": "\n".join(txt), "type": str(m.segment('MSH')[9])}))`)
	cmd.Stdin = bytes.NewReader(msg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3-hl7: %v\n%s", err, out)
	}
	var r struct{ Status, Text, Type string }
	must(t, json.Unmarshal(out, &r))
	if r.Type != "ORU^R01^ORU_R01" {
		t.Fatalf("MSH-9 = %q", r.Type)
	}
	return r.Status, r.Text, true
}

func checkORU(t *testing.T, raw []byte, wantStatus string, wantText ...string) *hl7.Message {
	t.Helper()
	m, err := hl7.Parse(raw)
	must(t, err)
	if got := m.Get("OBR-25"); got != wantStatus {
		t.Fatalf("OBR-25 = %q, want %q", got, wantStatus)
	}
	if m.Get("OBR-3") != "ACC1" || m.Get("OBR-18") != "ACC1" || m.Get("ORC-1") != "RE" || m.Get("OBR-4") != "70450" {
		t.Fatalf("OBR-3/18/4 or ORC-1 wrong: %s", m.Summary())
	}
	if m.Get("OBX-11") != wantStatus || m.Get("OBR-22") == "" || m.Get("OBR-32") == "" {
		t.Fatalf("OBX-11 / OBR-22 / OBR-32 wrong")
	}
	if st, txt, ok := pyHL7(t, raw); ok {
		if st != wantStatus {
			t.Fatalf("python3-hl7 OBR-25 = %q", st)
		}
		for _, w := range wantText {
			if !strings.Contains(txt, w) {
				t.Fatalf("python3-hl7 OBX text lacks %q:\n%s", w, txt)
			}
		}
	} else {
		t.Log("python3-hl7 unavailable: parsed with internal/hl7 only")
	}
	return m
}

func pdftotext(t *testing.T, b []byte) (string, bool) {
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		return "", false
	}
	p := filepath.Join(t.TempDir(), "r.pdf")
	must(t, os.WriteFile(p, b, 0o600))
	out, err := exec.Command(bin, p, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out), true
}

func lifecycle(t *testing.T, f *fixture) {
	ctx := context.Background()
	s := f.s
	A := Signer{ReaderID: "areader"} // sits in Australia
	B := Signer{ReaderID: "breader", Location: model.Location{Country: "US", State: "TX"}}
	const uid = "1.2.3.1"

	// Draft (autosaves kept).
	tpl, ok := s.Templates().Choose("70450", "CT")
	if !ok || tpl.ID != "ct-head" {
		t.Fatalf("template = %+v", tpl)
	}
	c := tpl.Normal
	c.TemplateID = tpl.ID
	c.ClinicalHistory = "Headache."
	c.Impression = ""
	_, err := s.SaveDraft(ctx, uid, "areader", c)
	must(t, err)
	c.Impression = "No acute intracranial abnormality."
	_, err = s.SaveDraft(ctx, uid, "areader", c)
	must(t, err)
	if st := f.status(t, uid); st != StatusRegistered {
		t.Fatalf("draft status = %s", st)
	}

	// Refusals before the prelim.
	if _, err := s.Sign(ctx, uid, SignRequest{Kind: model.Prelim, Signer: A}); !errors.Is(err, ErrReauth) {
		t.Fatalf("unauthenticated sign: %v", err)
	}
	if _, err := s.Sign(ctx, uid, SignRequest{Kind: model.Prelim, Signer: B, Authenticated: true}); !errors.Is(err, ErrNotAuthor) {
		t.Fatalf("someone else's draft: %v", err)
	}
	if _, err := s.Sign(ctx, uid, SignRequest{Kind: model.Final, Signer: A, Authenticated: true}); err == nil {
		t.Fatal("offshore final accepted")
	}

	// Prelim by A (abroad).
	pv, err := s.Sign(ctx, uid, SignRequest{Kind: model.Prelim, Signer: A, Authenticated: true})
	must(t, err)
	if pv.Seq != 3 || pv.Signer.Location.Country != "AU" || pv.WorkRVU != 0.83 || pv.CPT != "70450" {
		t.Fatalf("prelim = %+v", pv)
	}
	f.settle(t)
	if st := f.status(t, uid); st != StatusPreliminary {
		t.Fatalf("status = %s", st)
	}
	msgs := f.ok.messages()
	if len(msgs) != 1 {
		t.Fatalf("listener got %d messages", len(msgs))
	}
	m := checkORU(t, msgs[0], "P", "No acute intracranial abnormality.", "PRELIMINARY")
	var ed *hl7.OBX
	for _, seg := range m.All("OBX") {
		var o hl7.OBX
		must(t, o.Decode(seg))
		if o.ValueType == "ED" {
			ed = &o
		}
	}
	if ed == nil || ed.ED == nil {
		t.Fatal("no ED OBX with the PDF")
	}
	if b, err := ed.ED.Bytes(); err != nil || !bytes.HasPrefix(b, []byte("%PDF-1.4")) {
		t.Fatalf("ED OBX is not a PDF: %v", err)
	}

	// Final by B over A's prelim with a changed impression: discrepancy.
	c2 := c
	c2.Impression = "Small acute left subdural hematoma."
	fv, err := s.Sign(ctx, uid, SignRequest{Kind: model.Final, Signer: B, Authenticated: true, Content: &c2})
	must(t, err)
	if fv.Kind != KindFinal || fv.Author != "breader" || fv.SignedAt != testNow {
		t.Fatalf("final = %+v", fv)
	}
	f.settle(t)
	checkORU(t, f.ok.messages()[1], "F", "Small acute left subdural hematoma.")
	if st := f.status(t, uid); st != StatusFinal {
		t.Fatalf("status = %s", st)
	}
	ds, err := s.Discrepancies(ctx, uid)
	must(t, err)
	if len(ds) != 1 || !ds[0].ImpressionChanged || !ds[0].PrelimCommunicated || ds[0].PrelimReader != "areader" || ds[0].FinalReader != "breader" {
		t.Fatalf("discrepancies = %+v", ds)
	}
	rates, err := s.DiscrepancyRates(ctx, testNow.Add(-time.Hour), testNow.Add(time.Hour))
	must(t, err)
	if len(rates) != 1 || rates[0].FinalsOverPrelim != 1 || rates[0].Discrepant != 1 || rates[0].ImpressionChanged != 1 || rates[0].Percent != 100 {
		t.Fatalf("discrepancy rates = %+v", rates)
	}
	f.h.mu.Lock()
	if len(f.h.notified) != 1 || f.h.notified[0] != "areader" || len(f.h.started) != 1 || len(f.h.signed) != 2 || f.h.signed[1] != uid+"/breader/final" {
		t.Fatalf("hooks: %+v", f.h)
	}
	f.h.mu.Unlock()

	// Signed versions are immutable.
	if _, err := s.SaveDraft(ctx, uid, "breader", c2); !errors.Is(err, ErrSigned) {
		t.Fatalf("edit after final: %v", err)
	}
	if _, err := s.Sign(ctx, uid, SignRequest{Kind: model.Final, Signer: B, Authenticated: true, Content: &c2}); !errors.Is(err, ErrSigned) {
		t.Fatalf("second final: %v", err)
	}

	// Addendum (the critical-results statement): C with the full text.
	av, err := s.Addendum(ctx, uid, "Communicated to Dr John Smith (ordering) by phone at 2026-03-10 09:05 CST; read back.", B)
	must(t, err)
	if !av.SystemGenerated || av.Kind != KindAddendum {
		t.Fatalf("addendum = %+v", av)
	}
	f.settle(t)
	checkORU(t, f.ok.messages()[2], "C", "Small acute left subdural hematoma.", "ADDENDUM 1", "read back")
	if st := f.status(t, uid); st != StatusAppended {
		t.Fatalf("status = %s", st)
	}

	// Correction needs a reason.
	c3 := c2
	c3.Impression = "Small acute left subdural hematoma, 4 mm."
	if _, err := s.Correct(ctx, uid, c3, " ", B); !errors.Is(err, ErrReasonRequired) {
		t.Fatalf("correction without reason: %v", err)
	}
	_, err = s.Correct(ctx, uid, c3, "thickness added", B)
	must(t, err)
	f.settle(t)
	checkORU(t, f.ok.messages()[3], "C", "4 mm", "thickness added", "ADDENDUM 1")
	if st := f.status(t, uid); st != StatusAmended {
		t.Fatalf("status = %s", st)
	}

	// History: every version kept, the prelim unchanged.
	vs, err := s.Versions(ctx, uid)
	must(t, err)
	kinds := []Kind{}
	for _, v := range vs {
		kinds = append(kinds, v.Kind)
	}
	if len(vs) != 6 || vs[2].Content.Impression != "No acute intracranial abnormality." || vs[2].Kind != KindPrelim || vs[3].Kind != KindFinal {
		t.Fatalf("versions = %v", kinds)
	}
	dels, err := s.Deliveries(ctx, uid)
	must(t, err)
	if len(dels) != 4 || dels[0].Status != outbox.StatusDelivered || dels[0].Seq != 3 {
		t.Fatalf("deliveries = %+v", dels)
	}

	// PDF.
	pdfb, err := s.PDF(ctx, uid, 0)
	must(t, err)
	if txt, ok := pdftotext(t, pdfb); ok {
		for _, w := range []string{"General Hospital", "Austin, TX 78701", "4 mm", "Dr Breader", "US-TX", "ADDENDUM 1", "CORRECTED REPORT", "Dr Areader", "DOE, JANE"} {
			if !strings.Contains(txt, w) {
				t.Errorf("pdftotext lacks %q:\n%s", w, txt)
			}
		}
	} else {
		t.Log("pdftotext not installed")
	}
	again, _ := s.PDF(ctx, uid, 0)
	if !bytes.Equal(pdfb, again) {
		t.Error("PDF not deterministic")
	}

	refusals(t, f)
	productivity(t, f)
}

func refusals(t *testing.T, f *fixture) {
	ctx := context.Background()
	s := f.s
	A := Signer{ReaderID: "areader"}
	B := Signer{ReaderID: "breader"}
	C := Signer{ReaderID: "creader"}
	content := Content{Findings: "x", Impression: "Normal."}

	// Licence lapsed after assignment: the final is refused with the reason.
	_, err := s.Sign(ctx, "1.2.3.2", SignRequest{Kind: model.Final, Signer: C, Authenticated: true, Content: &content})
	var ie *IneligibleError
	if !errors.As(err, &ie) || ie.Codes()[0] != model.CodeLicenceExpired || !strings.Contains(err.Error(), "TX licence expired 2026-03-09") {
		t.Fatalf("expired licence: %v", err)
	}
	// Offshore final for a Medicare facility.
	_, err = s.Sign(ctx, "1.2.3.3", SignRequest{Kind: model.Final, Signer: A, Authenticated: true, Content: &content})
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "outside the US") {
		t.Fatalf("offshore Medicare final: %v", err)
	}
	// Claiming a US location does not help a reader the roster places abroad.
	_, err = s.Sign(ctx, "1.2.3.3", SignRequest{Kind: model.Final, Signer: Signer{ReaderID: "areader", Location: model.Location{Country: "US", State: "TX"}}, Authenticated: true, Content: &content})
	if !errors.As(err, &ie) {
		t.Fatalf("offshore reader claiming US: %v", err)
	}
	// A US reader signing from abroad is refused the Medicare final too.
	_, err = s.Sign(ctx, "1.2.3.3", SignRequest{Kind: model.Final, Signer: Signer{ReaderID: "breader", Location: model.Location{Country: "IN"}}, Authenticated: true, Content: &content})
	if !errors.As(err, &ie) {
		t.Fatalf("US reader abroad: %v", err)
	}
	// Empty impression.
	_, err = s.SaveDraft(ctx, "1.2.3.2", "breader", Content{Findings: "Something."})
	must(t, err)
	if _, err := s.Sign(ctx, "1.2.3.2", SignRequest{Kind: model.Final, Signer: B, Authenticated: true}); !errors.Is(err, ErrEmptyImpression) {
		t.Fatalf("empty impression: %v", err)
	}
	// Unknown study.
	if _, err := s.SaveDraft(ctx, "9.9.9", "breader", content); !errors.Is(err, ErrUnknownStudy) {
		t.Fatalf("unknown study draft: %v", err)
	}
	if _, err := s.Sign(ctx, "9.9.9", SignRequest{Kind: model.Final, Signer: B, Authenticated: true, Content: &content}); !errors.Is(err, ErrUnknownStudy) {
		t.Fatalf("unknown study sign: %v", err)
	}
	if _, err := s.Addendum(ctx, "1.2.3.2", "text", B); !errors.Is(err, ErrNotSigned) {
		t.Fatalf("addendum on unsigned report: %v", err)
	}
	// MQSA M3: a mammogram needs BI-RADS and density.
	if _, err := s.Sign(ctx, "1.2.3.4", SignRequest{Kind: model.Final, Signer: B, Authenticated: true, Content: &content}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("mammo without BI-RADS: %v", err)
	}
	mg := Content{TemplateID: "mammo-screen", Findings: "x", Impression: "Negative.", Fields: map[string]string{"birads": "1", "density": "e"}}
	if _, err := s.Sign(ctx, "1.2.3.4", SignRequest{Kind: model.Final, Signer: B, Authenticated: true, Content: &mg}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("mammo density e: %v", err)
	}
	mg.Fields["density"] = "b"
	_, err = s.Sign(ctx, "1.2.3.4", SignRequest{Kind: model.Final, Signer: B, Authenticated: true, Content: &mg})
	must(t, err)
	if b, err := s.PDF(ctx, "1.2.3.4", 0); err != nil {
		t.Fatal(err)
	} else if txt, ok := pdftotext(t, b); ok && !strings.Contains(txt, "BI-RADS assessment category: 1 - Negative") {
		t.Errorf("mammo PDF lacks BI-RADS:\n%s", txt)
	}

	// A facility that NAKs: the outbox gives up after its retries.
	_, err = s.Sign(ctx, "1.2.3.5", SignRequest{Kind: model.Prelim, Signer: A, Authenticated: true, Content: &content})
	must(t, err)
	f.settle(t)
	fails, err := s.FailedDeliveries(ctx)
	must(t, err)
	if len(fails) != 1 || fails[0].StudyUID != "1.2.3.5" || fails[0].AckCode != "AE" || fails[0].Attempts != 2 {
		t.Fatalf("failed deliveries = %+v", fails)
	}
	if len(f.nak.messages()) != 2 {
		t.Fatalf("NAK listener got %d", len(f.nak.messages()))
	}
}

func productivity(t *testing.T, f *fixture) {
	ctx := context.Background()
	s := f.s
	must(t, s.SetPayRate(ctx, PayRate{FacilityID: "fac-a", Modality: "CT", ReadKind: "final", Cents: 4000}))
	must(t, s.SetPayRate(ctx, PayRate{FacilityID: "*", ReadKind: "prelim", Cents: 1500}))
	must(t, s.SetPayRate(ctx, PayRate{FacilityID: "*", CPT: "77067", ReadKind: "final", Cents: 2500}))
	p, err := s.Productivity(ctx, testNow.Add(-time.Hour), testNow.Add(time.Hour))
	must(t, err)
	if len(p.Readers) != 2 {
		t.Fatalf("readers = %+v", p.Readers)
	}
	a, b := p.Readers[0], p.Readers[1]
	if a.ReaderID != "areader" || a.Prelims != 2 || a.Finals != 0 || a.WorkRVU != 0 || a.UnbilledRVU != 1.66 || a.PayCents != 3000 {
		t.Fatalf("A = %+v", a)
	}
	// B: the CT head final (0.83) and the screening mammogram (0.74, 2026).
	if b.ReaderID != "breader" || b.Finals != 2 || b.WorkRVU != 1.57 || b.PayCents != 6500 || b.Hours != 0.17 || b.RVUPerHour != 9.24 || len(b.Shifts) != 1 {
		t.Fatalf("B = %+v", b)
	}
	var buf bytes.Buffer
	must(t, p.WriteCSV(&buf))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "breader,2026-03-10,") || !strings.HasSuffix(lines[2], ",65.00,0") {
		t.Fatalf("csv:\n%s", buf.String())
	}
}

func TestTemplatesAndMacros(t *testing.T) {
	ts := DefaultTemplates()
	for _, id := range []string{"cxr", "ct-head", "ct-abd-pelvis", "cta-chest-pe", "mri-brain", "us-abdomen", "mammo-screen"} {
		tp, ok := ts.Get(id)
		if !ok || strings.TrimSpace(tp.Normal.Impression) == "" {
			t.Fatalf("template %s missing or without a normal impression", id)
		}
		if err := checkFields(tp.Normal, tp.Fields); err != nil {
			t.Fatalf("template %s normal defaults invalid: %v", id, err)
		}
	}
	if tp, _ := ts.Choose("", "MR"); tp.ID != "mri-brain" {
		t.Fatalf("choose by modality = %s", tp.ID)
	}
	if got := ExpandMacros(".noacute x.noacute .unknown", map[string]string{"noacute": "No acute abnormality."}); got != "No acute abnormality. x.noacute .unknown" {
		t.Fatalf("expand = %q", got)
	}
	if len(DefaultMacros()) == 0 {
		t.Fatal("no default macros")
	}
}
