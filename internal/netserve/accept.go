package netserve

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// Acceptor accepts connections for a server's accept loop, riding out
// temporary failures (timeouts, running out of file descriptors) with a
// delay that doubles from 5 ms up to 1 s and resets after a success, as
// net/http's Server does. The zero value is ready to use; one Acceptor
// serves one loop.
type Acceptor struct {
	// Closing, when set, reports that the server is shutting down: an
	// accept error is then returned at once instead of retried.
	Closing func() bool
	// OnRetry, when set, is told about each temporary error before the
	// delay.
	OnRetry func(err error, delay time.Duration)

	delay time.Duration
}

// Accept returns the next connection on l, or the first error that is not
// temporary (or any error once Closing reports true).
func (a *Acceptor) Accept(l net.Listener) (net.Conn, error) {
	for {
		c, err := l.Accept()
		if err == nil {
			a.delay = 0
			return c, nil
		}
		if (a.Closing != nil && a.Closing()) || !temporary(err) {
			return nil, err
		}
		a.delay = min(max(2*a.delay, 5*time.Millisecond), time.Second)
		if a.OnRetry != nil {
			a.OnRetry(err, a.delay)
		}
		time.Sleep(a.delay)
	}
}

func temporary(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}
