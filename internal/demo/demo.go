package demo

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/auth"
	"lightbox/internal/db"
	"lightbox/internal/facility"
	"lightbox/internal/gen"
)

const marker = "demo_seeded"

// Seed loads the demo group into storage unless it is already there.
func Seed(ctx context.Context, d *db.DB, a *archive.Archive, svc *auth.Service, seed int64, log *slog.Logger) error {
	if svc == nil {
		return errNoAuth
	}
	if err := registerHL7Senders(ctx, d); err != nil {
		return err
	}
	var v string
	err := d.QueryRow(ctx, "SELECT value FROM setting WHERE name = ?", marker).Scan(&v)
	if err == nil {
		log.Info("demo data already loaded")
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("demo seed: %w", err)
	}
	start := time.Now()
	fs := facility.Store{DB: d}
	for _, f := range gen.Facilities() {
		if err := fs.Upsert(ctx, facility.Facility{ID: f.Code, Name: f.Name, State: f.State, TimeZone: f.TimeZone, IssuerOfPatientID: f.IssuerOfPatientID}); err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
	}
	if err := seedGroup(ctx, d, svc, time.Now()); err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	n := 0
	var buf bytes.Buffer
	for _, opt := range gen.MixedDemo(seed) {
		err := gen.Each(ctx, opt, func(inst *gen.Instance) error {
			buf.Reset()
			if _, err := inst.WriteTo(&buf); err != nil {
				return err
			}
			if _, err := a.Store(ctx, &buf, archive.Source{Facility: inst.Facility.Code, AETitle: inst.SourceAE}); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return fmt.Errorf("demo seed: %w", err)
		}
	}
	if _, err := d.Exec(ctx, "INSERT INTO setting (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
		marker, fmt.Sprintf("seed=%d instances=%d", seed, n), db.Now(time.Now())); err != nil {
		return fmt.Errorf("demo seed: %w", err)
	}
	log.Info("demo data loaded", "facilities", len(gen.Facilities()), "instances", n, "seconds", time.Since(start).Seconds())
	return nil
}
