package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSHA256InstancesStillFound: an instance stored before BLAKE3 (its row
// and blob key under SHA-256) is still read, checked and recognised when
// the same bytes arrive again, and a changed copy is still a differing
// duplicate.
func TestSHA256InstancesStillFound(t *testing.T) {
	eachFixture(t, func(t *testing.T, ctx context.Context, f *fixture) {
		data := part10(t, testInstance("1.2.7", "1.2.7.1", "1.2.7.1.1", "P7", "", 8))
		res, err := f.a.Store(ctx, bytes.NewReader(data), Source{Facility: "F1"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Digest != Digest(data) || !strings.HasPrefix(res.Digest, blake3Prefix) {
			t.Fatalf("digest %q, want BLAKE3 %q", res.Digest, Digest(data))
		}
		// Turn it into what an older version stored.
		sum := sha256.Sum256(data)
		old := hex.EncodeToString(sum[:])
		objects := filepath.Join(f.root, "objects")
		from, to := filepath.Join(objects, BlobKey(res.Digest)), filepath.Join(objects, BlobKey(old))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		f.a.Close() // the journal publishes before the move
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Exec(ctx, "UPDATE instance SET sha256 = ?, blob_key = ? WHERE sop_uid = ?", old, BlobKey(old), "1.2.7.1.1"); err != nil {
			t.Fatal(err)
		}
		f.a = New(f.db, f.blobs, Options{Duplicates: KeepFirst})

		rep, err := f.a.Check(ctx, true)
		if err != nil || len(rep.Missing)+len(rep.Corrupt) != 0 {
			t.Fatalf("check: %+v %v", rep, err)
		}
		ref, err := f.a.Instance(ctx, "1.2.7.1.1")
		if err != nil || ref.SHA256 != old {
			t.Fatalf("instance: %+v %v", ref, err)
		}
		if !bytes.Equal(f.read(t, ctx, ref), data) {
			t.Fatal("the SHA-256 blob reads back different bytes")
		}
		again, err := f.a.Store(ctx, bytes.NewReader(data), Source{Facility: "F1"})
		if err != nil || again.Outcome != SameDuplicate {
			t.Fatalf("same bytes again: %+v %v", again, err)
		}
		changed := part10(t, testInstance("1.2.7", "1.2.7.1", "1.2.7.1.1", "P7", "", 10))
		if res, err := f.a.Store(ctx, bytes.NewReader(changed), Source{Facility: "F1"}); err != nil || res.Outcome != KeptFirst {
			t.Fatalf("changed bytes: %+v %v", res, err)
		}
		// The journal's replay restores a blob under either digest.
		if err := f.blobs.Delete(ctx, BlobKey(old)); err != nil {
			t.Fatal(err)
		}
		if ok, err := restore(f.blobs, old, data); err != nil || !ok {
			t.Fatalf("restore under SHA-256: %v %v", ok, err)
		}
		if ok, err := restore(f.blobs, old, data); err != nil || ok {
			t.Fatalf("an intact SHA-256 blob was rewritten: %v %v", ok, err)
		}
	})
}
