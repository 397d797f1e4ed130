package hl7sender

import (
	"context"
	"log/slog"

	"lightbox/internal/db"
	"lightbox/internal/facility"
)

// Resolver decides which facility an inbound message speaks for.
type Resolver struct {
	// Open (--hl7-open) accepts an unregistered sender whose MSH-4 names a
	// facility by ID, else by name.
	Open   bool
	DB     *db.DB
	Logger *slog.Logger
}

// Facility returns the facility of the message: its registered sender's
// (Gate put it in ctx), else under Open the facility MSH-4 (sending)
// names.
func (r Resolver) Facility(ctx context.Context, sending string) (string, bool) {
	if f, ok := FacilityFrom(ctx); ok {
		return f, true
	}
	if !r.Open {
		return "", false
	}
	id, ok, err := facility.Store{DB: r.DB}.Named(ctx, sending)
	if err != nil && r.Logger != nil {
		r.Logger.Warn("hl7: facility lookup", "err", err)
	}
	return id, ok
}
