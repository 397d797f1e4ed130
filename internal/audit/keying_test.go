package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

// TestKeyedChainDetectsTampering replays the probe's attacks on the trail:
// deleting the newest rows, editing a row and recomputing every later hash
// (without the key), and deleting study index rows. Each must fail verify.
func TestKeyedChainDetectsTampering(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T, d *db.DB) (*Logger, *Keying) {
		// A few unkeyed rows first, as on a node upgraded to keying.
		mustRecord(t, newLogger(d), AccessEvent(alice, Read, "HOSP", "MRN0", studyA1))
		k := &Keying{Key: DeriveKey([]byte("node secret")), HeadFile: filepath.Join(t.TempDir(), "audit-head.json")}
		l := &Logger{DB: d, SourceID: "node-1", Keying: k}
		for i := range 9 {
			mustRecord(t, l, AccessEvent(alice, Read, "HOSP", fmt.Sprintf("MRN%d", i), studyA1, studyA2))
		}
		rep, err := VerifyKeyed(ctx, d, k)
		if err != nil || !rep.OK || rep.Rows != 10 {
			t.Fatalf("intact chain: %+v %v (break %v)", rep, err, rep.Break)
		}
		return l, k
	}
	exec := func(t *testing.T, d *db.DB, q string, args ...any) {
		t.Helper()
		if _, err := d.W.ExecContext(ctx, d.Rebind(q), args...); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, d *db.DB, k *Keying)
		want   BreakKind
	}{
		{"truncate newest rows", func(t *testing.T, d *db.DB, k *Keying) {
			exec(t, d, `DELETE FROM audit_event_study WHERE seq > 7`)
			exec(t, d, `DELETE FROM audit_event WHERE seq > 7`)
		}, Truncated},
		{"edit a row and recompute the later hashes", func(t *testing.T, d *db.DB, k *Keying) {
			rows, _ := d.W.QueryContext(ctx, `SELECT `+columns+` FROM audit_event ORDER BY seq`)
			var all []row
			for rows.Next() {
				var r row
				_ = rows.Scan(r.scanArgs()...)
				all = append(all, r)
			}
			rows.Close()
			prev := ""
			for i := range all {
				r := &all[i]
				if r.Seq == 5 {
					r.UserID = "mallory"
				}
				if r.Seq >= 5 {
					r.PrevHash = prev
					r.Hash = r.computeHash(nil) // the attacker has no key
					exec(t, d, `UPDATE audit_event SET user_id = ?, prev_hash = ?, hash = ? WHERE seq = ?`, r.UserID, r.PrevHash, r.Hash, r.Seq)
				}
				prev = r.Hash
			}
		}, Rewritten},
		{"delete study index rows", func(t *testing.T, d *db.DB, k *Keying) {
			exec(t, d, `DELETE FROM audit_event_study WHERE seq = 4 AND study_uid = ?`, studyA2)
		}, IndexAltered},
		{"add a study index row", func(t *testing.T, d *db.DB, k *Keying) {
			exec(t, d, `INSERT INTO audit_event_study (study_uid, seq) VALUES (?, 99)`, studyB1)
		}, IndexAltered},
		{"delete the signed head", func(t *testing.T, d *db.DB, k *Keying) {
			k.HeadFile += ".gone"
		}, Truncated},
	} {
		t.Run(c.name, func(t *testing.T) {
			dbtest.Run(t, func(t *testing.T, d *db.DB) {
				_, k := setup(t, d)
				c.tamper(t, d, k)
				rep, err := VerifyKeyed(ctx, d, k)
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK || rep.Break == nil || rep.Break.Kind != c.want {
					t.Fatalf("tampering passed or was misnamed: %+v %v", rep, rep.Break)
				}
			})
		})
	}
}
