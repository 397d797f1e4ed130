package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"lightbox/internal/db"
)

// BreakKind names how the chain is broken.
type BreakKind string

// Kinds of break, as Verify names them.
const (
	// Edited: a row's content no longer matches its hash.
	Edited BreakKind = "edited"
	// Deleted: rows are missing — a gap in seq, or a row whose prev_hash
	// names a link that no longer exists.
	Deleted BreakKind = "deleted"
	// Reordered: a row sits at a position other than the one it was
	// chained at (its prev_hash names a link elsewhere in the table).
	Reordered BreakKind = "reordered"
	// Truncated: the newest rows are gone — a syslog forwarding cursor
	// has already shipped a seq beyond the table's head.
	Truncated BreakKind = "truncated"
	// Rewritten: a link was hashed without the chain key after keyed links,
	// or the signed head names a hash the chain no longer has.
	Rewritten BreakKind = "rewritten"
	// IndexAltered: the study index rows of an event differ from the study
	// UIDs the chained row carries.
	IndexAltered BreakKind = "index-altered"
)

// Break is the first broken link Verify finds.
type Break struct {
	Seq    int64     // the row at which the chain breaks (for Deleted: the first row after the gap)
	Kind   BreakKind // what happened
	Detail string    // human-readable explanation
}

func (b *Break) String() string { return fmt.Sprintf("seq %d: %s: %s", b.Seq, b.Kind, b.Detail) }

// Report is the result of Verify.
type Report struct {
	OK       bool   // the whole chain verifies
	Rows     int64  // rows checked (up to the break)
	HeadSeq  int64  // last seq checked
	HeadHash string // its hash: record it outside the database to detect truncation or a rewrite
	Break    *Break // the first break, nil when OK
}

// Verify walks the chain in seq order, recomputes every hash and checks
// every link, and reports the first break. It returns an error only when
// the database cannot be read. Rows hashed by someone who also recomputed
// every later hash cannot be detected here; compare HeadHash with copies
// kept elsewhere (the syslog collector receives every event).
func Verify(ctx context.Context, d *db.DB) (Report, error) { return VerifyKeyed(ctx, d, nil) }

