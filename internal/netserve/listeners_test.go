package netserve

import (
	"errors"
	"net"
	"testing"
)

func TestListenersCloseStopsAccept(t *testing.T) {
	var ls Listeners
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !ls.Add(l) {
		t.Fatal("Add refused before Close")
	}
	done := make(chan error, 1)
	go func() { _, err := l.Accept(); done <- err }()
	ls.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if ls.Add(l2) {
		t.Fatal("Add accepted after Close")
	}
	ls.Remove(l) // closing twice is harmless
}
