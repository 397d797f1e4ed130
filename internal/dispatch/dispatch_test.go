package dispatch

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/archive/archivetest"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/facility"
	"lightbox/internal/gen"
	"lightbox/internal/model"
	"lightbox/internal/roster"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func reader(id, state string, facilities ...string) *model.Reader {
	r := &model.Reader{ID: id, Name: "Dr " + id, Modalities: []string{"CT", "MR", "CR", "DX", "US", "MG"}, Location: model.Location{Country: "US", State: state},
		TimeZone: "America/Chicago", Workstation: model.WS5MP, RVUTargetPerHour: 8,
		Licenses:    []model.License{{State: state, Number: state + "-" + id, Status: model.LicenceActive, Expires: model.MustDate("2030-01-01")}},
		Shifts:      []model.Shift{{Type: model.Dayhawk, Start: model.MustClock("00:00"), End: model.MustClock("00:00")}},
		Malpractice: []model.Malpractice{{Carrier: "Test Mutual", States: []string{"IL", "TX"}, Telemedicine: true, Expires: model.MustDate("2030-01-01")}}}
	for _, f := range facilities {
		r.Privileges = append(r.Privileges, model.Privilege{Facility: f, Basis: model.Direct, Expires: model.MustDate("2030-01-01")})
	}
	return r
}

// storeCT stores a generated CT head of the given slices at Springfield
// (SGH) and returns its study UID.
func storeCT(t *testing.T, a *archive.Archive, slices int) string {
	t.Helper()
	var study string
	var buf bytes.Buffer
	err := gen.Each(context.Background(), gen.Options{Modality: "CT", Procedure: "CT_HEAD", Slices: slices, Patients: 1, Rows: 16, Columns: 16, Facility: "SGH"}, func(inst *gen.Instance) error {
		buf.Reset()
		_, _ = inst.WriteTo(&buf)
		study = inst.StudyInstanceUID
		_, err := a.Store(context.Background(), &buf, archive.Source{Facility: "SGH"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return study
}

type env struct {
	d     *db.DB
	a     *archive.Archive
	clk   *clock
	s     *Service
	study string
}

// online reports the reader present and runs a tick: admission and
// assignment.
func (e *env) online(ctx context.Context, readerID string) {
	_ = e.s.Heartbeat(ctx, readerID, false)
	_ = e.s.Tick(ctx)
}

// setup stores one generated CT at Springfield (SGH, Illinois) and returns a
// started dispatcher with a fake clock.
// wantUncovered checks that the env's study is uncovered with a note naming
// the missing credential.
func (e *env) wantUncovered(t *testing.T, credential string) {
	t.Helper()
	var status, note string
	_ = e.d.QueryRow(context.Background(), "SELECT status, note FROM read_item WHERE study_uid = ?", e.study).Scan(&status, &note)
	if status != "uncovered" || !strings.Contains(note, credential) {
		t.Fatalf("want uncovered naming %s, got %s %q", credential, status, note)
	}
}

func setup(t *testing.T, d *db.DB, readers ...*model.Reader) *env {
	t.Helper()
	ctx := context.Background()
	a := archivetest.New(t, d)
	f, _ := gen.FacilityByCode("SGH")
	_ = facility.Store{DB: d}.Upsert(ctx, facility.Facility{ID: f.Code, Name: f.Name, State: f.State, TimeZone: f.TimeZone})
	study := storeCT(t, a, 2)
	for _, r := range readers {
		if err := (roster.Store{DB: d}).PutReader(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Now().Add(time.Hour)}
	s := New(d, Options{Quiet: time.Second, TickEvery: time.Hour, Now: clk.now})
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return &env{d: d, a: a, clk: clk, s: s, study: study}
}

func TestAssignExplainFailover(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := setup(t, d, reader("dr.a", "IL", "SGH"), reader("dr.b", "IL", "SGH"))
		_ = e.s.Heartbeat(ctx, "dr.a", false)
		if err := e.s.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		holder, ok := e.s.Holder(e.study)
		if !ok || holder != "dr.a" {
			t.Fatalf("holder %q %v", holder, ok)
		}
		var reason string
		if err := d.QueryRow(ctx, "SELECT detail FROM assignment_event WHERE study_uid = ? AND kind = 'assign'", e.study).Scan(&reason); err != nil || !strings.Contains(reason, "dr.b") {
			t.Fatalf("assignment does not explain the other reader: %v %s", err, reason)
		}
		// Another reader cannot open it; two concurrent opens: only the holder wins.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, who := range []string{"dr.a", "dr.b"} {
			wg.Go(func() { errs[i] = e.s.Open(ctx, e.study, who) })
		}
		wg.Wait()
		if errs[0] != nil || !errors.Is(errs[1], ErrNotHolder) {
			t.Fatalf("open results %v", errs)
		}
		// dr.b comes online; dr.a's heartbeats stop: the study moves within 60 s.
		for range 5 {
			e.clk.add(15 * time.Second)
			_ = e.s.Heartbeat(ctx, "dr.b", false)
			_ = e.s.Tick(ctx)
		}
		if holder, _ := e.s.Holder(e.study); holder != "dr.b" {
			t.Fatalf("after dr.a went silent for 75 s the holder is %q", holder)
		}
		var status, rd string
		_ = d.QueryRow(ctx, "SELECT status, reader_id FROM read_item WHERE study_uid = ?", e.study).Scan(&status, &rd)
		if status != "leased" || rd != "dr.b" {
			t.Fatalf("persisted %s %s", status, rd)
		}
		// Restart: a new service on the same database restores the lease.
		e.s.Close()
		s2 := New(d, Options{Quiet: time.Second, TickEvery: time.Hour, Now: e.clk.now})
		_ = s2.Heartbeat(ctx, "dr.b", false)
		if err := s2.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		_ = s2.Heartbeat(ctx, "dr.b", false)
		if holder, _ := s2.Holder(e.study); holder != "dr.b" {
			t.Fatalf("lease lost on restart: %q", holder)
		}
		if err := s2.Reassign(ctx, e.study, "dr.a", "", "coord"); !errors.Is(err, ErrReason) {
			t.Fatalf("reassign without reason: %v", err)
		}
	})
}

func TestLicenceLapseLeavesQueueAtOnce(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, reader("dr.a", "IL", "SGH"))
		e.online(ctx, "dr.a")
		if q := e.s.Queue("dr.a"); len(q) != 1 {
			t.Fatalf("queue %v", q)
		}
		r := reader("dr.a", "IL", "SGH")
		r.Licenses[0].Expires = model.MustDate("2020-01-01")
		if err := (roster.Store{DB: d}).PutReader(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := e.s.ReaderChanged(ctx, "dr.a"); err != nil {
			t.Fatal(err)
		}
		if q := e.s.Queue("dr.a"); len(q) != 0 {
			t.Fatalf("lapsed licence kept the study: %v", q)
		}
		e.wantUncovered(t, "IL")
	})
}

