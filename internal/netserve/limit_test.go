package netserve

import (
	"net"
	"testing"
	"time"
)

func TestLimit(t *testing.T) {
	l := &Limit{Total: 3, PerPeer: 2}
	r1, ok1 := l.Acquire("a")
	_, ok2 := l.Acquire("a")
	_, ok3 := l.Acquire("a")
	_, ok4 := l.Acquire("b")
	_, ok5 := l.Acquire("c")
	if !ok1 || !ok2 || ok3 || !ok4 || ok5 {
		t.Fatalf("%v %v %v %v %v", ok1, ok2, ok3, ok4, ok5)
	}
	r1()
	r1() // released once only
	if n, a := l.Count("a"); n != 2 || a != 1 {
		t.Fatalf("count %d %d", n, a)
	}
	if _, ok := l.Acquire("c"); !ok {
		t.Fatal("slot not released")
	}
}

// TestListener: connections over the per-peer cap are closed at once, and
// a closed connection frees its slot.
func TestListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan net.Addr, 4)
	ln := &Listener{Listener: inner, Limit: &Limit{PerPeer: 1}, OnRefuse: func(a net.Addr) { refused <- a }}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	c1, _ := net.Dial("tcp", inner.Addr().String())
	defer c1.Close()
	s1 := <-accepted
	c2, _ := net.Dial("tcp", inner.Addr().String())
	defer c2.Close()
	<-refused
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Fatal("second connection from the same peer was kept")
	}
	s1.Close()
	c3, _ := net.Dial("tcp", inner.Addr().String())
	defer c3.Close()
	(<-accepted).Close()
}
