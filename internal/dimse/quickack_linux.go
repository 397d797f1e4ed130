package dimse

import (
	"net"
	"syscall"
)

// quickAcker returns a function that makes the kernel acknowledge what
// has arrived on conn now rather than after the delayed-ACK timer (40 ms).
// A peer with Nagle's algorithm on (DCMTK unless TCP_NODELAY is set in its
// environment) holds back the rest of a PDU it wrote in two parts until
// the first is acknowledged, which would cost each response 40 ms.
func quickAcker(conn net.Conn) func() {
	if t, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = t.NetConn() // DICOM TLS: the socket under it
	}
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return func() {
		_ = rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
}
