package dimse

import (
	"io"
	"sync"
)

// dataPipe hands a data set from the association's reader goroutine to
// its consumer (StoreRequest.Data and the like) as io.Pipe did, except
// that the reader reads each PDV's bytes from the connection straight into
// the buffer the consumer's Read passes: the data set is not read into a
// PDU buffer first and copied out of it (that copy was ≈ 2% of the
// server's CPU per 526 KB C-STORE instance, perf, bench/README.md
// session 11).
type dataPipe struct {
	reqs  chan []byte   // a consumer's Read buffer, taken by transfer
	got   chan int      // how much transfer placed in it
	rdone chan struct{} // closed by CloseWithError: the consumer stopped
	wdone chan struct{} // closed by closeWrite: nothing more comes
	ronce sync.Once
	wonce sync.Once
	werr  error // what Read returns once wdone is closed
}

func newDataPipe() *dataPipe {
	return &dataPipe{reqs: make(chan []byte), got: make(chan int), rdone: make(chan struct{}), wdone: make(chan struct{})}
}

// Read waits for the reader goroutine to fill p with the data set's next
// bytes; io.EOF after its last, or the association's error.
func (d *dataPipe) Read(p []byte) (int, error) {
	// Data is only ever handed over before wdone is closed (by the reader
	// goroutine itself, or by end once the association failed): checking
	// it first loses nothing and stops a failed association's reads.
	select {
	case <-d.wdone:
		return 0, d.werr
	case <-d.rdone:
		return 0, io.ErrClosedPipe
	default:
	}
	if len(p) == 0 {
		return 0, nil
	}
	select {
	case d.reqs <- p:
		return <-d.got, nil
	case <-d.wdone:
		return 0, d.werr
	case <-d.rdone:
		return 0, io.ErrClosedPipe
	}
}

// CloseWithError is the consumer giving up: the rest of the data set is
// discarded as it arrives.
func (d *dataPipe) CloseWithError(error) error {
	d.ronce.Do(func() { close(d.rdone) })
	return nil
}

// closeWrite ends the data set: Read returns err (io.EOF: complete).
func (d *dataPipe) closeWrite(err error) {
	d.wonce.Do(func() {
		d.werr = err
		close(d.wdone)
	})
}

// transfer reads the next n bytes of the data set from r into the
// consumer's buffers as it asks for them, calling renew before each read
// (the read deadline: waiting for the consumer is not the peer stalling).
// gone reports that the consumer stopped or the association ended: the
// caller discards what is left. err is r's.
func (d *dataPipe) transfer(r io.Reader, n int, renew func()) (done int, gone bool, err error) {
	for done < n {
		var p []byte
		select {
		case p = <-d.reqs:
		case <-d.rdone:
			return done, true, nil
		case <-d.wdone:
			// The association ended (end, from another goroutine): the
			// consumer's reads fail from now on, so none will come.
			return done, true, nil
		}
		renew()
		k, err := io.ReadFull(r, p[:min(len(p), n-done)])
		d.got <- k
		done += k
		if err != nil {
			return done, false, err
		}
	}
	return done, false, nil
}
