package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestOrphanBlobs(t *testing.T) {
	eachFixture(t, func(t *testing.T, ctx context.Context, f *fixture) {
		if _, err := f.a.Store(ctx, bytes.NewReader(part10(t, testInstance("1.9.1", "1.9.1.1", "1.9.1.1.1", "P", "", 2))), Source{Facility: "F"}); err != nil {
			t.Fatal(err)
		}
		// What a crash between publishing and indexing leaves: two blobs,
		// one old, one just written.
		publish := func(key string, age time.Duration) string {
			w, err := f.blobs.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = w.Write([]byte(key))
			if err := w.Commit(ctx, key); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(f.root, "objects", filepath.FromSlash(key))
			old := time.Now().Add(-age)
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
			return p
		}
		oldPath := publish("aa/bb/old.dcm", 48*time.Hour)
		newPath := publish("aa/bb/new.dcm", time.Minute)
		rep, err := f.a.Orphans(ctx, 24*time.Hour)
		if err != nil || len(rep.Old) != 1 || rep.Old[0] != "aa/bb/old.dcm" || rep.Recent != 1 {
			t.Fatalf("orphans %+v %v", rep, err)
		}
		if n, err := f.a.RemoveOrphans(ctx, rep); err != nil || n != 1 {
			t.Fatalf("removed %d %v", n, err)
		}
		if _, err := os.Stat(oldPath); !os.IsNotExist(err) {
			t.Error("old orphan still there")
		}
		if _, err := os.Stat(newPath); err != nil {
			t.Error("recent orphan removed")
		}
		if c, err := f.a.Check(ctx, true); err != nil || len(c.Missing)+len(c.Corrupt) != 0 {
			t.Fatalf("indexed instance damaged: %+v %v", c, err)
		}
	})
}
