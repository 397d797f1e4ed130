package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

var (
	alice   = Actor{UserID: "alice", Role: "radiologist", NetworkAddr: "10.0.0.5", Interface: HTTP, FacilityID: "F1"}
	bob     = Actor{UserID: "bob", Role: "technologist", NetworkAddr: "ws-12.example.org", Interface: DICOM, FacilityID: "F1"}
	auditor = Actor{UserID: "carol", Role: "admin", NetworkAddr: "10.0.0.9", Interface: CLI}
)

const (
	studyA1 = "1.2.840.113619.2.55.3.1"
	studyA2 = "1.2.840.113619.2.55.3.2"
	studyB1 = "1.2.840.113619.2.55.3.9"
)

func newLogger(d *db.DB) *Logger { return &Logger{DB: d, SourceID: "node-1"} }

func mustRecord(t *testing.T, l *Logger, e Event) {
	t.Helper()
	if err := l.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

func mustVerify(t *testing.T, d *db.DB) Report {
	t.Helper()
	rep, err := Verify(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestConcurrentAppendsFormOneChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// Two "nodes" (Loggers with their own source IDs) share the database;
		// on PostgreSQL each goroutine uses its own pooled session.
		nodes := []*Logger{{DB: d, SourceID: "node-1"}, {DB: d, SourceID: "node-2"}}
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					e := AccessEvent(alice, Read, "HOSP", fmt.Sprintf("MRN%d", w), studyA1)
					e.Detail = fmt.Sprintf("w%d-%d", w, i)
					errs <- nodes[w%2].Record(ctx, e)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		rep := mustVerify(t, d)
		if !rep.OK || rep.Rows != workers*each || rep.HeadSeq != workers*each {
			t.Fatalf("report %+v (break %v)", rep, rep.Break)
		}
		if n := dbtest.Count(t, d, `SELECT COUNT(DISTINCT seq) FROM audit_event WHERE seq BETWEEN 1 AND ?`, workers*each); n != workers*each {
			t.Fatalf("distinct seqs = %d", n)
		}
	})
}

