package blob

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

func TestCommitOpenDelete(t *testing.T) {
	ctx := context.Background()
	d := tempDir(t)
	w, _ := d.Create(ctx)
	_, _ = w.Write([]byte("hello"))
	if err := w.Commit(ctx, "ab/cd/abcdef"); err != nil {
		t.Fatal(err)
	}
	_ = w.Abort() // after commit: no-op
	o, err := d.Open(ctx, "ab/cd/abcdef")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(o)
	size := o.Size() // a folder store's object learns its size when asked, while open
	o.Close()
	if string(b) != "hello" || size != 5 {
		t.Fatalf("got %q size %d", b, size)
	}
	// Same key again: kept, temp removed.
	w2, _ := d.Create(ctx)
	_, _ = w2.Write([]byte("hello"))
	if err := w2.Commit(ctx, "ab/cd/abcdef"); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(d.tmp); len(ents) != 0 {
		t.Errorf("temp files left: %v", ents)
	}
	if err := d.Delete(ctx, "ab/cd/abcdef"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "ab/cd/abcdef"); err == nil {
		t.Fatal("deleted blob opened")
	}
	for _, bad := range []string{"", "../x", "/etc/passwd"} {
		if _, err := d.Open(ctx, bad); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
}

func TestAbortRemovesTemp(t *testing.T) {
	ctx := context.Background()
	d := tempDir(t)
	w, _ := d.Create(ctx)
	_, _ = w.Write([]byte("x"))
	_ = w.Abort()
	if ents, _ := os.ReadDir(d.tmp); len(ents) != 0 {
		t.Errorf("temp files left: %v", ents)
	}
}

// A live process's temp folder survives another opener's cleanup; a dead
// one's is removed.
func TestCleanStaleRespectsLiveLocks(t *testing.T) {
	root := t.TempDir()
	live, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	// A named temporary file in flight (Create's fallback where there is
	// no O_TMPFILE).
	_ = os.WriteFile(filepath.Join(live.tmp, "blob-2"), []byte("in flight"), 0o640)

	// A dead process: a temp folder and a lock nobody holds.
	dead := filepath.Join(root, "tmp", "deadbeef")
	_ = os.MkdirAll(dead, 0o750)
	_ = os.WriteFile(filepath.Join(dead, "blob-1"), []byte("partial"), 0o640)
	_ = os.WriteFile(dead+".lock", nil, 0o640)

	n, err := CleanStale(root)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("removed %d files, want 1", n)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Error("dead temp folder kept")
	}
	if ents, _ := os.ReadDir(live.tmp); len(ents) != 1 {
		t.Errorf("live temp file removed: %v", ents)
	}
}

// A lock held by another process (flock is per open file description, so a
// child process holding it is the honest test).
func TestCleanStaleOtherProcess(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) not installed")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "tmp", "other")
	_ = os.MkdirAll(dir, 0o750)
	_ = os.WriteFile(filepath.Join(dir, "blob-1"), []byte("x"), 0o640)
	cmd := exec.Command("flock", dir+".lock", "sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	for range 100 {
		if _, err := os.Stat(dir + ".lock"); err == nil {
			break
		}
		exec.Command("sleep", "0.02").Run()
	}
	exec.Command("sleep", "0.1").Run()
	if n, _ := CleanStale(root); n != 0 {
		t.Fatalf("removed %d files of a live process", n)
	}
}

// tempDir opens a folder store in a test's temporary folder.
func tempDir(t *testing.T) *Dir {
	t.Helper()
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestConcurrentCommits: commits from many goroutines share folder fsyncs
// (dirFlusher) and each returns with its object published.
func TestConcurrentCommits(t *testing.T) {
	ctx := context.Background()
	d := tempDir(t)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			key := fmt.Sprintf("%02x/%02x/obj%d", i%4, i, i)
			w, err := d.Create(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = fmt.Fprintf(w, "object %d", i)
			if err := w.Commit(ctx, key); err != nil {
				t.Error(err)
				return
			}
			o, err := d.Open(ctx, key)
			if err != nil {
				t.Error(err)
				return
			}
			o.Close()
		})
	}
	wg.Wait()
	if d.flusher.ended == 0 || d.flusher.ended > 32 {
		t.Errorf("%d flush rounds for 32 commits", d.flusher.ended)
	}
}

// TestCreateUnnamed: a blob written through Create is published by Commit
// with no temporary file left, an existing key keeps its bytes, and an
// aborted one leaves nothing.
func TestCreateUnnamed(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, data := range []string{"first", "second", "aborted"} {
		w, err := d.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
		if data == "aborted" {
			err = w.Abort()
		} else {
			err = w.Commit(ctx, "ab/cd/x.dcm")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	o, err := d.Open(ctx, "ab/cd/x.dcm")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(o)
	o.Close()
	if string(got) != "first" {
		t.Fatalf("got %q, want the first bytes kept", got)
	}
	if tmp, _ := filepath.Glob(filepath.Join(d.tmp, "*")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}
