package critical_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"lightbox/internal/critical"
	"lightbox/internal/db/dbtest"
)

func TestEscalationLadder(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := e.open(studyA, "1")
		if !r.DeadlineAt.Equal(t0.Add(time.Hour)) || r.State != critical.StateOpen || !r.NextDueAt.Equal(t0.Add(30*time.Minute)) {
			t.Fatalf("opened: %+v", r)
		}
		ns := e.notes.forResult(r.ID)
		if len(ns) != 1 || ns[0].Kind != "opened" || len(ns[0].Targets) != 1 || ns[0].Targets[0].Name != "Dr Jane Smith" || ns[0].AckURL == "" {
			t.Fatalf("open notification: %+v", ns)
		}
		sc := e.svc.NewScheduler()
		steps := []struct {
			at      time.Duration
			fired   int
			kind    string
			level   int
			targets []string
		}{
			{29 * time.Minute, 0, "", 0, nil},
			{30 * time.Minute, 1, "escalated", 1, []string{"Day Doc"}},
			{39 * time.Minute, 0, "", 1, nil},
			{40 * time.Minute, 1, "escalated", 2, []string{"ED Attending"}},
			{50 * time.Minute, 1, "escalated", 3, []string{"Rad Coordinator", "Med Director"}},
			{60 * time.Minute, 1, "overdue", 3, []string{"Rad Coordinator", "Med Director"}},
			{3 * time.Hour, 0, "", 3, nil},
		}
		for _, st := range steps {
			e.clk.Set(t0.Add(st.at))
			before := len(e.notes.forResult(r.ID))
			if got := e.tick(sc); got != st.fired {
				t.Fatalf("at +%v fired %d, want %d", st.at, got, st.fired)
			}
			ns := e.notes.forResult(r.ID)
			if len(ns) != before+st.fired {
				t.Fatalf("at +%v: %d notifications, want %d", st.at, len(ns)-before, st.fired)
			}
			if st.fired == 0 {
				continue
			}
			n := ns[len(ns)-1]
			var names []string
			for _, c := range n.Targets {
				names = append(names, c.Name)
			}
			if n.Kind != st.kind || n.Level != st.level || fmt.Sprint(names) != fmt.Sprint(st.targets) || n.AckURL == "" {
				t.Fatalf("at +%v: notification %s level %d targets %v", st.at, n.Kind, n.Level, names)
			}
		}
		got, err := e.svc.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != critical.StateEscalated || got.EscalationLevel != 3 || !got.Overdue || !got.NextDueAt.IsZero() {
			t.Fatalf("after ladder: state %s level %d overdue %v next %v", got.State, got.EscalationLevel, got.Overdue, got.NextDueAt)
		}
		for lvl := 1; lvl <= 3; lvl++ {
			if countEvents(got, "escalated", lvl) != 1 {
				t.Fatalf("escalation to %d recorded %d times", lvl, countEvents(got, "escalated", lvl))
			}
		}
		if countEvents(got, "overdue", -1) != 1 {
			t.Fatal("overdue not recorded once")
		}
		// Overdue stays visible on the board, with negative time left.
		board, err := e.svc.Board(ctx, critical.Scope{All: true}, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(board) != 1 || !board[0].Overdue || board[0].SecondsLeft != -2*3600 || board[0].Rung != "radiology coordinator / medical director" {
			t.Fatalf("board: %+v", board)
		}
	})
}

func TestNightCoverageByFacilityTime(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		// 01:00 UTC = 20:00 EST: the night doctor covers.
		e.clk.Set(time.Date(2025, 3, 5, 1, 0, 0, 0, time.UTC))
		r := e.open(studyA, "1")
		e.clk.Advance(30 * time.Minute)
		e.tick(e.svc.NewScheduler())
		ns := e.notes.forResult(r.ID)
		if n := ns[len(ns)-1]; n.Level != 1 || len(n.Targets) != 1 || n.Targets[0].Name != "Night Doc" {
			t.Fatalf("night escalation: %+v", n)
		}
	})
}

