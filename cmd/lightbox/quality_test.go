package main

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"lightbox/internal/irconsult"
	"lightbox/internal/keyimage"
	"lightbox/internal/peerreview"
	"lightbox/internal/query"
	"lightbox/internal/roster"
	"lightbox/internal/scope"
	"lightbox/internal/tumorboard"
)

// TestQualityInBrowser: dr.alpha scores a RADPEER peer review and runs a
// tumor board with a case from a facility dr.bravo holds no privileges at
// (web/e2e/quality.mjs); the server then holds the closed review, the
// board's recommendation, and dr.bravo's grant, which lapses after the board.
func TestQualityInBrowser(t *testing.T) {
	t.Parallel()
	needBrowser(t)
	data := t.TempDir()
	srv := startServer(t, "demo", "--data", data, "--quiet", "1s")
	defer srv.stop(t)
	ctx := context.Background()
	d := openIndex(t, data)
	defer d.Close()
	type item struct{ study, facility string }
	var items []item
	for deadline := time.Now().Add(90 * time.Second); len(items) < 2; time.Sleep(300 * time.Millisecond) {
		items = items[:0]
		rows, err := d.Query(ctx, "SELECT study_uid, facility_id FROM read_item ORDER BY created_at")
		if err == nil {
			for rows.Next() {
				var it item
				_ = rows.Scan(&it.study, &it.facility)
				items = append(items, it)
			}
			rows.Close()
		}
		if time.Now().After(deadline) {
			t.Fatal("the demo studies did not reach the worklist")
		}
	}
	// The board's case: a study at a facility outside dr.bravo's privileges
	// (internal/demo: RMI, MSH, PCM, EVC, SGH, PRM).
	bravo := []string{"RMI", "MSH", "PCM", "EVC", "SGH", "PRM"}
	board := items[0]
	for _, it := range items {
		if !slices.Contains(bravo, it.facility) {
			board = it
			break
		}
	}
	if slices.Contains(bravo, board.facility) {
		t.Skip("every demo study is at a facility dr.bravo is privileged at")
	}
	reviewed := items[0]
	if reviewed == board {
		reviewed = items[1]
	}
	// One peer review of dr.bravo's (body) final for dr.alpha (neuro, body).
	pr := peerreview.Store{DB: d}
	if err := pr.SetPolicy(ctx, peerreview.Policy{Mode: "count", Value: 1, HideAuthor: true, HideReviewer: true}); err != nil {
		t.Fatal(err)
	}
	drawn, _, err := pr.Draw(ctx, []peerreview.Final{{StudyUID: reviewed.study, FacilityID: reviewed.facility, Author: "dr.bravo", SignedAt: time.Now().AddDate(0, -1, 0)}},
		[]peerreview.Reviewer{{ID: "dr.alpha", Subspecialties: []string{"neuro", "body"}}, {ID: "dr.bravo", Subspecialties: []string{"body", "chest"}}}, rand.New(rand.NewPCG(1, 2)))
	if err != nil || len(drawn) != 1 || drawn[0].Reviewer != "dr.alpha" {
		t.Fatalf("seed peer review: %+v %v", drawn, err)
	}
	// A key image bookmarked in the viewer on the board's study.
	insts, err := query.New(d).Instances(ctx, scope.Scope{All: true}, query.Target{StudyUID: board.study})
	if err != nil || len(insts) == 0 {
		t.Fatalf("instances of %s: %v", board.study, err)
	}
	if _, err := (keyimage.Store{DB: d}).Add(ctx, "dr.alpha", keyimage.KeyImage{StudyUID: board.study, SeriesUID: insts[0].SeriesUID, SOPUID: insts[0].SOPInstanceUID,
		Frame: 1, Note: "spiculated RUL mass"}); err != nil {
		t.Fatal(err)
	}

	// dr.bravo is the interventional radiologist on call, group-wide.
	if err := (roster.Store{DB: d}).SetOnCall(ctx, "ir", time.Now().Add(-time.Hour), time.Now().Add(6*time.Hour), []roster.OnCall{{ReaderID: "dr.bravo"}}); err != nil {
		t.Fatal(err)
	}

	runBrowserScript(t, srv, "quality.mjs", "BASE_URL=http://"+srv.http, "BOARD_STUDY="+board.study)

	cs, err := (irconsult.Store{DB: d, Roster: roster.Store{DB: d}}).List(ctx, "")
	if err != nil || len(cs) != 1 || cs[0].Source != "report" || cs[0].StudyUID != board.study || cs[0].Consultant != "dr.bravo" || cs[0].Indication != "active bleed" {
		t.Fatalf("IR consult from the report: %+v %v", cs, err)
	}

	v, err := pr.Get(ctx, drawn[0].ID)
	if err != nil || v.Status != peerreview.Closed || v.FinalScore != "2a" || v.Comment == "" {
		t.Fatalf("peer review after the browser: %+v %v", v, err)
	}
	tb := tumorboard.Store{DB: d}
	boards, err := tb.List(ctx, "dr.bravo")
	if err != nil || len(boards) != 1 {
		t.Fatalf("boards: %+v %v", boards, err)
	}
	b, _ := tb.Get(ctx, boards[0].ID)
	if len(b.Cases) != 1 || b.Cases[0].Recommendation == "" {
		t.Fatalf("board case: %+v", b.Cases)
	}
	if st, _ := tb.Active(ctx, "dr.bravo"); !slices.Contains(st, board.study) {
		t.Fatal("dr.bravo holds no grant during the board")
	}
	after := tumorboard.Store{DB: d, Now: func() time.Time { return b.EndsAt.Add(tumorboard.Grace + time.Second) }}
	if st, _ := after.Active(ctx, "dr.bravo"); len(st) != 0 {
		t.Fatalf("grant outlives the board: %v", st)
	}
}
