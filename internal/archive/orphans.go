package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lightbox/internal/blob"
	"lightbox/internal/db"
)

// OrphanReport lists published blobs no index row references: what a crash
// between publishing a blob and committing its rows leaves behind.
type OrphanReport struct {
	Old    []string // keys older than the grace period: safe to remove
	Recent int      // younger ones, possibly an ingest still committing
}

// referencedKeys are every blob key an index table names.
func (a *Archive) referencedKeys(ctx context.Context) (map[string]bool, error) {
	keys := map[string]bool{}
	for _, q := range []string{"SELECT blob_key FROM instance", "SELECT blob_key FROM instance_duplicate", "SELECT blob_key FROM instance_quarantine"} {
		rows, err := a.db.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("orphans: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("orphans: %w", err)
			}
			keys[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("orphans: %w", err)
		}
	}
	return keys, nil
}

// references counts the index rows naming a blob key.
func (a *Archive) references(ctx context.Context, key string) (int, error) {
	var refs int
	err := a.db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM instance WHERE blob_key = ?) + (SELECT COUNT(*) FROM instance_duplicate WHERE blob_key = ?)
		+ (SELECT COUNT(*) FROM instance_quarantine WHERE blob_key = ?)`, key, key, key).Scan(&refs)
	return refs, err
}

// Orphans finds unreferenced blobs; those published less than grace ago
// are only counted.
func (a *Archive) Orphans(ctx context.Context, grace time.Duration) (*OrphanReport, error) {
	l, ok := a.blobs.(blob.Lister)
	if !ok {
		return nil, errors.New("orphans: the blob store cannot list its objects")
	}
	keys, err := a.referencedKeys(ctx)
	if err != nil {
		return nil, err
	}
	rep := &OrphanReport{}
	cutoff := a.opt.Now().Add(-grace)
	visit := func(key string, published time.Time) error {
		switch {
		case keys[key]:
		case published.After(cutoff):
			rep.Recent++
		default:
			rep.Old = append(rep.Old, key)
		}
		return nil
	}
	err = l.Walk(ctx, visit)
	if local := unwrapLocal(a.blobs); err == nil && local != nil {
		err = walkPacks(ctx, local.Root(), visit)
	}
	if err != nil {
		return nil, fmt.Errorf("orphans: %w", err)
	}
	return rep, nil
}

// RemoveOrphans deletes the Old keys of a report that are still
// unreferenced, and returns how many blobs left their keys. They go through
// the deletion queue (DrainQueued) rather than a check and a delete here:
// the same bytes may be stored again at any moment, and only the queue's
// retire, check again and purge later is safe against that.
func (a *Archive) RemoveOrphans(ctx context.Context, rep *OrphanReport) (int, error) {
	now := a.opt.Now()
	for _, key := range rep.Old {
		if _, err := a.db.Exec(ctx, `INSERT INTO blob_delete (blob_key, queued_at) VALUES (?, ?) ON CONFLICT (blob_key) DO NOTHING`, key, db.Now(now)); err != nil {
			return 0, fmt.Errorf("remove orphans: %w", err)
		}
	}
	n, err := a.DrainQueued(ctx)
	if err != nil {
		return n, fmt.Errorf("remove orphans: %w", err)
	}
	return n, nil
}
