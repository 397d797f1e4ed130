package archive

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"lightbox/internal/blob"
	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

// TestJournaledCommitsObserved: instances the journal makes durable, packed
// or published later as files, are each reported as a blob "commit" (the
// ingest rate metric), as the per-file path's Commit is. A large
// duplicate sent again counts on both paths: its bytes are written again
// (a packed one's record is freed later, doc.go).
func TestJournaledCommitsObserved(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		var mu sync.Mutex
		commits := 0
		observe := func(op string, _ time.Duration, err error) {
			if op == "commit" && err == nil {
				mu.Lock()
				commits++
				mu.Unlock()
			}
		}
		for _, journal := range []bool{true, false} {
			dir, err := blob.OpenDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			a := New(d, blob.Instrumented(dir, observe), Options{NoJournal: !journal})
			if (a.journal != nil) != journal {
				t.Fatalf("journal %v: got %v", journal, a.journal != nil)
			}
			mu.Lock()
			commits = 0
			mu.Unlock()
			study := map[bool]string{true: "1.31", false: "1.32"}[journal]
			small := part10(t, testInstance(study, study+".1", study+".1.1", "P31", "", 8))    // journaled, published as a file
			packed := part10(t, testInstance(study, study+".1", study+".1.2", "P31", "", 128)) // 32 KB: packed with a journal
			for _, b := range [][]byte{small, packed, packed} {
				if _, err := a.Store(ctx, bytes.NewReader(b), Source{Facility: "F1"}); err != nil {
					t.Fatal(err)
				}
			}
			a.Close()
			dir.Close()
			mu.Lock()
			if commits != 3 {
				t.Errorf("journal %v: %d commits observed, want 3", journal, commits)
			}
			mu.Unlock()
		}
	})
}