// VerifyKeyed is Verify for a keyed chain: links may be HMACs under k.Key
// (unkeyed links only before the first keyed one), every event's study
// index rows must match the study UIDs it carries, and the signed head in
// k.HeadFile must verify and name a link the chain still has.
func VerifyKeyed(ctx context.Context, d *db.DB, k *Keying) (Report, error) {
	var rep Report
	keyed := false
	rows, err := d.Query(ctx, `SELECT `+columns+` FROM audit_event ORDER BY seq`)
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	prevSeq, prevHash := int64(0), GenesisHash
	for rows.Next() {
		var r row
		if err := rows.Scan(r.scanArgs()...); err != nil {
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
		matches := r.computeHash(nil) == r.Hash
		if k.key() != nil && !matches && r.computeHash(k.Key) == r.Hash {
			matches, keyed = true, true
		} else if matches && keyed {
			rep.Break = &Break{Seq: r.Seq, Kind: Rewritten, Detail: "hashed without the chain key after keyed links: rewritten by someone without the node secret"}
			return rep, nil
		}
		b, err := checkLink(ctx, d, &r, prevSeq, prevHash, matches)
		if err != nil {
			return rep, err
		}
		if b == nil {
			b, err = checkIndex(ctx, d, &r)
			if err != nil {
				return rep, err
			}
		}
		if b != nil {
			rep.Break = b
			return rep, nil
		}
		rep.Rows++
		rep.HeadSeq, rep.HeadHash = r.Seq, r.Hash
		prevSeq, prevHash = r.Seq, r.Hash
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	rows.Close()
	if b, err := checkHead(ctx, d, k, keyed, prevSeq); err != nil || b != nil {
		rep.Break = b
		return rep, err
	}
	var shipped sql.NullInt64
	if err := d.QueryRow(ctx, `SELECT MAX(last_seq) FROM audit_forward`).Scan(&shipped); err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	if shipped.Valid && shipped.Int64 > prevSeq {
		// Rows appended (and shipped) while the walk ran are not truncation.
		var head sql.NullInt64
		if err := d.QueryRow(ctx, `SELECT MAX(seq) FROM audit_event`).Scan(&head); err != nil {
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
		if !head.Valid || head.Int64 < shipped.Int64 {
			rep.Break = &Break{Seq: prevSeq + 1, Kind: Truncated,
				Detail: fmt.Sprintf("rows up to seq %d were forwarded to a collector but the chain ends at seq %d", shipped.Int64, prevSeq)}
			return rep, nil
		}
	}
	// Index rows of events appended during the walk have their event.
	var orphans int64
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM audit_event_study x WHERE NOT EXISTS (SELECT 1 FROM audit_event e WHERE e.seq = x.seq)`).Scan(&orphans); err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	if orphans > 0 {
		rep.Break = &Break{Seq: prevSeq + 1, Kind: IndexAltered, Detail: fmt.Sprintf("%d study index rows name no event", orphans)}
		return rep, nil
	}
	rep.OK = true
	return rep, nil
}

// checkIndex compares the study index rows of r with the UIDs it carries.
func checkIndex(ctx context.Context, d *db.DB, r *row) (*Break, error) {
	want := map[string]bool{}
	for _, u := range splitUIDs(r.StudyUIDs) {
		want[u] = true
	}
	if len(want) == 0 {
		return nil, nil // orphan index rows are counted once, after the walk
	}
	rows, err := d.Query(ctx, `SELECT study_uid FROM audit_event_study WHERE seq = ?`, r.Seq)
	if err != nil {
		return nil, fmt.Errorf("audit: verify index: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("audit: verify index: %w", err)
		}
		if !want[u] {
			return &Break{Seq: r.Seq, Kind: IndexAltered, Detail: "a study index row names a study the event does not"}, nil
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: verify index: %w", err)
	}
	if n != len(want) {
		return &Break{Seq: r.Seq, Kind: IndexAltered, Detail: fmt.Sprintf("%d of the event's %d study index rows are missing", len(want)-n, len(want))}, nil
	}
	return nil, nil
}

// checkHead checks the signed head against a chain walked up to lastSeq.
func checkHead(ctx context.Context, d *db.DB, k *Keying, keyed bool, lastSeq int64) (*Break, error) {
	if k == nil || k.HeadFile == "" {
		return nil, nil
	}
	h, ok, err := k.ReadHead()
	switch {
	case err != nil:
		return &Break{Seq: lastSeq, Kind: Rewritten, Detail: err.Error()}, nil
	case !ok && keyed:
		return &Break{Seq: lastSeq, Kind: Truncated, Detail: "the signed head file is missing"}, nil
	case !ok:
		return nil, nil
	}
	var hash string
	err = d.QueryRow(ctx, `SELECT hash FROM audit_event WHERE seq = ?`, h.Seq).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return &Break{Seq: lastSeq + 1, Kind: Truncated, Detail: fmt.Sprintf("the signed head names seq %d but the chain ends at seq %d", h.Seq, lastSeq)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: verify head: %w", err)
	}
	if hash != h.Hash {
		return &Break{Seq: h.Seq, Kind: Rewritten, Detail: "the link the signed head names has another hash now"}, nil
	}
	return nil, nil
}

// checkLink checks r against its predecessor (prevSeq, prevHash); matches
// says whether r's content matches its hash.
func checkLink(ctx context.Context, d *db.DB, r *row, prevSeq int64, prevHash string, matches bool) (*Break, error) {
	if r.Seq != prevSeq+1 {
		return &Break{Seq: r.Seq, Kind: Deleted, Detail: fmt.Sprintf("seq %d to %d missing", prevSeq+1, r.Seq-1)}, nil
	}
	if matches && r.PrevHash == prevHash {
		return nil, nil
	}
	if r.PrevHash == prevHash {
		return &Break{Seq: r.Seq, Kind: Edited, Detail: "content does not match its hash"}, nil
	}
	// The chain is cut before r: r was moved (its predecessor is elsewhere)
	// or its predecessor is gone.
	var s int64
	err := d.QueryRow(ctx, `SELECT seq FROM audit_event WHERE hash = ?`, r.PrevHash).Scan(&s)
	switch {
	case err == nil:
		return &Break{Seq: r.Seq, Kind: Reordered, Detail: fmt.Sprintf("row was chained after the row now at seq %d", s)}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("audit: verify: %w", err)
	case !matches:
		return &Break{Seq: r.Seq, Kind: Deleted, Detail: "content does not match its hash and the row it was chained to is gone (deleted, later rows renumbered)"}, nil
	case r.Seq == 1:
		return &Break{Seq: r.Seq, Kind: Deleted, Detail: "first row does not start from the genesis hash: earlier rows were deleted"}, nil
	}
	return &Break{Seq: r.Seq, Kind: Deleted, Detail: fmt.Sprintf("prev_hash does not match seq %d: the row it was chained to is gone", prevSeq)}, nil
}