func TestReachedStopsEscalation(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		r := e.open(studyA, "1")
		e.clk.Advance(10 * time.Minute)
		e.phoned(r, critical.Attempt{To: critical.Recipient{Name: "Jane Smith", Role: "ordering physician"}, Outcome: critical.OutcomeReached, ReadBack: true, By: rad})
		e.clk.Advance(3 * time.Hour)
		if n := e.tick(e.svc.NewScheduler()); n != 0 {
			t.Fatalf("fired %d after the clinician was reached", n)
		}
	})
}

func TestOpenRequiresHolder(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		_, err := e.svc.Open(ctx, critical.OpenRequest{StudyUID: studyA, Category: "1", Finding: critical.Finding{Text: "Pneumothorax"}, By: critical.Actor{ID: "rad2"}})
		if !errors.Is(err, critical.ErrNotHolder) {
			t.Fatalf("non-holder open: %v", err)
		}
		_, err = e.svc.Open(ctx, critical.OpenRequest{StudyUID: "9.9.9", FacilityID: "F1", Category: "1", Finding: critical.Finding{Text: "Pneumothorax"}, By: critical.Actor{ID: "rad2"}})
		if !errors.Is(err, critical.ErrNotHolder) {
			t.Fatalf("nobody holds: %v", err)
		}
		if n := dbtest.Count(t, e.d, "SELECT COUNT(*) FROM crit_result"); n != 0 {
			t.Fatalf("rows after refusals: %d", n)
		}
		if len(e.notes.all()) != 0 {
			t.Fatal("refused open notified someone")
		}
		// A coordinator may open on any study.
		r, err := e.svc.Open(ctx, critical.OpenRequest{StudyUID: studyA, Category: "2", Finding: critical.Finding{Text: "Pneumothorax"}, By: critical.Actor{ID: "coord", Coordinator: true}})
		if err != nil || r.FacilityID != "F1" || r.Accession != "ACC1" || r.OrderID == "" {
			t.Fatalf("coordinator open: %+v %v", r, err)
		}
		if _, err := e.svc.Open(ctx, critical.OpenRequest{StudyUID: studyA, Category: "9", Finding: critical.Finding{Text: "x"}, By: rad}); !errors.Is(err, critical.ErrInvalid) {
			t.Fatalf("unknown category: %v", err)
		}
		// Other readers may not work someone else's loop.
		if _, err := e.svc.LogAttempt(ctx, r.ID, critical.Attempt{Method: critical.MethodPhone, Outcome: critical.OutcomeNoAnswer, By: critical.Actor{ID: "rad2"}}); !errors.Is(err, critical.ErrForbidden) {
			t.Fatalf("stranger attempt: %v", err)
		}
	})
}

