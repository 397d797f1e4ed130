package retention

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/audit"
	"lightbox/internal/db"
	"lightbox/internal/facility"
	"lightbox/internal/opt"
)

// lockKey is the PostgreSQL transaction-level advisory lock ("lbrt") taken
// by every purge transaction and every hold change, so a hold and a purge of
// the same study never pass each other. SQLite has one writer anyway.
const lockKey = 0x6c627274

// Errors callers branch on.
var (
	ErrInvalid  = errors.New("invalid legal hold")
	ErrNotFound = errors.New("no such legal hold")
)

// Hold exempts a study, or every study of a patient, from retention.
type Hold struct {
	ID        int64  `json:"id"`
	StudyUID  string `json:"study_uid,omitempty"`
	Issuer    string `json:"issuer,omitempty"`
	PatientID string `json:"patient_id,omitempty"`
	Reason    string `json:"reason"`
	CreatedBy string `json:"created_by"`
	CreatedAt string `json:"created_at"`
}

// Service runs retention.
type Service struct {
	DB      *db.DB
	Archive *archive.Archive
	Audit   *audit.Logger
	Logger  *slog.Logger
	Now     func() time.Time
	// Batch bounds the studies read per query (default 200).
	Batch int
}

func (s *Service) now() time.Time {
	return db.NowOr(s.Now)
}

func (s *Service) log() *slog.Logger {
	return opt.Logger(s.Logger)
}

func (s *Service) lock(ctx context.Context, tx *db.Tx) error {
	if s.DB.Dialect != db.Postgres {
		return nil
	}
	_, err := tx.Exec(ctx, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", lockKey))
	return err
}

// audited runs fn and its audit event in one write transaction under the
// retention lock: what cannot be audited is not done.
func (s *Service) audited(ctx context.Context, fn func(tx *db.Tx) (audit.Event, error)) error {
	if s.Audit == nil {
		return errors.New("retention: changes need an audit trail")
	}
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := s.lock(ctx, tx); err != nil {
			return fmt.Errorf("retention lock: %w", err)
		}
		ev, err := fn(tx)
		if err != nil {
			return err
		}
		if _, err := s.Audit.RecordTx(ctx, tx, ev); err != nil {
			return fmt.Errorf("retention: audit: %w", err)
		}
		return nil
	})
}

// AddHold places a legal hold on a study or on a patient (issuer may be
// empty; patient_id may not).
func (s *Service) AddHold(ctx context.Context, by audit.Actor, h Hold) (Hold, error) {
	h.StudyUID, h.Issuer, h.PatientID, h.Reason = strings.TrimSpace(h.StudyUID), strings.TrimSpace(h.Issuer), strings.TrimSpace(h.PatientID), strings.TrimSpace(h.Reason)
	switch {
	case (h.StudyUID == "") == (h.PatientID == ""):
		return h, fmt.Errorf("%w: name either a study or a patient", ErrInvalid)
	case h.Reason == "" || len(h.Reason) > 500:
		return h, fmt.Errorf("%w: a reason is required (at most 500 characters)", ErrInvalid)
	}
	if h.StudyUID != "" {
		h.Issuer = ""
	}
	h.CreatedBy, h.CreatedAt = by.UserID, db.Now(s.now())
	err := s.audited(ctx, func(tx *db.Tx) (audit.Event, error) {
		err := tx.QueryRow(ctx, `INSERT INTO legal_hold (study_uid, issuer, patient_id, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING pk`,
			h.StudyUID, h.Issuer, h.PatientID, h.Reason, h.CreatedBy, h.CreatedAt).Scan(&h.ID)
		if err != nil {
			return audit.Event{}, fmt.Errorf("add legal hold: %w", err)
		}
		return holdEvent(by, audit.Create, h), nil
	})
	return h, err
}

func holdEvent(by audit.Actor, action audit.Action, h Hold) audit.Event {
	var studies []string
	if h.StudyUID != "" {
		studies = []string{h.StudyUID}
	}
	ev := audit.RecordEvent(by, audit.ProcedureRecord, action, "legal-hold", h.Issuer, h.PatientID, studies...)
	ev.Detail = "legal hold " + strconv.FormatInt(h.ID, 10)
	return ev
}