func TestUncoveredNamesMissingCredential(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, reader("dr.tx", "TX", "SGH"))
		e.online(ctx, "dr.tx")
		e.wantUncovered(t, "IL")
		ch, cancel := e.s.Subscribe("", true)
		defer cancel()
		p := model.STAT
		if err := e.s.Triage(ctx, e.study, &p, false, false, []string{"suspected haemorrhage"}, "ai-triage"); err != nil {
			t.Fatal(err)
		}
		select {
		case c := <-ch:
			if c.StudyUID != e.study {
				t.Fatalf("change %+v", c)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no change published after triage")
		}
	})
}

func TestNotifyReachesOnlyThatReader(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := New(d, Options{})
		mine, cancelMine := s.Subscribe("dr.a", false)
		defer cancelMine()
		other, cancelOther := s.Subscribe("dr.b", false)
		defer cancelOther()
		s.Notify("dr.a", "discrepancy", "1.2.3", "final by dr.b differs")
		select {
		case c := <-mine:
			if c.Kind != "discrepancy" || c.StudyUID != "1.2.3" {
				t.Fatalf("change %+v", c)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("no notification")
		}
		select {
		case c := <-other:
			t.Fatalf("another reader got %+v", c)
		default:
		}
	})
}

func TestUncoveredPagesOnCall(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, reader("dr.tx", "TX", "SGH"))
		day := e.clk.now().Add(-time.Hour)
		if err := (roster.Store{DB: d}).SetOnCall(ctx, "neuro", day, day.Add(24*time.Hour), []roster.OnCall{{ReaderID: "dr.neuro"}}); err != nil {
			t.Fatal(err)
		}
		page, cancel := e.s.Subscribe("dr.neuro", false)
		defer cancel()
		e.online(ctx, "dr.tx") // the CT head needs an IL licence nobody online has
		var note string
		_ = d.QueryRow(ctx, "SELECT note FROM read_item WHERE study_uid = ?", e.study).Scan(&note)
		if !strings.Contains(note, "on call for neuro: dr.neuro") {
			t.Fatalf("note %q", note)
		}
		select {
		case c := <-page:
			if c.Kind != "oncall" || c.StudyUID != e.study {
				t.Fatalf("page %+v", c)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("on-call reader not paged")
		}
	})
}