func TestCloseRulesAndAddendum(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := e.open(studyA, "1")
		e.clk.Advance(5 * time.Minute)
		e.phoned(r, critical.Attempt{To: critical.Recipient{Name: "Jane Smith"}, Outcome: critical.OutcomeNoAnswer, By: rad})
		if _, err := e.svc.Close(ctx, r.ID, rad); !errors.Is(err, critical.ErrRefused) {
			t.Fatalf("close without communication: %v", err)
		}
		if _, err := e.svc.LogAttempt(ctx, r.ID, critical.Attempt{Method: critical.MethodSecureMessage, To: critical.Recipient{Name: "Jane Smith"}, Outcome: critical.OutcomeReached, ReadBack: true, By: rad}); !errors.Is(err, critical.ErrInvalid) {
			t.Fatalf("read-back on a secure message: %v", err)
		}
		e.clk.Advance(5 * time.Minute)
		e.phoned(r, critical.Attempt{To: critical.Recipient{Name: "Jane Smith", Role: "ordering physician"}, Outcome: critical.OutcomeReached, By: rad})
		before, _ := e.svc.Get(ctx, r.ID)
		if _, err := e.svc.Close(ctx, r.ID, rad); !errors.Is(err, critical.ErrRefused) {
			t.Fatalf("category 1 close without read-back: %v", err)
		}
		after, _ := e.svc.Get(ctx, r.ID)
		if after.Version != before.Version || after.State != critical.StateCommunicated || !after.ClosedAt.IsZero() || len(e.addenda.all()) != 0 {
			t.Fatalf("refused close changed something: %+v", after)
		}
		e.clk.Advance(10 * time.Minute) // 09:20 EST
		e.phoned(r, critical.Attempt{To: critical.Recipient{Name: "Jane Smith", Role: "ordering physician"}, Outcome: critical.OutcomeReached, ReadBack: true, By: rad})
		closed, err := e.svc.Close(ctx, r.ID, rad)
		if err != nil {
			t.Fatal(err)
		}
		want := "Communicated to Jane Smith, ordering physician by Dr Rad One via telephone at 2025-03-04 09:20 EST; read back."
		calls := e.addenda.all()
		if len(calls) != 1 || calls[0].Text != want || calls[0].StudyUID != studyA || calls[0].By != (critical.Signer{ReaderID: reader, Display: "Dr Rad One"}) {
			t.Fatalf("addendum calls: %+v", calls)
		}
		if closed.State != critical.StateClosed || closed.AddendumText != want || closed.AddendumAt.IsZero() || closed.ClosedBy != reader {
			t.Fatalf("closed: %+v", closed)
		}
		if _, err := e.svc.Close(ctx, r.ID, rad); !errors.Is(err, critical.ErrClosed) {
			t.Fatalf("second close: %v", err)
		}
		e.clk.Advance(time.Hour)
		e.tick(e.svc.NewScheduler())
		if len(e.addenda.all()) != 1 {
			t.Fatalf("addendum written %d times", len(e.addenda.all()))
		}
		if len(closed.Attempts) != 3 {
			t.Fatalf("attempts: %d", len(closed.Attempts))
		}
	})
}

func TestAddendumRetriedOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.addenda.fail = 1
		r := e.open(studyA, "2")
		e.phoned(r, critical.Attempt{To: critical.Recipient{Name: "Jane Smith"}, Outcome: critical.OutcomeReached, By: rad})
		c, err := e.svc.Close(ctx, r.ID, rad)
		if err != nil || c.State != critical.StateClosed || !c.AddendumAt.IsZero() {
			t.Fatalf("close with failing writer: %+v %v", c, err)
		}
		sc1, sc2 := e.svc.NewScheduler(), e.newService().NewScheduler()
		e.tick(sc1) // backoff not elapsed
		if len(e.addenda.all()) != 1 {
			t.Fatal("retried before backoff")
		}
		e.clk.Advance(2 * time.Minute)
		var wg sync.WaitGroup
		for _, sc := range []*critical.Scheduler{sc1, sc2} {
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = sc.Tick(ctx) }()
		}
		wg.Wait()
		e.clk.Advance(time.Hour)
		e.tick(sc1)
		calls := e.addenda.all()
		if len(calls) != 2 || calls[1].Text != "Communicated to Jane Smith by Dr Rad One via telephone at 2025-03-04 09:00 EST." {
			t.Fatalf("calls: %+v", calls)
		}
		got, _ := e.svc.Get(ctx, r.ID)
		if got.AddendumAt.IsZero() || countEvents(got, "addendum_failed", -1) != 1 || countEvents(got, "addendum", -1) != 1 {
			t.Fatalf("after retry: %+v", got.Events)
		}
	})
}

