package critical_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/critical"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/facility"
	"lightbox/internal/order"
)

// t0 is 09:00 in New York (EST): day coverage applies.
var t0 = time.Date(2025, 3, 4, 14, 0, 0, 0, time.UTC)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type recNotifier struct {
	mu sync.Mutex
	ns []critical.Notification
}

func (r *recNotifier) Notify(_ context.Context, n critical.Notification) error {
	r.mu.Lock()
	r.ns = append(r.ns, n)
	r.mu.Unlock()
	return nil
}

func (r *recNotifier) all() []critical.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]critical.Notification(nil), r.ns...)
}

func (r *recNotifier) forResult(id string) []critical.Notification {
	var out []critical.Notification
	for _, n := range r.all() {
		if n.ResultID == id {
			out = append(out, n)
		}
	}
	return out
}

type addCall struct {
	StudyUID, Text string
	By             critical.Signer
}

type recAddenda struct {
	mu    sync.Mutex
	calls []addCall
	fail  int // fail this many calls first
}

func (r *recAddenda) Addendum(_ context.Context, studyUID, text string, by critical.Signer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, addCall{studyUID, text, by})
	if r.fail > 0 {
		r.fail--
		return errors.New("report service unavailable")
	}
	return nil
}

func (r *recAddenda) all() []addCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]addCall(nil), r.calls...)
}

const (
	studyA = "1.2.840.99.1"
	studyB = "1.2.840.99.2"
	reader = "rad1"
)

type env struct {
	t       *testing.T
	d       *db.DB
	clk     *fakeClock
	notes   *recNotifier
	addenda *recAddenda
	orders  *order.Service
	svc     *critical.Service
	cfg     critical.Config
	ids     map[string]string // directory contact IDs by label
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv prepares facility F1 (New York) with an order for studyA and
// studyB, a directory with day/night coverage, ED, coordinator and
// medical director, and a service whose reader rad1 holds both studies.
func newEnv(t *testing.T, d *db.DB) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, d: d, clk: &fakeClock{t: t0}, notes: &recNotifier{}, addenda: &recAddenda{}, ids: map[string]string{}}
	if err := (facility.Store{DB: d}).Upsert(ctx, facility.Facility{ID: "F1", Name: "General Hospital", State: "NY", TimeZone: "America/New_York"}); err != nil {
		t.Fatal(err)
	}
	e.orders = &order.Service{DB: d, Now: e.clk.Now}
	for i, uid := range []string{studyA, studyB} {
		_, _, err := e.orders.Intake(ctx, order.Order{FacilityID: "F1", Accession: "ACC" + string(rune('1'+i)), Patient: order.Patient{ID: "P1", Name: "Doe^John"},
			ProcedureCode: "70450", Priority: order.PrioritySTAT, Ordering: order.Clinician{Name: "Smith^Jane^^Dr", ID: "NPI1", Phone: "555-0100"},
			OrderedAt: t0.Add(-time.Hour), StudyUID: uid, Source: "hl7"})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.cfg = critical.Config{AckBaseURL: "https://lb.example.org/"}
	e.svc = e.newService()
	dir := e.svc.Directory()
	ordering, err := dir.UpsertFromOrder(ctx, "F1", "Smith^Jane^^Dr", "NPI1", "555-0100")
	if err != nil {
		t.Fatal(err)
	}
	e.ids["ordering"] = ordering.ID
	for _, c := range []critical.Contact{
		{FacilityID: "F1", Name: "Day Doc", Role: "hospitalist", Phones: []string{"555-0200"}},
		{FacilityID: "F1", Name: "Night Doc", Role: "nocturnist", Phones: []string{"555-0300"}},
		{FacilityID: "F1", Name: "ED Attending", Department: critical.DeptED, Phones: []string{"555-0400"}},
		{FacilityID: "F1", Name: "Rad Coordinator", Department: critical.DeptRadiologyCoordinator, Phones: []string{"555-0500"}},
		{FacilityID: "F1", Name: "Med Director", Department: critical.DeptMedicalDirector, Pager: "555-0600"},
	} {
		out, err := dir.Create(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		e.ids[c.Name] = out.ID
	}
	for _, cv := range []critical.Coverage{
		{FacilityID: "F1", CoveredID: ordering.ID, CoveringID: e.ids["Day Doc"], Start: "07:00", End: "19:00"},
		{FacilityID: "F1", CoveredID: ordering.ID, CoveringID: e.ids["Night Doc"], Start: "19:00", End: "07:00"},
	} {
		if _, err := dir.AddCoverage(ctx, cv); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// newService is another node (or a restart) on the same database.
func (e *env) newService() *critical.Service {
	e.t.Helper()
	s, err := critical.New(critical.Options{DB: e.d, Config: e.cfg, Orders: e.orders, Notifier: e.notes, Addenda: e.addenda, Now: e.clk.Now, Logger: quietLog(),
		Holder: func(uid string) string {
			if uid == studyA || uid == studyB {
				return reader
			}
			return ""
		}})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

var rad = critical.Actor{ID: reader, Display: "Dr Rad One"}

func (e *env) open(study, cat string) critical.Result {
	e.t.Helper()
	r, err := e.svc.Open(context.Background(), critical.OpenRequest{StudyUID: study, Category: cat, Finding: critical.Finding{Code: "RID4700", Text: "Acute subdural hematoma"}, By: rad})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// phoned logs a phone attempt on r, which must be accepted.
func (e *env) phoned(r critical.Result, a critical.Attempt) {
	e.t.Helper()
	a.Method = critical.MethodPhone
	if _, err := e.svc.LogAttempt(context.Background(), r.ID, a); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) tick(sc *critical.Scheduler) int {
	e.t.Helper()
	n, err := sc.Tick(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) { fn(t, newEnv(t, d)) })
}

func tokenOf(t *testing.T, url string) string {
	t.Helper()
	_, tok, ok := strings.Cut(url, "/ack/")
	if !ok || tok == "" {
		t.Fatalf("no token in %q", url)
	}
	return tok
}

func countEvents(r critical.Result, kind string, level int) int {
	n := 0
	for _, ev := range r.Events {
		if ev.Kind == kind && (level < 0 || ev.Level == level) {
			n++
		}
	}
	return n
}
