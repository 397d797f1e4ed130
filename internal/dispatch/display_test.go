package dispatch

import (
	"context"
	"slices"
	"testing"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
	"lightbox/internal/model"
	"lightbox/internal/station"
)

// TestMammoDisplayCheck runs the display-check rule through the service
// and the station store: without a pass the mammography reader is
// excluded with workstation.display_check (Explain); the recorded pass
// makes them eligible and the waiting study goes to them; a restarted
// service loads the pass from the store.
func TestMammoDisplayCheck(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		r := reader("dr.mg", "IL", "SGH")
		r.MQSA = model.MQSA{Qualified: true, Initial: true}
		r.Privileges[0].Scope.Mammography = true
		e := setup(t, d, r)
		e.s.Close()
		st := station.Store{DB: d, Now: e.clk.now}
		start := func() *Service {
			cfg := assign.DefaultConfig()
			cfg.Rules.RequireMammoDisplayCheck = true
			s := New(d, Options{Quiet: time.Second, TickEvery: time.Hour, Now: e.clk.now, Engine: cfg, DisplayPasses: st.DisplayPasses})
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			_ = s.Heartbeat(ctx, "dr.mg", false)
			return s
		}
		excluded := func(s *Service) bool {
			t.Helper()
			cs, err := s.Explain("mg.1")
			if err != nil || len(cs) != 1 {
				t.Fatalf("explain %v %+v", err, cs)
			}
			return slices.ContainsFunc(cs[0].Exclusions, func(x model.Exclusion) bool { return x.Code == model.CodeDisplayCheck })
		}
		s := start()
		now := e.clk.now()
		if err := s.Admit(ctx, &model.Study{ID: "mg.1", FacilityID: "SGH", Modality: "MG", BodyPart: "BREAST", CPT: "77067", WorkRVU: 0.76,
			Priority: model.Routine, ExamTime: now, ArrivalTime: now}); err != nil {
			t.Fatal(err)
		}
		if h, _ := s.Holder("mg.1"); h != "" || !excluded(s) {
			t.Fatalf("without a display check: holder %q, excluded %v", h, excluded(s))
		}
		c, err := st.Record(ctx, "dr.mg", station.Check{Kind: station.KindDisplay, Passed: true, ScreenWidth: 2048, ScreenHeight: 2560, PixelRatio: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DisplayChecked(ctx, "dr.mg", now, c.Passed); err != nil {
			t.Fatal(err)
		}
		if h, _ := s.Holder("mg.1"); h != "dr.mg" || excluded(s) {
			t.Fatalf("after the pass: holder %q, excluded %v", h, excluded(s))
		}
		s.Close()
		e.clk.add(time.Hour)
		if s2 := start(); excluded(s2) {
			t.Fatal("restart lost the display check")
		}
	})
}