func TestRestartKeepsDeadline(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := e.open(studyA, "1")
		e.clk.Advance(20 * time.Minute)
		if n := e.tick(e.svc.NewScheduler()); n != 0 {
			t.Fatalf("fired early: %d", n)
		}
		// "Restart": a new service and scheduler on the same database, with a
		// different configuration that must not move the open loop.
		e.cfg.Categories = []critical.Category{{Code: "1", Label: "Red", Deadline: 4 * time.Hour, Verbal: true}}
		s2 := e.newService()
		sc2 := s2.NewScheduler()
		next, ok, err := sc2.NextDue(ctx)
		if err != nil || !ok || !next.Equal(t0.Add(30*time.Minute)) {
			t.Fatalf("next due after restart: %v %v %v", next, ok, err)
		}
		e.clk.Set(t0.Add(31 * time.Minute))
		if n := e.tick(sc2); n != 1 {
			t.Fatalf("fired %d after restart, want 1", n)
		}
		if n := e.tick(sc2); n != 0 {
			t.Fatalf("fired again: %d", n)
		}
		got, err := s2.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.DeadlineAt.Equal(t0.Add(time.Hour)) || got.EscalationLevel != 1 || countEvents(got, "escalated", 1) != 1 {
			t.Fatalf("after restart: deadline %v level %d", got.DeadlineAt, got.EscalationLevel)
		}
	})
}

func TestTwoSchedulersFireOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		const loops = 6
		var ids []string
		for i := 0; i < loops; i++ {
			study := studyA
			if i%2 == 1 {
				study = studyB
			}
			ids = append(ids, e.open(study, "1").ID)
		}
		scs := []*critical.Scheduler{e.svc.NewScheduler(), e.newService().NewScheduler()}
		var mu sync.Mutex
		total := 0
		for _, at := range []time.Duration{30, 40, 45, 50, 60, 90} {
			e.clk.Set(t0.Add(at * time.Minute))
			var wg sync.WaitGroup
			for _, sc := range scs {
				for k := 0; k < 2; k++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						n, err := sc.Tick(ctx)
						if err != nil {
							t.Error(err)
						}
						mu.Lock()
						total += n
						mu.Unlock()
					}()
				}
			}
			wg.Wait()
		}
		if total != loops*4 {
			t.Fatalf("fired %d, want %d", total, loops*4)
		}
		for _, id := range ids {
			got, _ := e.svc.Get(ctx, id)
			for lvl := 1; lvl <= 3; lvl++ {
				if countEvents(got, "escalated", lvl) != 1 {
					t.Fatalf("%s: escalation %d recorded %d times", id, lvl, countEvents(got, "escalated", lvl))
				}
			}
			if countEvents(got, "overdue", -1) != 1 || len(e.notes.forResult(id)) != 5 {
				t.Fatalf("%s: overdue %d, notifications %d", id, countEvents(got, "overdue", -1), len(e.notes.forResult(id)))
			}
		}
	})
}

func TestSchedulerRun(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		r := e.open(studyA, "1")
		sc := e.svc.NewScheduler()
		sc.MaxWait = 20 * time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sc.Run(ctx) }()
		e.clk.Advance(31 * time.Minute)
		deadline := time.Now().Add(5 * time.Second)
		for len(e.notes.forResult(r.ID)) < 2 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := len(e.notes.forResult(r.ID)); n != 2 {
			t.Fatalf("Run fired %d notifications, want 2", n)
		}
	})
}

func TestHandOffKeepsAccountability(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := e.open(studyA, "2")
		h, err := e.svc.HandOff(ctx, r.ID, "coord1", rad)
		if err != nil || h.State != critical.StateHandedOff || h.Communicator != reader || h.HandedOffTo != "coord1" {
			t.Fatalf("handoff: %+v %v", h, err)
		}
		// The coordinator works it without the coordinator flag, as the assignee.
		e.phoned(r, critical.Attempt{To: critical.Recipient{Name: "Jane Smith"}, Outcome: critical.OutcomeReached, By: critical.Actor{ID: "coord1", Display: "Desk Coordinator"}})
		c, err := e.svc.Close(ctx, r.ID, critical.Actor{ID: "coord1"})
		if err != nil {
			t.Fatal(err)
		}
		calls := e.addenda.all()
		if len(calls) != 1 || calls[0].By.ReaderID != reader || calls[0].Text != "Communicated to Jane Smith by Desk Coordinator via telephone at 2025-03-04 09:00 EST." {
			t.Fatalf("addendum after handoff: %+v", calls)
		}
		if c.Communicator != reader || c.ClosedBy != "coord1" {
			t.Fatalf("accountability: %+v", c)
		}
	})
}

