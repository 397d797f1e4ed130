package blob

import (
	"bytes"
	"context"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// A folder store's object, wrapped for metrics or not, stays something
// net can sendfile from, from the position Seek left.
func TestDirObjectSendfile(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	data := random(200_000)
	w, _ := d.Create(ctx)
	_, _ = w.Write(data)
	if err := w.Commit(ctx, "se/nd/file"); err != nil {
		t.Fatal(err)
	}
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
			if _, err := o.Seek(1000, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			n, err := c.(*net.TCPConn).ReadFrom(&io.LimitedReader{R: o, N: 150_000})
			c.Close()
			if err != nil || n != 150_000 {
				t.Fatalf("ReadFrom = %d, %v", n, err)
			}
			if b := <-got; !bytes.Equal(b, data[1000:151_000]) {
				t.Fatalf("sent %d bytes, not the blob's", len(b))
			}
		})
	}
}

func TestDirObjectClose(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	w, _ := d.Create(ctx)
	_, _ = w.Write([]byte("bytes"))
	if err := w.Commit(ctx, "cl/os/ed"); err != nil {
		t.Fatal(err)
	}
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
