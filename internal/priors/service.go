package priors

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/bgloop"
	"lightbox/internal/db"
	"lightbox/internal/dispatch"
	"lightbox/internal/model"
)

// Remote runs the DICOM operations on a facility's PACS
// (internal/dicomsvc.PACS).
type Remote interface {
	// FindStudies runs a STUDY-level C-FIND (Study Root) for a patient.
	FindStudies(ctx context.Context, src Source, q Query) ([]Found, error)
	// BodyParts returns the Body Part Examined of a study's series.
	BodyParts(ctx context.Context, src Source, studyUID string) ([]string, error)
	// Retrieve brings one study into the archive (src.Retrieve: C-MOVE to
	// Lightbox's AE or C-GET) and returns how many instances came.
	Retrieve(ctx context.Context, src Source, studyUID string) (int, error)
}

// Options are the service's dependencies.
type Options struct {
	DB     *db.DB
	Remote Remote
	// Local reports whether the archive already holds a study.
	Local func(ctx context.Context, studyUID string) (bool, error)
	// Ready, when set, is told that a study's fetch has ended, so it can go
	// on the worklist at once (dispatch.Service.Complete).
	Ready  func(ctx context.Context, studyUID string) error
	Audit  *audit.Logger
	Logger *slog.Logger
	Now    func() time.Time
	// Poll is how often the runner looks for pending fetches (default 1 s).
	Poll time.Duration
	// ClaimTTL is how long a claim protects a running fetch (default 5 min).
	ClaimTTL time.Duration
}

// Service records, runs and answers for prior fetches.
type Service struct {
	opt  Options
	log  *slog.Logger
	node string
	kick chan struct{}

	runner  bgloop.Loop
	fetches sync.WaitGroup
}