func TestComplianceWeek(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		coord := critical.Actor{ID: "coord", Coordinator: true}
		// One Red and one Orange loop a day for a week; Red closes late on
		// days 2 and 5; Orange closes within 6 h except day 3, and day 7's
		// Orange stays open (pending when the report runs at day 7 + 1 h).
		for day := 0; day < 7; day++ {
			start := t0.AddDate(0, 0, day)
			e.clk.Set(start)
			red := e.open(studyA, "1")
			orange := e.open(studyB, "2")
			redAfter := 20 * time.Minute
			if day == 2 || day == 5 {
				redAfter = 90 * time.Minute
			}
			e.clk.Set(start.Add(redAfter))
			if _, err := e.svc.LogAttempt(ctx, red.ID, critical.Attempt{Method: critical.MethodPhone, To: critical.Recipient{Name: "Jane Smith"}, Outcome: critical.OutcomeReached, ReadBack: true, By: rad}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Close(ctx, red.ID, rad); err != nil {
				t.Fatal(err)
			}
			if day == 6 {
				continue
			}
			orangeAfter := 2 * time.Hour
			if day == 3 {
				orangeAfter = 8 * time.Hour
			}
			e.clk.Set(start.Add(orangeAfter))
			if _, err := e.svc.LogAttempt(ctx, orange.ID, critical.Attempt{Method: critical.MethodPhone, To: critical.Recipient{Name: "Jane Smith"}, Outcome: critical.OutcomeReached, By: coord}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Close(ctx, orange.ID, coord); err != nil {
				t.Fatal(err)
			}
		}
		e.clk.Set(t0.AddDate(0, 0, 6).Add(time.Hour))
		rows, err := e.svc.Compliance(ctx, critical.Scope{Facilities: []string{"F1"}}, t0.Truncate(24*time.Hour), t0.Truncate(24*time.Hour).AddDate(0, 0, 7))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 {
			t.Fatalf("rows: %+v", rows)
		}
		red, orange := rows[0], rows[1]
		if red.Category != "1" || red.Total != 7 || red.Closed != 7 || red.ClosedOnTime != 5 || red.Pending != 0 || red.PercentOnTime != 71.4 || red.MedianMinutes != 20 {
			t.Fatalf("red: %+v", red)
		}
		if orange.Category != "2" || orange.Total != 7 || orange.Closed != 6 || orange.ClosedOnTime != 5 || orange.Pending != 1 || orange.PercentOnTime != 83.3 {
			t.Fatalf("orange: %+v", orange)
		}
		// Other facilities' scope sees nothing.
		if rows, _ := e.svc.Compliance(ctx, critical.Scope{Facilities: []string{"F2"}}, t0.AddDate(0, 0, -1), t0.AddDate(0, 0, 8)); len(rows) != 0 {
			t.Fatalf("foreign scope: %+v", rows)
		}
		// A week later the open Orange loop is overdue and counts as late.
		e.clk.Set(t0.AddDate(0, 0, 14))
		rows, _ = e.svc.Compliance(ctx, critical.Scope{All: true}, t0.Truncate(24*time.Hour), t0.Truncate(24*time.Hour).AddDate(0, 0, 7))
		if rows[1].OverdueOpen != 1 || rows[1].Pending != 0 || rows[1].PercentOnTime != 71.4 {
			t.Fatalf("orange later: %+v", rows[1])
		}
	})
}
