package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// sendfileCheck sends n bytes of o from off over TCP as net/http does
// (ReadFrom of a LimitedReader) and checks they are data's.
func sendfileCheck(t *testing.T, o Object, data []byte, off, n int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(c)
		c.Close()
		got <- b
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Seek(off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	m, err := c.(*net.TCPConn).ReadFrom(&io.LimitedReader{R: o, N: n})
	c.Close()
	if err != nil || m != n {
		t.Fatalf("ReadFrom = %d, %v", m, err)
	}
	if b := <-got; !bytes.Equal(b, data[off:off+n]) {
		t.Fatalf("sent %d bytes, not the blob's", len(b))
	}
}

// A folder store's object, wrapped for metrics or not, stays something
// net can sendfile from, from the position Seek left.
func TestDirObjectSendfile(t *testing.T) {
	ctx := context.Background()
	d := tempDir(t)
	data := random(200_000)
	commit(t, d, "se/nd/file", data)
	for name, s := range map[string]Store{"dir": d, "instrumented": Instrumented(d, func(string, time.Duration, error) {})} {
		t.Run(name, func(t *testing.T) {
			o, err := s.Open(ctx, "se/nd/file")
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			if _, ok := o.(syscall.Conn); !ok {
				t.Fatalf("%T is no syscall.Conn: no sendfile", o)
			}
			if o.Size() != int64(len(data)) {
				t.Fatalf("size %d", o.Size())
			}
			sendfileCheck(t, o, data, 1000, 150_000)
		})
	}
}

func TestDirObjectClose(t *testing.T) {
	ctx := context.Background()
	d := tempDir(t)
	commit(t, d, "cl/os/ed", []byte("bytes"))
	o, err := d.Open(ctx, "cl/os/ed")
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	// The descriptor's number may name another file by now.
	if err := o.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := o.ReadAt(make([]byte, 1), 0); err == nil {
		t.Fatal("read after Close succeeded")
	}
	if _, err := o.Read(make([]byte, 1)); err == nil {
		t.Fatal("read after Close succeeded")
	}
}

// Small blobs are read from cached bytes, each object with its own
// offset; a deleted or retired blob is not served from them, and a full
// cache drops its oldest.
func TestDirFileCache(t *testing.T) {
	ctx := context.Background()
	d := tempDir(t)
	small := random(8000)
	commit(t, d, "sm/al/l1", small)
	commit(t, d, "sm/al/l2", small[:100])
	a, err := d.Open(ctx, "sm/al/l1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Open(ctx, "sm/al/l1")
	if err != nil {
		t.Fatal(err)
	}
	if &a.(*memObject).b[0] != &b.(*memObject).b[0] {
		t.Fatal("second open of a small blob did not share the cached bytes")
	}
	if _, err := a.Seek(10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	ra, _ := io.ReadAll(a)
	rb, _ := io.ReadAll(b)
	if !bytes.Equal(ra, small[10:]) || !bytes.Equal(rb, small) {
		t.Fatal("objects on one cached blob read each other's offsets")
	}
	a.Close()
	b.Close()
	if a.Size() != 8000 {
		t.Fatalf("size after Close %d", a.Size())
	}
	if _, err := a.ReadAt(make([]byte, 1), 0); err == nil {
		t.Fatal("read after Close succeeded")
	}
	if err := d.Delete(ctx, "sm/al/l1"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "sm/al/l1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open after Delete: %v", err)
	}
	o, _ := d.Open(ctx, "sm/al/l2")
	o.Close()
	if err := d.Retire(ctx, "sm/al/l2"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "sm/al/l2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open after Retire: %v", err)
	}

	// Bounded by count: the oldest goes, its readers keep their bytes.
	defer func(v time.Duration) { minResidence = v }(minResidence)
	minResidence = 0
	c := &d.files
	commit(t, d, "ol/de/st", small)
	oldest, _ := d.Open(ctx, "ol/de/st")
	putAndRead(t, d, "fi/ll/", maxCached, func(i int) []byte { return small[:i%100+1] })
	c.mu.Lock()
	_, kept := c.byKey[d.objects+"/ol/de/st"]
	size := len(c.byKey)
	c.mu.Unlock()
	if kept || size > maxCached {
		t.Fatalf("oldest kept %v, %d cached of %d", kept, size, maxCached)
	}
	if p, err := io.ReadAll(oldest); err != nil || !bytes.Equal(p, small) {
		t.Fatalf("a dropped blob's reader: %v", err)
	}
	oldest.Close()

	// A full cache whose entries are all younger than minResidence takes
	// no newcomer: it is read from its file.
	minResidence = time.Hour
	commit(t, d, "ne/wc/omer", small)
	o, err = d.Open(ctx, "ne/wc/omer")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(o); !bytes.Equal(got, small) {
		t.Fatal("newcomer's bytes")
	}
	o.Close()
	if _, ok := o.(*fileObject); !ok {
		t.Fatalf("newcomer to a full cache of young entries: %T", o)
	}
	c.mu.Lock()
	_, cached := c.byKey[d.objects+"/ne/wc/omer"]
	_, first := c.byKey[d.objects+"/fi/ll/0"]
	c.mu.Unlock()
	if cached || !first {
		t.Fatalf("newcomer cached %v, oldest entry kept %v", cached, first)
	}
	minResidence = 0

	// And by bytes.
	big := random(cacheBelow - 1)
	putAndRead(t, d, "by/te/", maxCachedBytes/len(big)+10, func(int) []byte { return big })
	c.mu.Lock()
	held := 0
	for _, f := range c.byKey {
		held += len(f.data)
	}
	ok := held == c.bytes && held <= maxCachedBytes && held > maxCachedBytes-2*cacheBelow
	c.mu.Unlock()
	if !ok {
		t.Fatalf("%d bytes cached (%d counted), bound %d", held, c.bytes, maxCachedBytes)
	}
}

// A blob deleted, retired (renamed away) or replaced by another process
// (another node on the same folder, the lightbox CLI) is not served from
// the cache once revalidateAfter has passed since it was last checked.
func TestDirFileCacheSeesOtherProcess(t *testing.T) {
	ctx := context.Background()
	d := tempDir(t)
	other, err := OpenDir(d.root) // another process's view of the folder
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	small := random(5000)
	for _, k := range []string{"ot/he/r1", "ot/he/r2", "ot/he/r3"} {
		commit(t, d, k, small)
		o, err := d.Open(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		o.Close()
	}
	if err := other.Delete(ctx, "ot/he/r1"); err != nil {
		t.Fatal(err)
	}
	if err := other.Retire(ctx, "ot/he/r2"); err != nil {
		t.Fatal(err)
	}
	// Replaced: new file, same key (the bytes are the same when keys name
	// their content; the cache does not rely on it).
	if err := other.Delete(ctx, "ot/he/r3"); err != nil {
		t.Fatal(err)
	}
	commit(t, other, "ot/he/r3", small[:4000])

	// Within the window a hit is not checked.
	defer func(v time.Duration) { revalidateAfter = v }(revalidateAfter)
	revalidateAfter = time.Hour
	if o, err := d.Open(ctx, "ot/he/r1"); err != nil || o.Size() != 5000 {
		t.Fatalf("hit within the window: %v", err)
	}
	revalidateAfter = 0
	for _, k := range []string{"ot/he/r1", "ot/he/r2"} {
		if _, err := d.Open(ctx, k); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s removed by another process: %v", k, err)
		}
	}
	o, err := d.Open(ctx, "ot/he/r3")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(o); !bytes.Equal(got, small[:4000]) {
		t.Fatalf("replaced blob read %d bytes of the old file", len(got))
	}
	// Still there: served, and cached again.
	for range 2 {
		if o, err := d.Open(ctx, "ot/he/r3"); err != nil || o.Size() != 4000 {
			t.Fatalf("unchanged blob: %v", err)
		}
	}
}

// A blob from cacheBelow up gets a descriptor of its own, to sendfile.
func TestDirLargeBlobOwnDescriptor(t *testing.T) {
	ctx := context.Background()
	d := tempDir(t)
	commit(t, d, "la/rg/e", random(cacheBelow))
	o, err := d.Open(ctx, "la/rg/e")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, ok := o.(*fileObject); !ok {
		t.Fatalf("%T", o)
	}
}

func commit(t *testing.T, s Store, key string, data []byte) {
	t.Helper()
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(data)
	if err := w.Commit(context.Background(), key); err != nil {
		t.Fatal(err)
	}
}

// Readers of the same small blobs on many goroutines, while some are
// deleted and stored again, read whole blobs or a not-found (run with
// -race).
func TestDirFileCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	d := tempDir(t)
	data := random(4000)
	for i := range 8 {
		commit(t, d, "co/nc/"+strconv.Itoa(i), data)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			p := make([]byte, len(data))
			for i := range 200 {
				key := "co/nc/" + strconv.Itoa((g+i)%8)
				if g == 0 && i%10 == 0 {
					_ = d.Delete(ctx, key)
					_ = d.PutUnsynced(key, data)
					continue
				}
				o, err := d.Open(ctx, key)
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := o.ReadAt(p, 0); err != nil || !bytes.Equal(p, data) {
					t.Errorf("read %s: %v", key, err)
				}
				o.Close()
			}
		})
	}
	wg.Wait()
}

// putAndRead publishes n blobs under prefix with the bytes of data(i) and
// reads each once, so that the cache takes them.
func putAndRead(t *testing.T, d *Dir, prefix string, n int, data func(int) []byte) {
	t.Helper()
	for i := range n {
		key := prefix + strconv.Itoa(i)
		if err := d.PutUnsynced(key, data(i)); err != nil {
			t.Fatal(err)
		}
		o, err := d.Open(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		o.Close()
	}
}