// A reader added or removed by another process (the CLI on the server's
// database) reaches the running engine at the next tick through the
// set-up stamp.
func TestSetupVersionReloadsRoster(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if err := (facility.Store{DB: d}).Upsert(ctx, facility.Facility{ID: "SGH", Name: "Springfield", State: "IL", TimeZone: "America/Chicago"}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		version := int64(1)
		s := New(d, Options{TickEvery: time.Hour, SetupVersion: func(context.Context) (int64, error) {
			mu.Lock()
			defer mu.Unlock()
			return version, nil
		}})
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		bump := func() { mu.Lock(); version++; mu.Unlock() }
		if err := (roster.Store{DB: d}).PutReader(ctx, reader("dr.new", "IL", "SGH")); err != nil {
			t.Fatal(err)
		}
		if err := s.Tick(ctx); err != nil || s.Stats().Readers != 0 {
			t.Fatalf("reloaded without a stamp change: %v %+v", err, s.Stats())
		}
		bump()
		if err := s.Tick(ctx); err != nil || s.Stats().Readers != 1 {
			t.Fatalf("new reader not seen: %v %+v", err, s.Stats())
		}
		if err := (roster.Store{DB: d}).DeleteReader(ctx, "dr.new"); err != nil {
			t.Fatal(err)
		}
		bump()
		if err := s.Tick(ctx); err != nil || s.Stats().Readers != 0 {
			t.Fatalf("removed reader still in the engine: %v %+v", err, s.Stats())
		}
	})
}

// A facility set up after the engine loaded its list (the demo seeding,
// an import through another node) must not leave its first studies on the
// board but unknown to the engine: admission reloads facilities and retries.
func TestAdmitFacilityAddedAfterStart(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := archivetest.New(t, d)
		clk := &clock{t: time.Now().Add(time.Hour)}
		s := New(d, Options{Quiet: time.Second, TickEvery: time.Hour, Now: clk.now})
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		if err := (facility.Store{DB: d}).Upsert(ctx, facility.Facility{ID: "SGH", Name: "Springfield", State: "IL", TimeZone: "America/Chicago"}); err != nil {
			t.Fatal(err)
		}
		study := storeCT(t, a, 1)
		clk.add(2 * time.Hour)
		if err := s.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if _, on := s.Holder(study); !on {
			t.Fatal("study of a facility added after start is not on the engine's worklist")
		}
	})
}

// The service's open rows (kept in memory for the board) follow every
// write the engine's decisions and the calls make: after each step they
// equal the persisted rows, for the board and for the holder's queue.
func TestOpenItemsFollowWrites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := setup(t, d, reader("dr.a", "IL", "SGH"), reader("dr.b", "IL", "SGH"))
		same := func(step string) {
			t.Helper()
			for _, who := range []string{"", "dr.a", "dr.b"} {
				want, err := OpenItems(ctx, d, who)
				if err != nil {
					t.Fatal(err)
				}
				got, err := e.s.OpenItems(ctx, who)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s, reader %q: service rows %+v (%v), persisted %+v", step, who, got, err, want)
				}
			}
		}
		same("before admission")
		_ = e.s.Heartbeat(ctx, "dr.a", false)
		if err := e.s.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		same("admitted and assigned")
		if err := e.s.Open(ctx, e.study, "dr.a"); err != nil {
			t.Fatal(err)
		}
		same("opened")
		stat := model.STAT
		if err := e.s.Triage(ctx, e.study, &stat, true, false, nil, "test"); err != nil {
			t.Fatal(err)
		}
		same("triaged")
		_ = e.s.Heartbeat(ctx, "dr.b", false)
		if err := e.s.Reassign(ctx, e.study, "dr.b", "balance", "coord"); err != nil {
			t.Fatal(err)
		}
		same("reassigned")
		if err := e.s.Release(ctx, e.study, "dr.b", "break"); err != nil {
			t.Fatal(err)
		}
		same("released")
	})
}