// Two SQLite handles on one file stand for two processes.
func TestTwoSQLiteProcessesShareOneChain(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	var dbs []*db.DB
	for range 2 {
		d, err := db.Open(ctx, "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, d)
	}
	var wg sync.WaitGroup
	for p, d := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &Logger{DB: d, SourceID: "proc-" + strconv.Itoa(p)}
			for range 30 {
				if err := l.Record(ctx, LoginEvent(alice, Success, "")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if rep := mustVerify(t, dbs[0]); !rep.OK || rep.Rows != 60 {
		t.Fatalf("report %+v (break %v)", rep, rep.Break)
	}
}

func TestCanonicalFormMatchesDocumentation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := newLogger(d)
		l.Now = func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC) }
		e := AccessEvent(alice, Read, "HOSP", "MRN1", studyA1, studyA2)
		e.Time = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		mustRecord(t, l, e)
		var hash string
		if err := d.QueryRow(ctx, `SELECT hash FROM audit_event WHERE seq = 1`).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		// Rebuilt by hand from doc.go, as an outside tool would.
		fields := []string{"lightbox-audit-v1", "1", "2026-03-04T05:06:07.890Z", "2026-03-04T05:06:07.000Z", "node-1",
			"110103", "", "R", "0", "alice", "radiologist", "1", "10.0.0.5", "http", "", "HOSP", "MRN1",
			studyA1 + `\` + studyA2, "study", "", "F1", GenesisHash}
		var b strings.Builder
		for _, f := range fields {
			fmt.Fprintf(&b, "%d:%s,", len(f), f)
		}
		sum := sha256.Sum256([]byte(b.String()))
		if want := hex.EncodeToString(sum[:]); hash != want {
			t.Fatalf("hash %s, documented form gives %s", hash, want)
		}
	})
}

// seed records n events and returns the logger.
func seed(t *testing.T, d *db.DB, n int) *Logger {
	t.Helper()
	l := newLogger(d)
	for i := range n {
		e := AccessEvent(alice, Read, "HOSP", "MRN1", studyA1)
		e.Detail = "n=" + strconv.Itoa(i)
		mustRecord(t, l, e)
	}
	return l
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name   string
		sql    []string
		seq    int64
		kind   BreakKind
		detail string
	}{
		{"edited", []string{`UPDATE audit_event SET user_id = 'mallory' WHERE seq = 4`}, 4, Edited, "does not match"},
		{"edited-time", []string{`UPDATE audit_event SET event_time = '2020-01-01T00:00:00.000Z' WHERE seq = 9`}, 9, Edited, ""},
		{"deleted", []string{`DELETE FROM audit_event WHERE seq = 6`}, 7, Deleted, "seq 6 to 6 missing"},
		{"deleted-first", []string{`DELETE FROM audit_event WHERE seq = 1`}, 2, Deleted, "seq 1 to 1 missing"},
		{"deleted-renumbered", []string{`DELETE FROM audit_event WHERE seq = 10`, `UPDATE audit_event SET seq = 10 WHERE seq = 11`}, 10, Deleted, "renumbered"},
		{"reordered", []string{
			`UPDATE audit_event SET seq = -1 WHERE seq = 3`,
			`UPDATE audit_event SET seq = 3 WHERE seq = 4`,
			`UPDATE audit_event SET seq = 4 WHERE seq = -1`}, 3, Reordered, "chained after the row now at seq 4"},
		{"truncated", []string{
			`INSERT INTO audit_forward (name, last_seq, owner, lease_until, updated_at) VALUES ('c', 12, '', '', '')`,
			`DELETE FROM audit_event WHERE seq = 12`}, 12, Truncated, "forwarded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				seed(t, d, 12)
				if rep := mustVerify(t, d); !rep.OK || rep.Rows != 12 || rep.Break != nil {
					t.Fatalf("before tampering: %+v", rep)
				}
				for _, q := range c.sql {
					if _, err := d.Exec(ctx, q); err != nil {
						t.Fatal(err)
					}
				}
				rep := mustVerify(t, d)
				if rep.OK || rep.Break == nil {
					t.Fatalf("tampering not detected: %+v", rep)
				}
				if rep.Break.Seq != c.seq || rep.Break.Kind != c.kind || !strings.Contains(rep.Break.Detail, c.detail) {
					t.Fatalf("break = %v, want seq %d %s (%q)", rep.Break, c.seq, c.kind, c.detail)
				}
				if (c.kind == Edited || c.kind == Reordered) && rep.Rows != c.seq-1 {
					t.Fatalf("rows checked = %d", rep.Rows)
				}
			})
		})
	}
}

func TestRecordTxRollsBackWithCaller(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := seed(t, d, 2)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := l.RecordTx(ctx, tx, AccessEvent(alice, Update, "HOSP", "MRN1", studyA1)); err != nil {
				return err
			}
			return fmt.Errorf("business change failed")
		})
		if err == nil {
			t.Fatal("expected error")
		}
		var got Event
		err = d.InTx(ctx, func(tx *db.Tx) error {
			got, err = l.RecordTx(ctx, tx, AccessEvent(alice, Update, "HOSP", "MRN1", studyA1))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != 3 || len(got.Hash) != 64 || got.PrevHash == GenesisHash {
			t.Fatalf("stored %+v", got)
		}
		if rep := mustVerify(t, d); !rep.OK || rep.Rows != 3 {
			t.Fatalf("%+v", rep)
		}
	})
}

func TestRecordValidates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		l := newLogger(d)
		bad := []Event{
			{EventID: "999999", Action: Read, UserID: "u"},
			{EventID: Query, Action: "X", UserID: "u"},
			{EventID: Query, Action: Read, Outcome: 3, UserID: "u"},
			{EventID: Query, Action: Read},
			{EventID: Query, Action: Read, UserID: "u", Interface: "smtp"},
			{EventID: Query, Action: Read, UserID: "u", EventType: "123"},
			{EventID: InstancesAccessed, Action: Read, UserID: "u", StudyUIDs: []string{"1.2.abc"}},
			{EventID: InstancesAccessed, Action: Read, UserID: "u", Detail: "a\x00b"},
			{EventID: InstancesAccessed, Action: Read, UserID: "u", PatientIssuer: "HOSP"},
		}
		for i, e := range bad {
			if err := l.Record(context.Background(), e); err == nil {
				t.Errorf("case %d: accepted %+v", i, e)
			}
		}
		if n := dbtest.Count(t, d, `SELECT COUNT(*) FROM audit_event`); n != 0 {
			t.Fatalf("%d rows written", n)
		}
	})
}

func TestAccessesToPatient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := newLogger(d)
		t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		at := func(e Event, min int) Event { e.Time = t0.Add(time.Duration(min) * time.Minute); return e }
		mustRecord(t, l, at(LoginEvent(alice, Success, ""), 0))
		mustRecord(t, l, at(QueryEvent(bob, "HOSP", "MRN-A", "C-FIND STUDY"), 1))
		mustRecord(t, l, at(AccessEvent(alice, Read, "HOSP", "MRN-A", studyA1), 2))
		mustRecord(t, l, at(AccessEvent(alice, Read, "HOSP", "MRN-B", studyB1), 3))
		mustRecord(t, l, at(AccessEvent(alice, Read, "OTHER", "MRN-A", studyB1), 4)) // same ID, other issuer
		denied := at(RecordEvent(bob, PatientRecord, Read, "report", "HOSP", "MRN-A", studyA2), 5)
		denied.Outcome = SeriousFailure
		denied.Detail = "not-privileged"
		mustRecord(t, l, denied)
		mustRecord(t, l, at(ExportEvent(alice, "cd-burner", "HOSP", "MRN-A", studyA1, studyA2), 60))

		got, err := l.AccessesToPatient(ctx, auditor, "HOSP", "MRN-A", time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			user string
			id   EventID
			out  Outcome
		}
		var rows []row
		for _, e := range got {
			rows = append(rows, row{e.UserID, e.EventID, e.Outcome})
		}
		want := []row{{"bob", Query, Success}, {"alice", InstancesAccessed, Success}, {"bob", PatientRecord, SeriousFailure}, {"alice", Export, Success}}
		if fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", rows, want)
		}
		a := got[1]
		if a.NetworkAddr != "10.0.0.5" || a.Interface != HTTP || a.UserRole != "radiologist" || !a.Time.Equal(t0.Add(2*time.Minute)) ||
			fmt.Sprint(a.StudyUIDs) != "["+studyA1+"]" || a.SourceID != "node-1" || a.Hash == "" {
			t.Fatalf("access row %+v", a)
		}
		if got[2].Detail != "not-privileged" || got[3].PeerID != "cd-burner" || len(got[3].StudyUIDs) != 2 {
			t.Fatalf("rows %+v", got)
		}

		// Reading was audited: the newest event is 110101 by the auditor, naming the patient.
		last, err := search(ctx, d, Filter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		u := last.Events[0]
		if u.EventID != AuditLogUsed || u.UserID != "carol" || u.PatientID != "MRN-A" || u.PatientIssuer != "HOSP" || u.Action != Read || !u.UserIsRequestor {
			t.Fatalf("audit-log-used event %+v", u)
		}

		// Time window: [t0+90s, t0+30m) holds the access and the denied read.
		got, err = l.AccessesToPatient(ctx, auditor, "HOSP", "MRN-A", t0.Add(90*time.Second), t0.Add(30*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].EventID != InstancesAccessed || got[1].EventID != PatientRecord {
			t.Fatalf("window: %+v", got)
		}
		if _, err := l.AccessesToPatient(ctx, auditor, "HOSP", "", time.Time{}, time.Time{}); err == nil {
			t.Fatal("empty patient ID accepted")
		}
		if rep := mustVerify(t, d); !rep.OK {
			t.Fatal(rep.Break)
		}
	})
}

func TestSearch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := newLogger(d)
		t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		for i := range 10 {
			e := AccessEvent(alice, Read, "HOSP", "MRN-A", studyA1)
			if i%2 == 1 {
				e = SendEvent(bob, "PACS_B", "HOSP", "MRN-A", studyA2, studyA1)
			}
			e.Time = t0.Add(time.Duration(i) * time.Minute)
			mustRecord(t, l, e)
		}
		mustRecord(t, l, LoginEvent(bob, SeriousFailure, "bad-password"))

		p, err := l.Search(ctx, auditor, Filter{UserID: "bob", EventIDs: []EventID{InstancesTransferred}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) != 5 || p.Next != 0 || p.Events[0].Seq != 10 {
			t.Fatalf("by user+event: %d events, next %d", len(p.Events), p.Next)
		}
		p, err = l.Search(ctx, auditor, Filter{StudyUID: studyA2})
		if err != nil || len(p.Events) != 5 {
			t.Fatalf("by study: %v %d", err, len(p.Events))
		}
		p, err = l.Search(ctx, auditor, Filter{From: t0.Add(3 * time.Minute), To: t0.Add(6 * time.Minute)})
		if err != nil || len(p.Events) != 3 || p.Events[2].Seq != 4 {
			t.Fatalf("by time: %v %+v", err, p.Events)
		}
		// Paging, newest first, over the 10 study events.
		var seqs []int64
		f := Filter{StudyUID: studyA1, Limit: 4}
		for {
			p, err := l.Search(ctx, auditor, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Events {
				seqs = append(seqs, e.Seq)
			}
			if p.Next == 0 {
				break
			}
			f.Before = p.Next
		}
		if fmt.Sprint(seqs) != "[10 9 8 7 6 5 4 3 2 1]" {
			t.Fatalf("pages: %v", seqs)
		}
		// Every search above was recorded as 110101 by carol (3 + 3 pages).
		used, err := search(ctx, d, Filter{UserID: "carol", EventIDs: []EventID{AuditLogUsed}})
		if err != nil {
			t.Fatal(err)
		}
		if len(used.Events) != 6 || used.Events[len(used.Events)-1].Detail != "search user=bob event=110104" {
			t.Fatalf("audit-log-used: %+v", used.Events)
		}
		if rep := mustVerify(t, d); !rep.OK {
			t.Fatal(rep.Break)
		}
	})
}