// New returns a Service; Start runs its fetch runner.
func New(opt Options) *Service {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Poll == 0 {
		opt.Poll = time.Second
	}
	if opt.ClaimTTL == 0 {
		opt.ClaimTTL = 5 * time.Minute
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &Service{opt: opt, log: opt.Logger, node: hex.EncodeToString(b), kick: make(chan struct{}, 1)}
}

// Patient is whom a fetch is for.
type Patient struct {
	Issuer    string `json:"issuer"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	BirthDate string `json:"birth_date"`
}

// Request asks for a study's priors.
type Request struct {
	StudyUID   string
	FacilityID string
	Patient    Patient
	Modality   string
	BodyPart   string
	By         string // who or what asked: "arrival", an approving user
}

type fetchDoc struct {
	Patient  Patient `json:"patient"`
	Modality string  `json:"modality"`
	BodyPart string  `json:"body_part"`
}

// Request records a pending fetch through x (e.g. the transaction that
// approves an order) when the facility has a PACS; it does nothing for a
// study already asked for or a facility without one.
func (s *Service) Request(ctx context.Context, x db.Execer, r Request) error {
	src, err := GetSource(ctx, x, r.FacilityID)
	if errors.Is(err, ErrNoSource) || r.StudyUID == "" || r.Patient.ID == "" {
		return nil
	}
	if err != nil {
		return err
	}
	doc, _ := json.Marshal(fetchDoc{Patient: r.Patient, Modality: r.Modality, BodyPart: r.BodyPart})
	now := s.opt.Now()
	_, err = x.Exec(ctx, `INSERT INTO prior_fetch (study_uid, facility_id, patient, status, requested_by, created_at, deadline_at)
		VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (study_uid) DO NOTHING`,
		r.StudyUID, r.FacilityID, string(doc), r.By, db.Now(now), db.Now(now.Add(src.Wait())))
	if err != nil {
		return fmt.Errorf("request priors: %w", err)
	}
	s.Kick()
	return nil
}

// Kick makes the runner look for pending fetches now.
func (s *Service) Kick() { bgloop.Wake(s.kick) }

// Hold is dispatch's gate (dispatch.Options.Hold): a study retrieved as a
// prior is not reading work; a study whose facility has a PACS waits for
// its fetch (which it starts) until the fetch ends or its deadline passes.
func (s *Service) Hold(ctx context.Context, st *model.Study, p dispatch.Patient) dispatch.Hold {
	var n int
	if err := s.opt.DB.QueryRow(ctx, "SELECT COUNT(*) FROM prior_link WHERE prior_uid = ? AND status <> 'local'", st.ID).Scan(&n); err == nil && n > 0 {
		return dispatch.NotForReading
	}
	var status, deadline string
	err := s.opt.DB.QueryRow(ctx, "SELECT status, deadline_at FROM prior_fetch WHERE study_uid = ?", st.ID).Scan(&status, &deadline)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := GetSource(ctx, s.opt.DB, st.FacilityID); err != nil {
			return dispatch.Proceed // no PACS (or it cannot be read): nothing to wait for
		}
		r := Request{StudyUID: st.ID, FacilityID: st.FacilityID, Modality: st.Modality, BodyPart: st.BodyPart, By: "arrival",
			Patient: Patient{Issuer: p.Issuer, ID: p.ID, Name: p.Name, BirthDate: p.BirthDate}}
		if err := s.Request(ctx, s.opt.DB, r); err != nil {
			s.log.Warn("priors: request", "err", err)
			return dispatch.Proceed
		}
		return dispatch.Wait
	}
	if err != nil {
		s.log.Warn("priors: hold", "err", err)
		return dispatch.Proceed
	}
	if status == "done" || status == "failed" {
		return dispatch.Proceed
	}
	if d, err := db.ParseTime(deadline); err == nil && s.opt.Now().After(d) {
		s.log.Info("priors: fetch not finished by its deadline; the study goes on without waiting", "study_uid", st.ID)
		return dispatch.Proceed
	}
	return dispatch.Wait
}

// Start runs the fetch runner until Stop.
func (s *Service) Start() {
	s.runner.Start(context.Background(), func(ctx context.Context) {
		defer s.fetches.Wait()
		sem := make(chan struct{}, 2)
		bgloop.Poll(ctx, s.opt.Poll, s.kick, func(ctx context.Context) error {
			for _, uid := range s.claim(ctx) {
				sem <- struct{}{}
				s.fetches.Add(1)
				go func() {
					defer func() { <-sem; s.fetches.Done() }()
					s.run(ctx, uid)
				}()
			}
			return nil // claim logs its own failures
		}, nil)
	})
}

// Stop ends the runner and waits for running fetches to notice.
func (s *Service) Stop() { s.runner.Stop() }

// claim takes pending fetches (and running ones whose claim expired, from a
// node that died) with an atomic UPDATE: one node runs each.
func (s *Service) claim(ctx context.Context) []string {
	now := s.opt.Now()
	rows, err := s.opt.DB.Query(ctx, `SELECT study_uid FROM prior_fetch WHERE status = 'pending' OR (status = 'running' AND claimed_until < ?) ORDER BY created_at LIMIT 20`, db.Now(now))
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("priors: pending fetches", "err", err)
		}
		return nil
	}
	var cands []string
	for rows.Next() {
		var u string
		if rows.Scan(&u) == nil {
			cands = append(cands, u)
		}
	}
	rows.Close()
	var out []string
	for _, u := range cands {
		res, err := s.opt.DB.Exec(ctx, `UPDATE prior_fetch SET status = 'running', claimed_by = ?, claimed_until = ?
			WHERE study_uid = ? AND (status = 'pending' OR (status = 'running' AND claimed_until < ?))`, s.node, db.Now(now.Add(s.opt.ClaimTTL)), u, db.Now(now))
		if err != nil {
			continue
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = append(out, u)
		}
	}
	return out
}

// outcome is what one fetch did.
type outcome struct {
	matchedBy string
	found     int
	retrieved int
	priors    []string
	detail    string
}

func (s *Service) run(ctx context.Context, studyUID string) {
	var facility, docText, by string
	if err := s.opt.DB.QueryRow(ctx, "SELECT facility_id, patient, requested_by FROM prior_fetch WHERE study_uid = ?", studyUID).Scan(&facility, &docText, &by); err != nil {
		s.log.Warn("priors: load fetch", "err", err)
		return
	}
	var doc fetchDoc
	_ = json.Unmarshal([]byte(docText), &doc)
	start := s.opt.Now()
	// A fetch ends before its claim expires, so no other node starts it again.
	fctx, cancel := context.WithTimeout(ctx, s.opt.ClaimTTL-s.opt.ClaimTTL/10)
	out, err := s.fetch(fctx, studyUID, facility, doc)
	cancel()
	status := "done"
	if err != nil {
		status, out.detail = "failed", clip(err.Error())
	}
	if _, uerr := s.opt.DB.Exec(context.WithoutCancel(ctx), `UPDATE prior_fetch SET status = ?, matched_by = ?, found = ?, retrieved = ?, detail = ?, finished_at = ?, claimed_until = ''
		WHERE study_uid = ? AND claimed_by = ?`, status, out.matchedBy, out.found, out.retrieved, out.detail, db.Now(s.opt.Now()), studyUID, s.node); uerr != nil {
		s.log.Warn("priors: record fetch", "err", uerr)
	}
	s.log.Info("priors: fetch ended", "study_uid", studyUID, "status", status, "matched_by", out.matchedBy, "found", out.found,
		"retrieved", out.retrieved, "duration", s.opt.Now().Sub(start), "reason", out.detail)
	s.auditFetch(ctx, facility, doc.Patient, by, out, err)
	if s.opt.Ready != nil {
		if err := s.opt.Ready(context.WithoutCancel(ctx), studyUID); err != nil {
			s.log.Warn("priors: study ready", "err", err)
		}
	}
}

func (s *Service) fetch(ctx context.Context, studyUID, facility string, doc fetchDoc) (outcome, error) {
	var out outcome
	src, err := GetSource(ctx, s.opt.DB, facility)
	if err != nil {
		return out, err
	}
	p := doc.Patient
	q := Query{Issuer: p.Issuer, PatientID: p.ID}
	found, err := s.opt.Remote.FindStudies(ctx, src, q)
	if err != nil {
		return out, fmt.Errorf("C-FIND by patient ID: %w", err)
	}
	if len(found) == 0 && p.Issuer != "" {
		// The PACS may keep no issuer: ask by the ID alone, keep only
		// answers without an issuer or with ours.
		if found, err = s.opt.Remote.FindStudies(ctx, src, Query{PatientID: p.ID}); err != nil {
			return out, fmt.Errorf("C-FIND by patient ID: %w", err)
		}
	}
	cands, matched := sameID(q, found), "id"
	if len(Rank(Current{StudyUID: studyUID}, cands)) == 0 && p.Name != "" && p.BirthDate != "" {
		found, err = s.opt.Remote.FindStudies(ctx, src, Query{Name: p.Name, BirthDate: p.BirthDate})
		if err != nil {
			return out, fmt.Errorf("C-FIND by name and birth date: %w", err)
		}
		cands, matched = confirmed(Query{Name: p.Name, BirthDate: p.BirthDate}, found), "name_dob"
	}
	cur := Current{StudyUID: studyUID, Modality: doc.Modality, BodyPart: doc.BodyPart}
	ranked := Rank(cur, cands)
	out.found = len(ranked)
	if len(ranked) == 0 {
		out.matchedBy = "none"
		return out, nil
	}
	out.matchedBy = matched
	if cur.BodyPart != "" && len(ranked) <= 20 {
		for i := range ranked {
			if ranked[i].BodyParts, err = s.opt.Remote.BodyParts(ctx, src, ranked[i].StudyUID); err != nil {
				s.log.Info("priors: series C-FIND", "err", err)
			}
		}
		ranked = Rank(cur, ranked)
	}
	if len(ranked) > src.MaxPriors {
		ranked = ranked[:src.MaxPriors]
	}
	var errs []error
	for i, f := range ranked {
		st, n, err := s.retrieve(ctx, src, studyUID, i+1, matched, f)
		if err != nil {
			errs = append(errs, err)
		}
		if st == "retrieved" || st == "local" {
			out.retrieved++
			out.priors = append(out.priors, f.StudyUID)
		}
		_ = n
	}
	if len(errs) > 0 {
		out.detail = clip(errors.Join(errs...).Error())
	}
	return out, nil
}

// retrieve links one prior, bringing it in unless it is already held.
func (s *Service) retrieve(ctx context.Context, src Source, studyUID string, rank int, matched string, f Found) (string, int, error) {
	link := func(status string, n int) {
		_, err := s.opt.DB.Exec(context.WithoutCancel(ctx), `INSERT INTO prior_link (study_uid, prior_uid, rank_, study_date, modalities, body_part, matched_by, status, instances, fetched_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (study_uid, prior_uid) DO UPDATE SET rank_ = excluded.rank_, status = excluded.status,
			instances = excluded.instances, fetched_at = excluded.fetched_at`,
			studyUID, f.StudyUID, rank, f.StudyDate, strings.Join(f.Modalities, `\`), strings.Join(f.BodyParts, `\`), matched, status, n, db.Now(s.opt.Now()))
		if err != nil {
			s.log.Warn("priors: link", "err", err)
		}
	}
	if s.opt.Local != nil {
		if ok, err := s.opt.Local(ctx, f.StudyUID); err == nil && ok {
			link("local", 0)
			return "local", 0, nil
		}
	}
	// Linked before it arrives: its instances must not become reading work.
	link("retrieving", 0)
	n, err := s.opt.Remote.Retrieve(ctx, src, f.StudyUID)
	if err != nil {
		link("failed", n)
		return "failed", n, fmt.Errorf("retrieve prior %d: %w", rank, err)
	}
	link("retrieved", n)
	return "retrieved", n, nil
}

func (s *Service) auditFetch(ctx context.Context, facility string, p Patient, by string, out outcome, err error) {
	if s.opt.Audit == nil {
		return
	}
	a := audit.Actor{UserID: "lightbox-priors", Interface: audit.DICOM, FacilityID: facility}
	q := audit.QueryEvent(a, p.Issuer, p.ID, "prior C-FIND in the facility PACS, matched by "+out.matchedBy+", requested by "+by)
	if err != nil {
		q.Outcome = audit.SeriousFailure
	}
	ev := []audit.Event{q}
	if len(out.priors) > 0 {
		im := audit.ImportEvent(a, "facility PACS", p.Issuer, p.ID, out.priors...)
		im.Detail = fmt.Sprintf("%d priors retrieved for a study requested by %s", len(out.priors), by)
		ev = append(ev, im)
	}
	for _, e := range ev {
		if rerr := s.opt.Audit.Record(context.WithoutCancel(ctx), e); rerr != nil {
			s.log.Error("priors: audit", "err", rerr)
		}
	}
}

func clip(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}
