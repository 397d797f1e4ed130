package hl7sender

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"lightbox/internal/hl7"
)

type ctxKey struct{}

// FacilityFrom returns the facility Gate authorized the message for.
func FacilityFrom(ctx context.Context) (string, bool) {
	f, ok := ctx.Value(ctxKey{}).(string)
	return f, ok
}

// Gate checks every message's sender before Next sees it.
type Gate struct {
	Next    hl7.Handler
	Senders Store
	// Open passes messages of unregistered senders on without a facility
	// (Next decides by MSH-4 alone), like --dicom-open for AEs. A registered
	// sender on a connection it is not allowed is refused even then.
	Open bool
	// OnReject keeps a refused message (dead letter).
	OnReject func(ctx context.Context, raw []byte, remote string, msg *hl7.Message, ack hl7.AckCode, e *hl7.Error) error
	App      string // our MSH-3 in the NAK; default LIGHTBOX
	Logger   *slog.Logger
}

// ServeHL7 implements hl7.Handler.
func (g *Gate) ServeHL7(ctx context.Context, req *hl7.Request) []byte {
	m := req.Message
	log := g.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	remote := ""
	var p Peer
	if req.RemoteAddr != nil {
		remote = req.RemoteAddr.String()
		if h, _, err := net.SplitHostPort(remote); err == nil {
			p.IP = net.ParseIP(h)
		}
	}
	p.TLS = req.TLS
	fac := m.Get("MSH-4-1")
	if fac == "" {
		fac = m.Get("MSH-4-2")
	}
	facilityID, err := g.Senders.Authorize(ctx, fac, m.Get("MSH-3-1"), p)
	switch {
	case err == nil:
		return g.Next.ServeHL7(context.WithValue(ctx, ctxKey{}, facilityID), req)
	case errors.Is(err, ErrUnknownSender) && g.Open:
		return g.Next.ServeHL7(ctx, req)
	case !errors.Is(err, ErrUnknownSender) && !errors.Is(err, ErrNotAllowed):
		log.Error("hl7 sender check failed", "err", err)
		return hl7.NewACK(m, hl7.AckAR, g.opts(), &hl7.Error{Code: hl7.CodeInternalError, Message: "internal error"}).Bytes()
	}
	// One answer for unknown and misplaced senders: a prober learns nothing
	// about which sending facilities exist.
	e := hl7.Errorf(hl7.CodeUnknownKey, "MSH-4", "sending facility not registered for this connection")
	log.Warn("hl7: message from a sender not allowed on this connection", "remote", remote, "control_id", m.ControlID(), "reason", err.Error())
	if g.OnReject != nil {
		if derr := g.OnReject(ctx, req.Raw, remote, m, hl7.AckAR, e); derr != nil {
			log.Error("hl7: dead letter failed", "err", derr)
		}
	}
	return hl7.NewACK(m, hl7.AckAR, g.opts(), e).Bytes()
}

func (g *Gate) opts() hl7.AckOptions {
	app := g.App
	if app == "" {
		app = "LIGHTBOX"
	}
	return hl7.AckOptions{SendingApplication: &hl7.HD{NamespaceID: app}}
}
