package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newEncTest(t *testing.T, kr Keyring) (*Dir, *Encrypted) {
	t.Helper()
	d := tempDir(t)
	e, err := NewEncrypted(d, kr)
	if err != nil {
		t.Fatal(err)
	}
	return d, e
}

func putEnc(t *testing.T, s Store, data []byte, writeSize int) string {
	t.Helper()
	ctx := context.Background()
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for p := data; len(p) > 0; {
		k := min(len(p), writeSize)
		if _, err := w.Write(p[:k]); err != nil {
			t.Fatal(err)
		}
		p = p[k:]
	}
	h := sha256.Sum256(data)
	key := hex.EncodeToString(h[:])
	if err := w.Commit(ctx, key); err != nil {
		t.Fatal(err)
	}
	return key
}

func TestEncryptedRoundTrip(t *testing.T) {
	ctx := context.Background()
	d, e := newEncTest(t, Keyring{Current: "k1", Keys: map[string][]byte{"k1": NewKey()}})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, 1<<20 + 7} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		key := putEnc(t, e, data, 1000+size%7)
		raw, err := os.ReadFile(filepath.Join(d.objects, key))
		if err != nil {
			t.Fatal(err)
		}
		if size > 16 && bytes.Contains(raw, data[:16]) {
			t.Fatalf("size %d: plaintext visible at rest", size)
		}
		o, err := e.Open(ctx, key)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if o.Size() != int64(size) {
			t.Fatalf("size %d: Size %d", size, o.Size())
		}
		got, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read %d bytes, err %v", size, len(got), err)
		}
		for range 50 {
			if size == 0 {
				break
			}
			off := rng.IntN(size)
			n := rng.IntN(min(size-off, 200<<10) + 1)
			buf := make([]byte, n)
			m, err := o.ReadAt(buf, int64(off))
			if m != n || (err != nil && !(err == io.EOF && off+n == size)) || !bytes.Equal(buf, data[off:off+n]) {
				t.Fatalf("size %d ReadAt(%d, %d) = %d, %v", size, n, off, m, err)
			}
		}
		// Past the end: EOF with the bytes that exist.
		buf := make([]byte, 10)
		if m, err := o.ReadAt(buf, int64(size)-3); size >= 3 && (m != 3 || err != io.EOF) {
			t.Fatalf("ReadAt at end: %d %v", m, err)
		}
		// Seek then Read.
		if size > 100 {
			if _, err := o.Seek(-100, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			tail, _ := io.ReadAll(o)
			if !bytes.Equal(tail, data[size-100:]) {
				t.Fatal("seek+read mismatch")
			}
		}
		o.Close()
	}
}

func TestEncryptedTamperTruncate(t *testing.T) {
	ctx := context.Background()
	d, e := newEncTest(t, Keyring{Current: "k1", Keys: map[string][]byte{"k1": NewKey()}})
	data := bytes.Repeat([]byte("lightbox pixel data "), 10000) // ~200 KB, 4 chunks
	key := putEnc(t, e, data, 4096)
	path := filepath.Join(d.objects, key)
	orig, _ := os.ReadFile(path)
	readAll := func() error {
		o, err := e.Open(ctx, key)
		if err != nil {
			return err
		}
		defer o.Close()
		_, err = io.ReadAll(o)
		return err
	}
	if err := readAll(); err != nil {
		t.Fatal(err)
	}
	for _, pos := range []int{10, 60, 70, len(orig) / 2, len(orig) - 1} {
		bad := bytes.Clone(orig)
		bad[pos] ^= 0x01
		_ = os.WriteFile(path, bad, 0o600)
		if err := readAll(); err == nil {
			t.Fatalf("tampered byte %d not detected", pos)
		}
	}
	hlen := 7 + 2 + encSaltLen + encPrefixLen
	for _, n := range []int{len(orig) - 1, len(orig) - 17, hlen + (64<<10 + 16), hlen + 2*(64<<10+16), hlen, 20, 0} {
		_ = os.WriteFile(path, orig[:n], 0o600)
		err := readAll()
		if err == nil {
			t.Fatalf("truncation to %d not detected", n)
		}
		if n >= hlen && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncation to %d: %v", n, err)
		}
	}
	// Chunks swapped.
	bad := bytes.Clone(orig)
	c := 64<<10 + 16
	copy(bad[hlen:hlen+c], orig[hlen+c:hlen+2*c])
	copy(bad[hlen+c:hlen+2*c], orig[hlen:hlen+c])
	_ = os.WriteFile(path, bad, 0o600)
	if err := readAll(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("swapped chunks: %v", err)
	}
}

