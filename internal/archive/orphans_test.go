package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lightbox/internal/blob"
	"lightbox/internal/db"
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

// Instances from packMin up on a folder store are packed: their journal record is
// their blob. Each reads back whole, here and on another node sharing the
// folder; the same instance sent again leaves a
// record no row names, which the orphan check finds in the pack and
// removes (a hole punched) without touching its neighbours; a checkpoint
// frees the rest of the segment and keeps the pack; the archive opened
// again reads every blob from it.
func TestPackedInstances(t *testing.T) {
	eachIO(t, func(t *testing.T, d *db.DB, opt Options) {
		ctx := context.Background()
		root := t.TempDir()
		a, b := openOn(t, d, root, opt)
		sent := map[string][]byte{}
		for i, rows := range []int{512, 4, 512, 400, 128} {
			data := part10(t, testInstance("1.11", "1.11.1", fmt.Sprintf("1.11.1.%d", i), "P11", "", rows))
			if _, err := a.Store(ctx, bytes.NewReader(data), Source{Facility: "F1"}); err != nil {
				t.Fatal(err)
			}
			sent[fmt.Sprintf("1.11.1.%d", i)] = data
		}
		checkDirect(t, a, root, opt)
		if res, err := a.Store(ctx, bytes.NewReader(sent["1.11.1.0"]), Source{Facility: "F1"}); err != nil || res.Outcome != SameDuplicate {
			t.Fatalf("sent again: %+v %v", res, err)
		}
		check := func(a *Archive) {
			t.Helper()
			for sop, want := range sent {
				ref, err := a.Instance(ctx, sop)
				if err != nil {
					t.Fatal(err)
				}
				if blob.IsPackKey(ref.BlobKey) != (len(want) >= packMin) {
					t.Errorf("%s: key %s for %d bytes", sop, ref.BlobKey, len(want))
				}
				if got := (&fixture{a: a}).read(t, ctx, ref); !bytes.Equal(got, want) {
					t.Fatalf("%s read back %d bytes, not what was sent", sop, len(got))
				}
			}
			if c, err := a.Check(ctx, true); err != nil || c.Instances != len(sent) || len(c.Missing)+len(c.Corrupt) != 0 {
				t.Fatalf("check: %+v %v", c, err)
			}
		}
		check(a)
		// Another node sharing the folder reads the live pack.
		other := New(d, mustOpenDir(t, root), Options{NoJournal: true})
		check(other)
		other.Close()
		rep, err := a.Orphans(ctx, -time.Hour) // everything counts as old
		if err != nil || len(rep.Old) != 1 || !blob.IsPackKey(rep.Old[0]) {
			t.Fatalf("orphans %+v %v, want the duplicate's packed record", rep, err)
		}
		if n, err := a.RemoveOrphans(ctx, rep); err != nil || n != 1 {
			t.Fatalf("removed %d %v", n, err)
		}
		if ok, _ := b.Exists(ctx, rep.Old[0]); ok {
			t.Error("removed orphan still there")
		}
		check(a)
		a.Close()
		b.Close()
		if left, _ := filepath.Glob(filepath.Join(root, "journal", "*", "*")); len(left) != 0 {
			t.Errorf("journal files after Close: %v", left)
		}
		packs, _ := filepath.Glob(filepath.Join(blob.PacksDir(root), "*"))
		if len(packs) != 1 {
			t.Fatalf("packs after Close: %v", packs)
		}
		a2, b2 := openOn(t, d, root, opt)
		defer func() { a2.Close(); b2.Close() }()
		check(a2)
		if rep, err := a2.Orphans(ctx, -time.Hour); err != nil || len(rep.Old) != 0 {
			t.Fatalf("orphans after the checkpoint %+v %v", rep, err)
		}
	})
}

func mustOpenDir(t *testing.T, root string) *blob.Dir {
	t.Helper()
	b, err := blob.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Past the budget for instances held in memory to be packed, a large one
// streams to a temporary blob and takes the per-file path instead.
func TestPackedBudget(t *testing.T) {
	eachIO(t, func(t *testing.T, d *db.DB, opt Options) {
		ctx := context.Background()
		root := t.TempDir()
		a, b := openOn(t, d, root, opt)
		defer func() { a.Close(); b.Close() }()
		f := &fixture{a: a, db: d, root: root, blobs: b}
		f.a.spooled.Add(packedBudget)
		data := part10(t, testInstance("1.12", "1.12.1", "1.12.1.1", "P12", "", 512))
		res, err := f.a.Store(ctx, bytes.NewReader(data), Source{Facility: "F1"})
		f.a.spooled.Add(-packedBudget)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := f.a.Instance(ctx, res.SOPInstanceUID)
		if err != nil || ref.BlobKey != BlobKey(res.Digest) {
			t.Fatalf("over the budget: key %v (%v), want the per-file path's", ref, err)
		}
		if got := f.read(t, ctx, ref); !bytes.Equal(got, data) {
			t.Fatal("read back wrong")
		}
		if n := f.a.spooled.Load(); n != 0 {
			t.Errorf("%d bytes left counted", n)
		}
	})
}

// errCut is the read error cutReader returns.
var errCut = errors.New("connection lost")

// cutReader returns data then errCut, as an association that breaks.
type cutReader struct{ r io.Reader }

func (c cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		err = errCut
	}
	return n, err
}

// Every way receive takes (an instance in memory, one packed, one past
// packMax streamed to a temporary blob) keeps a complete instance's bytes,
// keeps nothing of one whose read fails, and calls a cut one malformed;
// none leaves bytes counted against packedBudget.
func TestReceivePaths(t *testing.T) {
	eachFixture(t, func(t *testing.T, ctx context.Context, f *fixture) {
		for i, rows := range []int{8, 512, 3000} { // 128 B, 512 KiB, 17 MiB of pixels
			uid := fmt.Sprintf("1.13.1.%d", i)
			data := part10(t, testInstance("1.13", "1.13.1", uid, "P13", "", rows))
			half := bytes.NewReader(data[:len(data)/2])
			if _, err := f.a.Store(ctx, cutReader{half}, Source{Facility: "F1"}); !errors.Is(err, errCut) || errors.As(err, new(*InputError)) {
				t.Errorf("%d rows, read error: %v, want the reader's error", rows, err)
			}
			if _, err := f.a.Store(ctx, bytes.NewReader(data[:len(data)/2]), Source{Facility: "F1"}); !errors.As(err, new(*InputError)) {
				t.Errorf("%d rows, cut: %v, want an InputError", rows, err)
			}
			if ref, err := f.a.Instance(ctx, uid); err == nil {
				t.Fatalf("%d rows: failed stores kept %+v", rows, ref)
			}
			res, err := f.a.Store(ctx, bytes.NewReader(data), Source{Facility: "F1"})
			if err != nil {
				t.Fatalf("%d rows: %v", rows, err)
			}
			if res.Digest != Digest(data) {
				t.Errorf("%d rows: digest %s, want %s", rows, res.Digest, Digest(data))
			}
			ref, err := f.a.Instance(ctx, uid)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.read(t, ctx, ref); !bytes.Equal(got, data) {
				t.Errorf("%d rows: read back wrong", rows)
			}
			if n := f.a.spooled.Load(); n != 0 {
				t.Errorf("%d rows: %d bytes left counted", rows, n)
			}
		}
	})
}
