package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// writePack lays out blobs in a pack as the archive's journal does: each
// record from a PackAlign boundary, a header in front of the bytes, and
// returns their keys.
func writePack(t *testing.T, d *Dir, name string, blobs ...[]byte) (keys []string, f *os.File) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(PacksDir(d.Root()), name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var off int64
	for _, b := range blobs {
		hdr := bytes.Repeat([]byte{'h'}, 100)
		pad := make([]byte, (PackAlign-(off+int64(len(hdr)+len(b)))%PackAlign)%PackAlign)
		for _, p := range [][]byte{hdr, b, pad} {
			if _, err := f.Write(p); err != nil {
				t.Fatal(err)
			}
		}
		keys = append(keys, PackKey(name, off+int64(len(hdr)), int64(len(b))))
		off += int64(len(hdr) + len(b) + len(pad))
	}
	return keys, f
}

// A pack blob reads as a blob of its own (Read, ReadAt, Seek, bounded
// io.Copy and sendfile); deleting it punches its record out without
// touching its neighbours, and a sealed pack left empty goes.
func TestPackBlobs(t *testing.T) {
	ctx := context.Background()
	d := tempDir(t)
	blobs := [][]byte{random(300_000), random(530_000), random(5000)}
	keys, f := writePack(t, d, "p1.pack", blobs...)
	for i, key := range keys {
		o, err := d.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if o.Size() != int64(len(blobs[i])) {
			t.Fatalf("size %d, want %d", o.Size(), len(blobs[i]))
		}
		all, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(all, blobs[i]) {
			t.Fatalf("blob %d read back wrong (%d bytes, %v)", i, len(all), err)
		}
		p := make([]byte, 100)
		if n, err := o.ReadAt(p, o.Size()-50); n != 50 || err != io.EOF || !bytes.Equal(p[:50], blobs[i][len(blobs[i])-50:]) {
			t.Fatalf("ReadAt past the end: %d, %v", n, err)
		}
		if _, err := o.Seek(10, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if n, err := io.Copy(&buf, o); err != nil || n != o.Size()-10 || !bytes.Equal(buf.Bytes(), blobs[i][10:]) {
			t.Fatalf("io.Copy: %d, %v", n, err)
		}
		if _, ok := o.(syscall.Conn); !ok {
			t.Fatalf("%T is no syscall.Conn: no sendfile", o)
		}
		sendfileCheck(t, o, blobs[i], 7, o.Size()-7)
		// After a sendfile, reads go by the descriptor's position.
		if _, err := o.Seek(3, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if all, err := io.ReadAll(o); err != nil || !bytes.Equal(all, blobs[i][3:]) {
			t.Fatalf("read after sendfile: %d bytes, %v", len(all), err)
		}
		o.Close()
	}
	if err := d.Retire(ctx, keys[0]); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Retire of a pack blob: %v, want unsupported (delete at once)", err)
	}
	if err := d.Delete(ctx, keys[1]); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.Exists(ctx, keys[1]); ok || err != nil {
		t.Fatalf("deleted pack blob exists: %v", err)
	}
	if _, err := d.Open(ctx, keys[1]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open of a deleted pack blob: %v", err)
	}
	for _, i := range []int{0, 2} {
		o, err := d.Open(ctx, keys[i])
		if err != nil {
			t.Fatal(err)
		}
		all, _ := io.ReadAll(o)
		o.Close()
		if !bytes.Equal(all, blobs[i]) {
			t.Fatalf("neighbour %d damaged by the deletion", i)
		}
	}
	// Unsealed, an empty pack stays (its writer may append); sealed, it goes.
	if err := d.Delete(ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	if err := SealPack(f); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, keys[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(PacksDir(d.Root()), "p1.pack")); !os.IsNotExist(err) {
		t.Fatalf("sealed, emptied pack still there: %v", err)
	}
	for _, bad := range []string{"pack:../x@0+1", "pack:p1.pack@-1+3", "pack:p1.pack@1", "pack:@0+1"} {
		if _, err := d.Open(ctx, bad); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("key %q: %v, want invalid", bad, err)
		}
	}
}