func TestEncryptedRotationAndKeys(t *testing.T) {
	ctx := context.Background()
	d := tempDir(t)
	k1, k2 := NewKey(), NewKey()
	e1, err := NewEncrypted(d, Keyring{Current: "2026-01", Keys: map[string][]byte{"2026-01": k1}})
	if err != nil {
		t.Fatal(err)
	}
	old := putEnc(t, e1, []byte("written under the first key"), 5)
	e2, _ := NewEncrypted(d, Keyring{Current: "2026-07", Keys: map[string][]byte{"2026-01": k1, "2026-07": k2}})
	fresh := putEnc(t, e2, []byte("written under the second key"), 5)
	for key, want := range map[string]string{old: "written under the first key", fresh: "written under the second key"} {
		o, err := e2.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(o)
		o.Close()
		if string(b) != want {
			t.Fatalf("got %q", b)
		}
	}
	if id, _ := e2.KeyID(ctx, old); id != "2026-01" {
		t.Fatalf("KeyID %q", id)
	}
	// A store without the old key gives a clear error.
	e3, _ := NewEncrypted(d, Keyring{Current: "2026-07", Keys: map[string][]byte{"2026-07": k2}})
	if _, err := e3.Open(ctx, old); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "2026-01") {
		t.Fatalf("unknown key: %v", err)
	}
	// The same ID with a different key fails authentication.
	e4, _ := NewEncrypted(d, Keyring{Current: "2026-01", Keys: map[string][]byte{"2026-01": k2}})
	if _, err := e4.Open(ctx, old); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong key: %v", err)
	}
	// Plaintext blobs: refused unless allowed.
	w, _ := d.Create(ctx)
	_, _ = w.Write([]byte("legacy plaintext"))
	_ = w.Commit(ctx, "legacy")
	if _, err := e2.Open(ctx, "legacy"); err == nil {
		t.Fatal("plaintext accepted")
	}
	e5, _ := NewEncrypted(d, Keyring{Current: "2026-07", Keys: map[string][]byte{"2026-07": k2}, AllowPlaintext: true})
	o, err := e5.Open(ctx, "legacy")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(o)
	o.Close()
	if string(b) != "legacy plaintext" {
		t.Fatalf("legacy %q", b)
	}
	// Bad keyrings.
	for _, kr := range []Keyring{
		{Current: "x", Keys: map[string][]byte{"y": k1}},
		{Current: "x", Keys: map[string][]byte{"x": k1[:16]}},
		{Current: "a b", Keys: map[string][]byte{"a b": k1}},
	} {
		if _, err := NewEncrypted(d, kr); err == nil {
			t.Fatalf("keyring %+v accepted", kr.Current)
		}
	}
	// Abort leaves nothing.
	w2, _ := e2.Create(ctx)
	_, _ = w2.Write([]byte("x"))
	if err := w2.Abort(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	k := NewKey()
	raw := filepath.Join(dir, "raw")
	hx := filepath.Join(dir, "hex")
	bad := filepath.Join(dir, "bad")
	_ = os.WriteFile(raw, k, 0o600)
	_ = os.WriteFile(hx, []byte(hex.EncodeToString(k)+"\n"), 0o600)
	_ = os.WriteFile(bad, []byte("short"), 0o600)
	for _, p := range []string{raw, hx} {
		if got, err := LoadKey(p); err != nil || !bytes.Equal(got, k) {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if _, err := LoadKey(bad); err == nil {
		t.Fatal("bad key accepted")
	}
	if _, err := ParseKey(hex.EncodeToString(k)); err != nil {
		t.Fatal(err)
	}
}

func TestEncryptedConcurrentReadAt(t *testing.T) {
	ctx := context.Background()
	_, e := newEncTest(t, Keyring{Current: "k", Keys: map[string][]byte{"k": NewKey()}})
	data := make([]byte, 300<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	o, err := e.Open(ctx, putEnc(t, e, data, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for range 100 {
				off := rng.IntN(len(data) - 1000)
				buf := make([]byte, 1000)
				if _, err := o.ReadAt(buf, int64(off)); err != nil || !bytes.Equal(buf, data[off:off+1000]) {
					errs <- errors.New("concurrent ReadAt mismatch")
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
