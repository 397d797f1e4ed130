package hl7

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"
)

// Probe sends one message to an MLLP peer and reads its acknowledgement: a
// facility endpoint's "send a test message". It returns the ACK code and
// text; ok is true for AA/CA. tlsConfig nil means plain TCP.
func Probe(ctx context.Context, addr string, tlsConfig *tls.Config, msg []byte) (code, text string, ok bool, err error) {
	c := &Client{Addr: addr, DialTimeout: 5 * time.Second, AckTimeout: 10 * time.Second, TLSConfig: tlsConfig}
	defer c.Close()
	ack, err := c.Send(ctx, msg)
	if err != nil {
		return "", "", false, err
	}
	a, err := ReadAck(ack)
	if err != nil {
		return "", "", false, fmt.Errorf("unreadable acknowledgement: %w", err)
	}
	return string(a.Code), a.Text, a.Code.OK(), nil
}