// RemoveHold lifts a legal hold.
func (s *Service) RemoveHold(ctx context.Context, by audit.Actor, id int64) error {
	return s.audited(ctx, func(tx *db.Tx) (audit.Event, error) {
		h, err := holdByID(ctx, tx, id)
		if err != nil {
			return audit.Event{}, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM legal_hold WHERE pk = ?`, id); err != nil {
			return audit.Event{}, fmt.Errorf("remove legal hold: %w", err)
		}
		return holdEvent(by, audit.Delete, h), nil
	})
}

const holdColumns = `pk, study_uid, issuer, patient_id, reason, created_by, created_at`

func scanHold(sc db.Scanner) (Hold, error) {
	var h Hold
	err := sc.Scan(&h.ID, &h.StudyUID, &h.Issuer, &h.PatientID, &h.Reason, &h.CreatedBy, &h.CreatedAt)
	return h, err
}

func holdByID(ctx context.Context, x db.Execer, id int64) (Hold, error) {
	h, err := scanHold(x.QueryRow(ctx, `SELECT `+holdColumns+` FROM legal_hold WHERE pk = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("legal hold %d: %w", id, ErrNotFound)
	}
	return h, err
}

// Holds lists every legal hold, oldest first.
func (s *Service) Holds(ctx context.Context) ([]Hold, error) {
	return db.List("legal holds", db.Rows(s.DB.Query(ctx, `SELECT `+holdColumns+` FROM legal_hold ORDER BY pk`)), scanHold)
}

// held reports whether a study or its patient is on hold.
func held(ctx context.Context, x db.Execer, e archive.Expired) (bool, error) {
	var n int
	err := x.QueryRow(ctx, `SELECT COUNT(*) FROM legal_hold WHERE (study_uid <> '' AND study_uid = ?) OR (study_uid = '' AND issuer = ? AND patient_id = ?)`,
		e.StudyUID, e.Issuer, e.PatientID).Scan(&n)
	return n > 0, err
}

// FacilityReport is one facility's share of a run.
type FacilityReport struct {
	FacilityID string `json:"facility_id"`
	Years      int    `json:"years"`
	Cutoff     string `json:"cutoff"`
	Studies    int    `json:"studies"`
	Instances  int    `json:"instances"`
	Bytes      int64  `json:"bytes"`
	// Held counts the studies past the cutoff kept by a legal hold.
	HeldStudies   int   `json:"held_studies"`
	HeldInstances int   `json:"held_instances"`
	HeldBytes     int64 `json:"held_bytes"`
}

// Report is what a run did, or would do (DryRun).
type Report struct {
	DryRun     bool             `json:"dry_run"`
	At         string           `json:"at"`
	Facilities []FacilityReport `json:"facilities"`
	Studies    int              `json:"studies"`
	Instances  int              `json:"instances"`
	Bytes      int64            `json:"bytes"`
	Held       int              `json:"held_studies"`
	// Items lists the studies concerned (identifiers for the operator;
	// never logged).
	Items []archive.Expired `json:"items"`
	// BlobsDeleted counts blobs removed from the store by this run's drain
	// of the deletion queue (which also finishes earlier runs' work).
	BlobsDeleted int `json:"blobs_deleted"`
	BlobsPending int `json:"blobs_pending"`
}

// Run applies every facility's retention period as of now, or with dryRun
// only reports what would go. The run itself is audited (who, dry or not,
// the counts); a real run also audits each purged study.
func (s *Service) Run(ctx context.Context, by audit.Actor, dryRun bool) (*Report, error) {
	now := s.now()
	rep := &Report{DryRun: dryRun, At: db.Now(now), Facilities: []FacilityReport{}, Items: []archive.Expired{}}
	years, err := facility.RetentionYears(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	ids := slices.Sorted(maps.Keys(years))
	batch := s.Batch
	if batch <= 0 {
		batch = 200
	}
	for _, id := range ids {
		cutoff := now.AddDate(-years[id], 0, 0)
		fr := FacilityReport{FacilityID: id, Years: years[id], Cutoff: db.Now(cutoff)}
		after := ""
		for {
			page, err := s.Archive.Expired(ctx, id, cutoff, after, batch)
			if err != nil {
				return rep, err
			}
			for _, e := range page {
				after = e.StudyUID
				if err := s.study(ctx, by, dryRun, cutoff, now, e, &fr, rep); err != nil {
					return rep, err
				}
			}
			if len(page) < batch {
				break
			}
		}
		rep.Facilities = append(rep.Facilities, fr)
		rep.Studies += fr.Studies
		rep.Instances += fr.Instances
		rep.Bytes += fr.Bytes
		rep.Held += fr.HeldStudies
	}
	if !dryRun {
		if rep.BlobsDeleted, err = s.Drain(ctx); err != nil {
			return rep, err
		}
	}
	if rep.BlobsPending, err = s.Archive.QueuedBlobs(ctx); err != nil {
		return rep, err
	}
	ev := audit.SecurityAlertEvent(by, audit.UseOfRestrictedFunction, fmt.Sprintf("retention run dry_run=%t facilities=%d studies=%d instances=%d bytes=%d held_studies=%d",
		dryRun, len(rep.Facilities), rep.Studies, rep.Instances, rep.Bytes, rep.Held))
	if s.Audit == nil {
		return rep, errors.New("retention: runs need an audit trail")
	}
	if err := s.Audit.Record(ctx, ev); err != nil {
		return rep, fmt.Errorf("retention: audit: %w", err)
	}
	s.log().Info("retention run", "dry_run", dryRun, "facilities", len(rep.Facilities), "studies", rep.Studies, "instances", rep.Instances,
		"bytes", rep.Bytes, "held_studies", rep.Held, "blobs_deleted", rep.BlobsDeleted, "blobs_pending", rep.BlobsPending)
	return rep, nil
}

// study handles one study past the cutoff: counted as held, counted as
// going (dry run), or purged.
func (s *Service) study(ctx context.Context, by audit.Actor, dryRun bool, cutoff, now time.Time, e archive.Expired, fr *FacilityReport, rep *Report) error {
	countHeld := func(e archive.Expired) {
		fr.HeldStudies++
		fr.HeldInstances += e.Instances
		fr.HeldBytes += e.Bytes
	}
	count := func(e archive.Expired) {
		fr.Studies++
		fr.Instances += e.Instances
		fr.Bytes += e.Bytes
		rep.Items = append(rep.Items, e)
	}
	if dryRun {
		h, err := held(ctx, s.DB, e)
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		if h {
			countHeld(e)
		} else {
			count(e)
		}
		return nil
	}
	var got archive.Expired
	wasHeld := false
	err := s.audited(ctx, func(tx *db.Tx) (audit.Event, error) {
		h, err := held(ctx, tx, e) // again, under the lock
		if err != nil {
			return audit.Event{}, err
		}
		if h {
			wasHeld = true
			return audit.Event{}, errHeld
		}
		if got, err = archive.PurgeTx(ctx, tx, e.StudyUID, cutoff, now); err != nil {
			return audit.Event{}, err
		}
		ev := audit.StudyDeletedEvent(by, got.Issuer, got.PatientID, got.StudyUID)
		ev.FacilityID = got.FacilityID
		ev.Detail = fmt.Sprintf("retention %s years=%d instances=%d bytes=%d whole=%t", fr.FacilityID, fr.Years, got.Instances, got.Bytes, got.Whole)
		return ev, nil
	})
	switch {
	case wasHeld:
		countHeld(e)
		return nil
	case err != nil:
		return err
	}
	count(got)
	return nil
}

var errHeld = errors.New("held")

// Drain deletes every queued blob (this run's and any earlier run's that a
// crash interrupted) and returns how many it deleted.
func (s *Service) Drain(ctx context.Context) (int, error) { return s.Archive.DrainQueued(ctx) }
