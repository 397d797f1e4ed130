package main

// Several identical nodes on one PostgreSQL database and one S3 bucket
// (versitygw): ingest through two nodes at once, a live worklist on a
// third, and the engine's leader killed mid-ingest.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"lightbox/internal/blob/blobtest"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

// leadsSince is when a node last became the engine's leader (its log).
func leadsSince(s *server) (time.Time, bool) {
	var at time.Time
	for _, line := range strings.Split(s.logText(), "\n") {
		var m struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &m) == nil && m.Msg == "cluster: this node leads the assignment engine" {
			at = m.Time
		}
	}
	return at, !at.IsZero()
}

func leads(s *server) bool { _, ok := leadsSince(s); return ok }

func TestThreeNodesPostgresS3(t *testing.T) {
	testStart := time.Now()
	needTools(t, "storescu")
	pg := dbtest.Database(t)
	if blobtest.Binary() == "" {
		t.Skip("versitygw not installed")
	}
	s3 := blobtest.Start(t)
	tmp := t.TempDir()
	blobs := s3.URL(s3.Bucket(t), filepath.Join(tmp, "spool"))
	env := s3.Env()
	dataDir := func(i int) string { return filepath.Join(tmp, fmt.Sprintf("node%d", i)) }
	common := func(i int) []string {
		// No limit on routine cases held ahead: both studies are leased at
		// once, so the stream shows each assignment without a read between.
		return []string{"--data", dataDir(i), "--db", pg, "--blobs", blobs, "--quiet", "2s", "--aet", "LIGHTBOX", "--routine-ahead", "0"}
	}

	// Node 1 seeds the demo group and starts first, so it leads.
	n1 := startServerEnv(t, env, append([]string{"demo"}, common(1)...)...)
	// Every node shares the secret that seals second factors.
	key, err := os.ReadFile(filepath.Join(dataDir(1), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{2, 3} {
		_ = os.MkdirAll(dataDir(i), 0o750)
		_ = os.WriteFile(filepath.Join(dataDir(i), "secret.key"), key, 0o600)
	}
	// A retention period (far beyond the demo's studies) puts the retention
	// timer to work: one of the nodes runs its period, once.
	if _, e, code := run(t, "retention", "set", "--data", dataDir(1), "--db", pg, "--facility", "SGH", "--years", "50"); code != 0 {
		t.Fatalf("retention set: %s", e)
	}
	n2 := startServerEnv(t, env, append([]string{"serve"}, common(2)...)...)
	n3 := startServerEnv(t, env, append([]string{"serve"}, common(3)...)...)
	nodes := []*server{n1, n2, n3}
	t.Logf("three nodes up %v after the test started (node 1 seeded the demo group)", time.Since(testStart).Round(time.Millisecond))
	waitUntil(t, "node 1 leads", func() bool { return leads(n1) })
	if leads(n2) || leads(n3) {
		t.Fatal("more than one leader")
	}

	tok := func(user string) string {
		out, e, code := run(t, "token", "create", "--data", dataDir(1), "--db", pg, "--username", user, "--name", "scale")
		if code != 0 {
			t.Fatalf("token: %s", e)
		}
		return strings.TrimSpace(out)
	}
	coord := tok("coordinator")
	readers := map[string]string{}
	for _, r := range []string{"dr.alpha", "dr.bravo", "dr.sydney", "dr.delta"} {
		readers[r] = tok(r)
	}
	// Readers' clients heartbeat to whichever node is up (calls forwarded to
	// the leader), as a browser behind a load balancer would.
	var n1Dead atomic.Bool
	alive := func() []*server {
		if n1Dead.Load() {
			return nodes[1:]
		}
		return nodes
	}
	hbCtx, stopHB := context.WithCancel(context.Background())
	defer stopHB()
	keepPresent(hbCtx, func(i int) []apiClient {
		up := alive()
		var cs []apiClient
		for _, tk := range readers {
			cs = append(cs, apiClient{t: t, base: up[i%len(up)].http, token: tk})
		}
		return cs
	})

	// The coordinator's live board on node 3.
	req, _ := http.NewRequest("GET", "http://"+n3.http+"/api/worklist/events", nil)
	req.Header.Set("Authorization", "Bearer "+coord)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("SSE on node 3: %v %v", err, resp)
	}
	defer resp.Body.Close()
	var mu sync.Mutex
	assigned := map[string]time.Time{} // when node 3's stream showed it
	decided := map[string]time.Time{}  // when the leader decided it
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var c struct {
				Kind     string `json:"kind"`
				StudyUID string `json:"study_uid"`
				At       string `json:"at"`
			}
			if json.Unmarshal([]byte(data), &c) == nil && c.Kind == "assign" {
				mu.Lock()
				if _, ok := assigned[c.StudyUID]; !ok {
					assigned[c.StudyUID] = time.Now()
					decided[c.StudyUID], _ = db.ParseTime(c.At)
				}
				mu.Unlock()
			}
		}
	}()

	// Two studies of a demo facility: one for C-STORE, one for STOW-RS.
	gen := func(name string, seed int) string {
		dir := filepath.Join(tmp, name)
		mustRun(t, "gen", "--out", dir, "--modality", "CT", "--slices", "12", "--patients", "1", "--facility", "SGH",
			"--rows", "64", "--columns", "64", "--seed", fmt.Sprint(seed))
		return dir
	}
	dimseDir, stowDir := gen("dimse", 901), gen("stow", 902)
	dimseFiles, stowFiles := dicomFiles(t, dimseDir), dicomFiles(t, stowDir)
	studies := []string{studyUIDOf(t, dimseDir), studyUIDOf(t, stowDir)}

	// acked lists the files whose storage was acknowledged.
	var ackMu sync.Mutex
	var acked []string
	lastAck := map[string]time.Time{} // per study
	start := time.Now()
	var killedAt time.Time
	killed := make(chan struct{})
	// The leader is killed once a third of all instances were acknowledged,
	// with both streams under way.
	ack := func(f, study string) {
		ackMu.Lock()
		defer ackMu.Unlock()
		acked = append(acked, f)
		lastAck[study] = time.Now()
		if len(acked) == (len(dimseFiles)+len(stowFiles))/3 {
			n1Dead.Store(true)
			killedAt = time.Now()
			_ = n1.cmd.Process.Signal(syscall.SIGKILL)
			t.Logf("leader killed %v into ingest, %d instances acknowledged so far", killedAt.Sub(start).Round(time.Millisecond), len(acked))
			close(killed)
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // storescu into node 1 (the leader) until it dies, then node 3
		defer wg.Done()
		for _, f := range dimseFiles {
			for _, target := range []*server{n1, n3} {
				if target == n1 && n1Dead.Load() {
					continue
				}
				h, p := hostPort(target.addrs["dicom"].(string))
				if exec.Command("storescu", "-aet", "SGH_CT1", "-aec", "LIGHTBOX", h, p, f).Run() == nil {
					ack(f, studies[0])
					break
				}
			}
		}
	}()
	go func() { // STOW-RS into node 2, one instance per request
		defer wg.Done()
		for _, f := range stowFiles {
			b, _ := os.ReadFile(f)
			if code, _, err := stow(n2.http, coord, b); err == nil && code == 200 {
				ack(f, studies[1])
			} else {
				t.Errorf("STOW-RS through node 2 while the leader changes: %v", err)
			}
		}
	}()
	wg.Wait()
	<-killed

	waitUntil(t, "another node leads", func() bool { return leads(n2) || leads(n3) })
	for _, n := range []*server{n2, n3} {
		if at, ok := leadsSince(n); ok {
			t.Logf("a new leader %v after the kill", at.Sub(killedAt).Round(time.Millisecond))
			if at.Sub(killedAt) > 30*time.Second {
				t.Errorf("the engine and its timers were taken over %v after the kill (want within 30 s)", at.Sub(killedAt))
			}
		}
	}
	if leads(n2) && leads(n3) {
		t.Fatal("two new leaders")
	}
	waitUntil(t, "both studies assigned on node 3's live stream", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !assigned[studies[0]].IsZero() && !assigned[studies[1]].IsZero()
	})

	for i, st := range studies {
		// The quiet period (2 s) runs from the study's last instance.
		// The quiet period (2 s) and the leader's tick (5 s) come first; then
		// the decision crosses to node 3.
		t.Logf("study %d assigned %v after its last instance, on node 3's stream %v after the decision",
			i+1, decided[st].Sub(lastAck[st]).Round(time.Millisecond), assigned[st].Sub(decided[st]).Round(time.Millisecond))
		if d := assigned[st].Sub(decided[st]); d > 2*time.Second {
			t.Errorf("study %d reached node 3's stream %v after the leader decided (want within 2 s)", i+1, d)
		}
	}

	// Every acknowledged instance is there, intact, whichever node is asked.
	if len(acked) != len(dimseFiles)+len(stowFiles) {
		t.Logf("%d of %d instances acknowledged", len(acked), len(dimseFiles)+len(stowFiles))
	}
	var orig [][]byte
	for _, f := range acked {
		b, _ := os.ReadFile(f)
		orig = append(orig, b)
	}
	want := canonicalSHAs(t, orig)
	got := map[string]string{}
	for i, st := range studies {
		for k, v := range canonicalSHAs(t, wadoStudy(t, []*server{n2, n3}[i].http, coord, st)) {
			got[k] = v
		}
	}
	for uid, sha := range want {
		if got[uid] != sha {
			t.Errorf("acknowledged instance %s: missing or changed after the leader died", uid)
		}
	}

	// Each study was assigned once: the new leader restored the leases it
	// found instead of deciding again.
	check, err := db.Open(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	for _, st := range studies {
		var n int
		_ = check.QueryRow(context.Background(), "SELECT COUNT(*) FROM assignment_event WHERE study_uid = ? AND kind = 'assign'", st).Scan(&n)
		if n != 1 {
			t.Errorf("study %s assigned %d times", st, n)
		}
	}
	t.Logf("checks done %v after the test started", time.Since(testStart).Round(time.Millisecond))
	// Metrics: refused without a token, scraped with an administrator's.
	if code, _ := n3.get(t, "/metrics"); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: %d", code)
	}
	adminTok := tok("admin")
	scrape := func(n *server) string {
		mreq, _ := http.NewRequest("GET", "http://"+n.http+"/metrics", nil)
		mreq.Header.Set("Authorization", "Bearer "+adminTok)
		mresp, err := http.DefaultClient.Do(mreq)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(mresp.Body)
		mresp.Body.Close()
		if mresp.StatusCode != 200 {
			t.Errorf("/metrics with an administrator's token: %d", mresp.StatusCode)
		}
		return string(body)
	}
	body := scrape(n2)
	for _, want := range []string{`lightbox_blob_op_seconds_count{op="commit"}`, "lightbox_engine_leader", `lightbox_worklist_studies{status="leased"}`,
		"lightbox_outbox_pending", "lightbox_critical_loops_open", "go_sql_open_connections"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	assertTimersOnce(t, check, scrape, n2, n3)
	stopHB()
	resp.Body.Close() // the SSE stream would hold node 3's graceful shutdown
	n2.stop(t)
	n3.stop(t)
}

