package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lightbox/internal/blob/blobtest"
)

// The contract every Store keeps, run unchanged against each backend.
func storeSuite(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	put := func(t *testing.T, s Store, key string, data []byte) {
		t.Helper()
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Several writes, as the archive streams a parse.
		for chunk := range slices(data, 100_000) {
			if _, err := w.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Commit(ctx, key); err != nil {
			t.Fatal(err)
		}
		_ = w.Abort() // after Commit: no-op
	}
	get := func(t *testing.T, s Store, key string) []byte {
		t.Helper()
		o, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		b, err := io.ReadAll(o)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != o.Size() {
			t.Fatalf("read %d bytes, Size %d", len(b), o.Size())
		}
		return b
	}

	t.Run("CommitOpenDelete", func(t *testing.T) {
		s := open(t)
		put(t, s, "ab/cd/abcdef", []byte("hello"))
		if got := get(t, s, "ab/cd/abcdef"); string(got) != "hello" {
			t.Fatalf("got %q", got)
		}
		if ok, err := s.Exists(ctx, "ab/cd/abcdef"); !ok || err != nil {
			t.Fatalf("Exists = %v, %v", ok, err)
		}
		put(t, s, "ab/cd/abcdef", []byte("hello")) // same key again: kept
		if err := s.Delete(ctx, "ab/cd/abcdef"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(ctx, "ab/cd/abcdef"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted blob: err %v, want ErrNotFound", err)
		}
		if ok, err := s.Exists(ctx, "ab/cd/abcdef"); ok || err != nil {
			t.Fatalf("Exists after delete = %v, %v", ok, err)
		}
		if err := s.Delete(ctx, "ab/cd/abcdef"); err != nil {
			t.Fatalf("deleting an absent blob: %v", err)
		}
		for _, bad := range []string{"", "../x", "/etc/passwd"} {
			if _, err := s.Open(ctx, bad); err == nil {
				t.Errorf("key %q accepted", bad)
			}
		}
	})

	t.Run("AbortPublishesNothing", func(t *testing.T) {
		s := open(t)
		w, _ := s.Create(ctx)
		_, _ = w.Write([]byte("x"))
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.Exists(ctx, "ab/cd/aborted"); ok {
			t.Fatal("aborted blob published")
		}
	})

	t.Run("EmptyBlob", func(t *testing.T) {
		s := open(t)
		put(t, s, "00/00/empty", nil)
		if got := get(t, s, "00/00/empty"); len(got) != 0 {
			t.Fatalf("got %d bytes", len(got))
		}
	})

	// Frames are read by offset: exact ranges, in any order, and runs of
	// consecutive reads; plus Seek.
	t.Run("RangedReads", func(t *testing.T) {
		s := open(t)
		data := random(3<<20 + 17)
		put(t, s, "ra/ng/ed", data)
		o, err := s.Open(ctx, "ra/ng/ed")
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		for _, r := range [][2]int64{{1 << 20, 4096}, {0, 10}, {10, 70_000}, {70_010, 1}, {int64(len(data)) - 5, 5}, {5, 1 << 20}} {
			p := make([]byte, r[1])
			n, err := o.ReadAt(p, r[0])
			if err != nil || int64(n) != r[1] || !bytes.Equal(p, data[r[0]:r[0]+r[1]]) {
				t.Fatalf("ReadAt(%d, %d) = %d, %v", r[0], r[1], n, err)
			}
		}
		p := make([]byte, 10)
		if n, err := o.ReadAt(p, int64(len(data))-4); n != 4 || err != io.EOF {
			t.Fatalf("ReadAt past the end = %d, %v; want 4, EOF", n, err)
		}
		if _, err := o.Seek(-100, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		tail, _ := io.ReadAll(o)
		if !bytes.Equal(tail, data[len(data)-100:]) {
			t.Fatal("Seek+Read tail differs")
		}
	})

	// Larger than the S3 part size: a multipart upload.
	t.Run("Large", func(t *testing.T) {
		s := open(t)
		data := random(11<<20 + 3)
		put(t, s, "la/rg/e", data)
		if got := get(t, s, "la/rg/e"); !bytes.Equal(got, data) {
			t.Fatal("large blob differs")
		}
	})

	// Retire/Restore/Purge (deletion with a way back, see Retirer), also
	// through the wrappers the server puts around a store; a reader that
	// opened the object before it was retired finishes reading it.
	t.Run("Retire", func(t *testing.T) {
		plain := open(t)
		enc, err := NewEncrypted(open(t), Keyring{Current: "k1", Keys: map[string][]byte{"k1": NewKey()}})
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range map[string]Store{"plain": plain, "encrypted": enc, "instrumented": Instrumented(plain, func(string, time.Duration, error) {})} {
			t.Run(name, func(t *testing.T) {
				r := s.(Retirer)
				key := "re/ti/red-" + name
				data := random(200_003)
				put(t, s, key, data)
				reading, err := s.Open(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				defer reading.Close()
				head := make([]byte, 1000)
				if _, err := reading.ReadAt(head, 0); err != nil {
					t.Fatal(err)
				}
				if err := r.Retire(ctx, key); err != nil {
					t.Fatal(err)
				}
				if ok, err := s.Exists(ctx, key); ok || err != nil {
					t.Fatalf("Exists after Retire = %v, %v", ok, err)
				}
				if err := r.Retire(ctx, key); !errors.Is(err, ErrNotFound) {
					t.Fatalf("Retire of an absent key: %v, want ErrNotFound", err)
				}
				tail := make([]byte, 5000)
				if _, err := reading.ReadAt(tail, 150_000); err != nil || !bytes.Equal(tail, data[150_000:155_000]) {
					t.Fatalf("reading a retired object: %v", err)
				}
				if err := r.Restore(ctx, key); err != nil {
					t.Fatal(err)
				}
				if got := get(t, s, key); !bytes.Equal(got, data) {
					t.Fatal("restored blob differs")
				}
				if err := r.Restore(ctx, key); !errors.Is(err, ErrNotFound) {
					t.Fatalf("Restore without a retired copy: %v, want ErrNotFound", err)
				}
				// Published again while retired: Restore keeps the bytes.
				if err := r.Retire(ctx, key); err != nil {
					t.Fatal(err)
				}
				put(t, s, key, data)
				if err := r.Restore(ctx, key); err != nil {
					t.Fatal(err)
				}
				if got := get(t, s, key); !bytes.Equal(got, data) {
					t.Fatal("blob restored over a new copy differs")
				}
				// Retired, then purged: gone for good.
				if err := r.Retire(ctx, key); err != nil {
					t.Fatal(err)
				}
				if err := r.Purge(ctx, key); err != nil {
					t.Fatal(err)
				}
				if err := r.Purge(ctx, key); err != nil {
					t.Fatalf("purging twice: %v", err)
				}
				if err := r.Restore(ctx, key); !errors.Is(err, ErrNotFound) {
					t.Fatalf("Restore after Purge: %v, want ErrNotFound", err)
				}
				if ok, _ := s.Exists(ctx, key); ok {
					t.Fatal("purged blob still published")
				}
			})
		}
	})

	// At-rest encryption wraps any store.
	t.Run("Encrypted", func(t *testing.T) {
		e, err := NewEncrypted(open(t), Keyring{Current: "k1", Keys: map[string][]byte{"k1": NewKey()}})
		if err != nil {
			t.Fatal(err)
		}
		data := random(300_001)
		put(t, e, "en/cr/ypted", data)
		if got := get(t, e, "en/cr/ypted"); !bytes.Equal(got, data) {
			t.Fatal("encrypted round trip differs")
		}
		o, _ := e.Open(ctx, "en/cr/ypted")
		defer o.Close()
		p := make([]byte, 1000)
		if _, err := o.ReadAt(p, 200_000); err != nil || !bytes.Equal(p, data[200_000:201_000]) {
			t.Fatalf("encrypted ReadAt: %v", err)
		}
	})
}

func slices(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			k := min(n, len(b))
			if !yield(b[:k]) {
				return
			}
			b = b[k:]
		}
	}
}

func random(n int) []byte {
	r := rand.NewChaCha8([32]byte{byte(n)})
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b
}

func TestStoreDir(t *testing.T) {
	storeSuite(t, func(t *testing.T) Store {
		return tempDir(t)
	})
}

func TestStoreS3(t *testing.T) {
	srv := blobtest.Start(t)
	srv.SetEnv(t)
	// Plain, and asking the server to encrypt (SSE-S3) as well.
	for name, extra := range map[string]string{"plain": "", "sse": "&sse=s3"} {
		t.Run(name, func(t *testing.T) {
			storeSuite(t, func(t *testing.T) Store {
				s, err := Open(srv.URL(srv.Bucket(t), t.TempDir()) + "&part-size=5242880" + extra)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			})
		})
	}
}

// Throttling and 5xx answers are retried (with backoff); refusals are not.
func TestS3Retries(t *testing.T) {
	srv := blobtest.Start(t)
	srv.SetEnv(t)
	bucket := srv.Bucket(t)
	target, _ := url.Parse("http://" + srv.Endpoint)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var failNext, status atomic.Int32
	var seen atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if failNext.Add(-1) >= 0 {
			w.WriteHeader(int(status.Load()))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	u := strings.Replace(srv.URL(bucket, t.TempDir()), srv.Endpoint, strings.TrimPrefix(front.URL, "http://"), 1)
	s, err := OpenS3(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.sleep = func(context.Context, time.Duration) error { return nil }

	status.Store(http.StatusServiceUnavailable)
	failNext.Store(3)
	w, _ := s.Create(context.Background())
	_, _ = w.Write([]byte("retried"))
	if err := w.Commit(context.Background(), "re/tr/ied"); err != nil {
		t.Fatalf("commit through three 503s: %v", err)
	}
	if ok, _ := s.Exists(context.Background(), "re/tr/ied"); !ok {
		t.Fatal("blob missing after retried upload")
	}

	status.Store(http.StatusForbidden)
	failNext.Store(1)
	seen.Store(0)
	if _, err := s.Exists(context.Background(), "re/tr/ied"); err == nil {
		t.Fatal("403 not reported")
	}
	if n := seen.Load(); n != 1 {
		t.Fatalf("a 403 was tried %d times, want once", n)
	}
}

func TestParseS3URL(t *testing.T) {
	t.Setenv("LIGHTBOX_S3_ACCESS_KEY_ID", "")
	t.Setenv("LIGHTBOX_S3_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("LIGHTBOX_S3_CREDENTIALS", "")
	if _, err := ParseS3URL("s3://AK:SK@bucket?endpoint=h:1"); err == nil || !strings.Contains(err.Error(), "never go in the URL") {
		t.Fatalf("credentials in the URL accepted: %v", err)
	}
	if _, err := ParseS3URL("s3://bucket?endpoint=h:1"); err == nil {
		t.Fatal("no credentials accepted")
	}
	file := filepath.Join(t.TempDir(), "creds")
	_ = os.WriteFile(file, []byte("[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n"), 0o600)
	o, err := ParseS3URL("s3://bucket/p/q?endpoint=h:1&secure=false&sse=s3&part-size=8388608&credentials=" + file)
	if err != nil {
		t.Fatal(err)
	}
	if o.Bucket != "bucket" || o.Prefix != "p/q" || o.AccessKey != "AK" || o.SecretKey != "SK" || o.Secure || !o.PathStyle || o.SSE != "s3" || o.PartSize != 8<<20 {
		t.Fatalf("parsed %+v", o)
	}
	t.Setenv("LIGHTBOX_S3_ACCESS_KEY_ID", "EA")
	t.Setenv("LIGHTBOX_S3_SECRET_ACCESS_KEY", "ES")
	for _, bad := range []string{"s3://b?part-size=1024", "s3://b?sse=kms", "s3://b?sse=rot13", "s3://b?retries=-1", "file:/x"} {
		if _, err := ParseS3URL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if o, _ := ParseS3URL("s3://b"); o.AccessKey != "EA" || o.PathStyle || !o.Secure {
		t.Fatalf("environment credentials / AWS defaults: %+v", o)
	}
}