// assertTimersOnce checks, after the leader's death, that the cluster's
// timers fired once: the engine's (lease expiry, presence, quiet studies;
// heartbeats are forwarded to it) decided on the one surviving leader only
// (a follower's decision counter stays 0), no lease was granted or expired
// twice, and the retention timer ran once for the three nodes. Critical-
// result escalation and outbox delivery claim each firing in the database;
// TestTwoSchedulersFireOnce (internal/critical) and
// TestRestartAndTwoDeliverers (internal/outbox) show it on PostgreSQL.
func assertTimersOnce(t *testing.T, check *db.DB, scrape func(*server) string, survivors ...*server) {
	t.Helper()
	deciders := 0
	for _, n := range survivors {
		decisions := 0.0
		for _, line := range strings.Split(scrape(n), "\n") {
			if strings.HasPrefix(line, "lightbox_assignment_decisions_total{") {
				var v float64
				if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err == nil {
					decisions += v
				}
			}
		}
		if decisions > 0 {
			deciders++
			if !leads(n) {
				t.Errorf("a node that does not lead decided %v times", decisions)
			}
		}
	}
	if deciders != 1 {
		t.Errorf("%d surviving nodes ran the engine's decisions, want exactly 1", deciders)
	}
	ctx := context.Background()
	// A lease granted twice with no unassign between would be two engines
	// (or a restored lease decided again).
	rows, err := check.Query(ctx, `SELECT study_uid, kind, reader_id, code, at FROM assignment_event WHERE kind IN ('assign', 'unassign', 'done') ORDER BY study_uid, pk`)
	if err != nil {
		t.Fatal(err)
	}
	holder := map[string]string{}
	for rows.Next() {
		var st, kind, reader, code, at string
		_ = rows.Scan(&st, &kind, &reader, &code, &at)
		switch kind {
		case "assign":
			if holder[st] != "" {
				t.Errorf("study %s assigned to %s at %s while %s held its lease", st, reader, at, holder[st])
			}
			holder[st] = reader
		default:
			holder[st] = ""
		}
	}
	rows.Close()
	var runs int
	if err := check.QueryRow(ctx, `SELECT COUNT(*) FROM audit_event WHERE user_id = 'retention-timer' AND detail LIKE 'retention run%'`).Scan(&runs); err != nil {
		t.Fatal(err)
	}
	if runs != 1 {
		t.Errorf("the retention timer ran %d times for three nodes in one period, want 1", runs)
	}
}

// waitUntil polls cond; the bound stops a broken test and asserts no speed.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}
