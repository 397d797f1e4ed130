package dispatch

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/assign"
	"lightbox/internal/cluster"
	"lightbox/internal/db"
	"lightbox/internal/model"
	"lightbox/internal/roster"
)

// Options configure the service.
type Options struct {
	// Quiet is how long a study must receive no instance before it is
	// considered complete and put on the worklist (docs/domain.md §4 T3).
	Quiet time.Duration
	// TickEvery is how often timers run (lease, presence, shift, expiry).
	TickEvery time.Duration
	Engine    assign.Config
	RVU       *model.RVUTable
	Now       func() time.Time
	Logger    *slog.Logger
	// Enrich, when set, completes a study from outside the archive before
	// it goes on the worklist (its order: priority, stroke/trauma, order
	// time, patient state) and reconciles it; an error is logged and the
	// study goes on as it is.
	Enrich func(ctx context.Context, st *model.Study, p Patient) error
	// Cluster, when set (several nodes on PostgreSQL), runs the engine only
	// while this node leads and forwards calls made here otherwise
	// (cluster.go).
	Cluster *cluster.Node
	// SetupVersion, when set, is polled every tick: when it changes, the
	// engine reloads facilities and readers, so set-up written by another
	// process on the database (the CLI) takes effect at once.
	SetupVersion func(ctx context.Context) (int64, error)
	// OnDecision, when set, sees every decision after it is committed
	// (notifications: uncovered studies, readers dropping offline with
	// cases, deadlines at risk). It must not block.
	OnDecision func(ctx context.Context, d assign.Decision)
	// Observe, when set, receives each event's decision kinds and how long
	// deciding and persisting took (metrics).
	Observe func(kinds []string, d time.Duration)
	// DisplayPasses, when set, returns who passed a display check since a
	// time and when (internal/station), loaded at start so the
	// mammography display-check rule survives a restart.
	DisplayPasses func(ctx context.Context, since time.Time) (map[string]time.Time, error)
	// Hold, when set, is asked before a complete study goes on the
	// worklist (internal/priors: the patient's priors are being fetched
	// from the facility's PACS, within a bounded wait).
	Hold func(ctx context.Context, st *model.Study, p Patient) Hold
}

// Hold is what Options.Hold decides for a complete study.
type Hold int

// Hold decisions.
const (
	Proceed       Hold = iota // put it on the worklist now
	Wait                      // not yet: ask again at a later tick or Complete
	NotForReading             // never: e.g. a prior retrieved for another study
)

// Patient is what the archive knows of a study's patient and accession.
type Patient struct {
	Accession, Issuer, ID, Name, BirthDate, Sex string
}

// Service is the running dispatcher.
type Service struct {
	db     *db.DB
	roster roster.Store
	opt    Options
	log    *slog.Logger
	eng    *assign.Safe
	hub    *hub

	// mu serialises "apply an event and persist its decisions" so the
	// database reflects decisions in engine order.
	mu     sync.Mutex
	cancel context.CancelFunc
	// stale is set when decisions the engine made could not be persisted:
	// the engine is ahead of the database until it is rebuilt from it
	// (right away, else at the next tick).
	stale     atomic.Bool
	reloading atomic.Bool

	// setupMu guards what the last roster reload saw.
	setupMu   sync.Mutex
	setupSeen int64
	readerIDs map[string]bool
	done      chan struct{}

	open openItems // the leader's open worklist rows, for the board
}

// Errors returned to callers.
var (
	ErrNotHolder    = errors.New("the study is not leased to this reader")
	ErrUnknownStudy = errors.New("study is not on the worklist")
	ErrReason       = errors.New("a reason is required")
)

// New creates a dispatcher; Start loads state and starts its timers.
func New(d *db.DB, opt Options) *Service {
	if opt.Quiet == 0 {
		opt.Quiet = time.Minute
	}
	if opt.TickEvery == 0 {
		opt.TickEvery = 5 * time.Second
	}
	if opt.Engine.Policy == "" {
		opt.Engine = assign.DefaultConfig()
	}
	if opt.RVU == nil {
		opt.RVU = model.DefaultRVU()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d, roster: roster.Store{DB: d}, opt: opt, log: opt.Logger, eng: assign.NewSafe(assign.New(opt.Engine)), hub: newHub()}
}

// Start rebuilds the engine from the database (facilities, readers, then
// leases and waiting studies) and starts the timer loop.
func (s *Service) Start(ctx context.Context) error {
	if c := s.opt.Cluster; c != nil {
		c.Start(s.lead, s.remoteChange, s.serveCall, errCode)
		return nil
	}
	if err := s.load(ctx); err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	go func() { defer close(s.done); s.loop(lctx) }()
	return nil
}

// Close stops the timers.
func (s *Service) Close() {
	if s.opt.Cluster != nil {
		s.opt.Cluster.Close()
	}
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
}

func (s *Service) loop(ctx context.Context) {
	t := time.NewTicker(s.opt.TickEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("dispatch tick", "err", err)
			}
		}
	}
}

// Tick runs the engine's timers and picks up studies that went quiet.
func (s *Service) Tick(ctx context.Context) error {
	if s.stale.Load() {
		if err := s.reload(ctx); err != nil {
			return err
		}
	}
	if err := s.SyncSetup(ctx); err != nil {
		return err
	}
	if err := s.admitQuietStudies(ctx); err != nil {
		return err
	}
	_, err := s.apply(ctx, assign.Tick{}, "")
	return err
}

func (s *Service) load(ctx context.Context) error {
	if s.opt.SetupVersion != nil {
		v, err := s.opt.SetupVersion(ctx) // before loading: a change during the load is seen at the next tick
		if err != nil {
			return err
		}
		s.setupMu.Lock()
		s.setupSeen = v
		s.setupMu.Unlock()
	}
	now := s.opt.Now()
	facs, err := s.roster.Facilities(ctx)
	if err != nil {
		return err
	}
	for _, f := range facs {
		if _, err := s.eng.Apply(assign.FacilityUpdated{Facility: f}, now); err != nil {
			return fmt.Errorf("load facility %s: %w", f.ID, err)
		}
	}
	readers, err := s.roster.Readers(ctx)
	if err != nil {
		return err
	}
	ids := map[string]bool{}
	for _, r := range readers {
		if _, err := s.eng.Apply(assign.ReaderUpdated{Reader: r}, now); err != nil {
			return fmt.Errorf("load reader %s: %w", r.ID, err)
		}
		ids[r.ID] = true
	}
	s.setupMu.Lock()
	s.readerIDs = ids
	s.setupMu.Unlock()
	if s.opt.DisplayPasses != nil {
		passes, err := s.opt.DisplayPasses(ctx, now.Add(-assign.DisplayCheckValid))
		if err != nil {
			return err
		}
		for id, at := range passes {
			if !ids[id] {
				continue // a user who is not a reader
			}
			if _, err := s.eng.Apply(assign.DisplayChecked{ReaderID: id, At: at, Passed: true}, now); err != nil {
				return fmt.Errorf("load display check %s: %w", id, err)
			}
		}
	}
	type item struct{ uid, doc, status, lease string }
	items, err := db.Collect(db.Rows(s.db.Query(ctx, "SELECT study_uid, doc, status, lease FROM read_item WHERE status IN ('waiting', 'leased', 'queued', 'uncovered') ORDER BY created_at")),
		func(r db.Scanner) (it item, err error) { return it, r.Scan(&it.uid, &it.doc, &it.status, &it.lease) })
	if err != nil {
		return fmt.Errorf("load worklist: %w", err)
	}
	// Leases first, so waiting studies see the readers' real load.
	for _, pass := range []bool{true, false} {
		for _, it := range items {
			if (it.status == "leased") != pass {
				continue
			}
			st, err := s.decodeStudy(it.doc)
			if err != nil {
				return err
			}
			var ev assign.Event = assign.StudyReady{Study: st}
			if pass {
				var l assign.Lease
				if err := json.Unmarshal([]byte(it.lease), &l); err != nil {
					return fmt.Errorf("lease of %s: %w", it.uid, err)
				}
				ev = assign.Restore{Study: st, Lease: l}
			}
			if _, err := s.apply(ctx, ev, "restart"); err != nil {
				s.log.Warn("restore study", "err", err)
			}
		}
	}
	s.log.Info("dispatch loaded", "facilities", len(facs), "readers", len(readers), "studies", len(items))
	return nil
}

func (s *Service) decodeStudy(doc string) (*model.Study, error) {
	var st model.Study
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		return nil, fmt.Errorf("decode study: %w", err)
	}
	return &st, nil
}

// apply feeds one event and persists and publishes what the engine decided.
func (s *Service) apply(ctx context.Context, ev assign.Event, by string) ([]assign.Decision, error) {
	ds, err := s.applyPersist(ctx, ev, by)
	if err != nil && s.stale.Load() {
		if rerr := s.reload(ctx); rerr != nil {
			s.log.Error("dispatch: engine reload after a failed write (retried at the next tick)", "err", rerr)
		}
	}
	return ds, err
}

// reload rebuilds the engine from the database: the database is the truth
// the engine may only follow.
func (s *Service) reload(ctx context.Context) error {
	if !s.reloading.CompareAndSwap(false, true) {
		return nil // a reload is running (its own writes failed)
	}
	defer s.reloading.Store(false)
	s.mu.Lock()
	s.eng = assign.NewSafe(assign.New(s.opt.Engine))
	s.stale.Store(false)
	s.mu.Unlock()
	if err := s.load(ctx); err != nil {
		s.stale.Store(true)
		return err
	}
	return nil
}

// applyPersist applies ev to the engine and persists its decisions in one
// transaction, in engine order.
func (s *Service) applyPersist(ctx context.Context, ev assign.Event, by string) ([]assign.Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	now := s.opt.Now()
	ds, err := s.eng.Apply(ev, now)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, nil
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, d := range ds {
			if err := s.persist(ctx, tx, d, by); err != nil {
				return err
			}
		}
		return nil
	})
	s.open.wrote()
	if err != nil {
		// The engine decided what the database does not hold: rebuild it
		// from the database (after this call lets go of the lock).
		s.stale.Store(true)
		return ds, fmt.Errorf("persist decisions: %w", err)
	}
	if s.opt.Observe != nil {
		kinds := make([]string, len(ds))
		for i, d := range ds {
			kinds[i] = string(d.Kind)
		}
		s.opt.Observe(kinds, time.Since(start))
	}
	for _, d := range ds {
		s.publish(Change{Kind: string(d.Kind), StudyUID: d.StudyID, ReaderID: d.ReaderID, Code: d.Code, Reason: d.Reason, At: db.Now(d.At)})
		if d.Kind == assign.KindUncovered {
			s.pageOnCall(ctx, d)
		}
		if s.opt.OnDecision != nil {
			s.opt.OnDecision(ctx, d)
		}
	}
	return ds, nil
}

// pageOnCall names the on-call readers of an uncovered study's subspecialty
// in its worklist note and pages them on their live stream.
func (s *Service) pageOnCall(ctx context.Context, d assign.Decision) {
	var doc string
	if err := s.db.QueryRow(ctx, "SELECT doc FROM read_item WHERE study_uid = ?", d.StudyID).Scan(&doc); err != nil {
		return
	}
	st, err := s.decodeStudy(doc)
	if err != nil || st.Subspecialty == "" {
		return
	}
	list, err := s.roster.OnCallAt(ctx, st.Subspecialty, d.At)
	if err != nil || len(list) == 0 {
		return
	}
	var ids []string
	for _, o := range list {
		ids = append(ids, o.ReaderID)
		s.publish(Change{Kind: "oncall", StudyUID: d.StudyID, ReaderID: o.ReaderID, Reason: "on call for " + st.Subspecialty + ": " + d.Reason, At: db.Now(d.At)})
	}
	note := d.Reason + "; on call for " + st.Subspecialty + ": " + strings.Join(ids, ", ")
	if _, err := s.writeItems(ctx, "UPDATE read_item SET note = ? WHERE study_uid = ? AND status = 'uncovered'", note, d.StudyID); err != nil {
		s.log.Warn("on-call note", "err", err)
	}
}

// subspecialtyOf is the reading subspecialty a study prefers (not a hard
// rule: the engine's score rewards a match).
func subspecialtyOf(modality, bodyPart string) string {
	switch strings.ToUpper(bodyPart) {
	case "HEAD", "BRAIN", "NECK", "CSPINE", "SKULL":
		return "neuro"
	case "CHEST", "LUNG":
		return "chest"
	case "ABDOMEN", "PELVIS", "ABDOMENPELVIS", "LIVER", "KIDNEY":
		return "body"
	case "BREAST":
		return "breast"
	case "KNEE", "SHOULDER", "HIP", "ANKLE", "WRIST", "LSPINE", "TSPINE":
		return "msk"
	}
	if strings.ToUpper(modality) == "MG" {
		return "breast"
	}
	return ""
}

func (s *Service) persist(ctx context.Context, tx *db.Tx, d assign.Decision, by string) error {
	if d.StudyID == "" {
		return nil
	}
	detail, _ := json.Marshal(d)
	at := db.Now(d.At)
	if _, err := tx.Exec(ctx, `INSERT INTO assignment_event (at, study_uid, kind, reader_id, code, reason, by_user, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		at, d.StudyID, string(d.Kind), d.ReaderID, d.Code, d.Reason, by, string(detail)); err != nil {
		return err
	}
	var q string
	var args []any
	switch d.Kind {
	case assign.KindAssign:
		lease, _ := json.Marshal(assign.Lease{StudyID: d.StudyID, ReaderID: d.ReaderID, Stage: d.Stage, AssignedAt: d.At, LeaseExpires: d.LeaseExpires,
			FinalStage: d.Stage == model.Final && s.prelimSigned(ctx, tx, d.StudyID)})
		q, args = "UPDATE read_item SET status = 'leased', reader_id = ?, lease = ?, note = '', updated_at = ? WHERE study_uid = ?", []any{d.ReaderID, string(lease), at, d.StudyID}
	case assign.KindUnassign:
		q, args = "UPDATE read_item SET status = 'waiting', reader_id = '', lease = '', updated_at = ? WHERE study_uid = ? AND status = 'leased'", []any{at, d.StudyID}
	case assign.KindUncovered:
		q, args = "UPDATE read_item SET status = 'uncovered', note = ?, updated_at = ? WHERE study_uid = ? AND status <> 'leased'", []any{d.Reason, at, d.StudyID}
	case assign.KindQueued:
		q, args = "UPDATE read_item SET status = 'queued', note = ?, updated_at = ? WHERE study_uid = ? AND status <> 'leased'", []any{d.Reason, at, d.StudyID}
	case assign.KindDone:
		q, args = "UPDATE read_item SET status = 'done', reader_id = '', lease = '', updated_at = ? WHERE study_uid = ?", []any{at, d.StudyID}
	default:
		return nil
	}
	_, err := tx.Exec(ctx, q, args...)
	return err
}

func (s *Service) prelimSigned(ctx context.Context, tx *db.Tx, uid string) bool {
	var n int
	_ = tx.QueryRow(ctx, "SELECT COUNT(*) FROM assignment_event WHERE study_uid = ? AND kind = 'signed' AND code = 'prelim'", uid).Scan(&n)
	return n > 0
}

// admitQuietStudies puts archive studies that received nothing for the
// quiet period on the worklist.
func (s *Service) admitQuietStudies(ctx context.Context) error {
	return s.admit(ctx, archive.Unread{QuietBefore: db.Now(s.opt.Now().Add(-s.opt.Quiet))})
}

// Complete puts a study on the worklist now, whatever the quiet period
// (MPPS COMPLETED says the exam is done). Unknown or already admitted
// studies are ignored.
func (s *Service) Complete(ctx context.Context, studyUID string) error {
	if s.remote() {
		return s.forward(ctx, "Complete", call{Study: studyUID}, nil)
	}
	return s.admit(ctx, archive.Unread{StudyUID: studyUID})
}

// NotOnWorklist is the condition, on a study aliased s, that the study has
// no read item: the archive's UnreadStudies skips the others with it.
const NotOnWorklist = "NOT EXISTS (SELECT 1 FROM read_item r WHERE r.study_uid = s.study_uid)"

func (s *Service) admit(ctx context.Context, f archive.Unread) error {
	f.Skip, f.Limit = NotOnWorklist, 500
	recs, err := archive.UnreadStudies(ctx, s.db, f)
	if err != nil {
		return fmt.Errorf("find quiet studies: %w", err)
	}
	var studies []*model.Study
	var patients []Patient
	for _, r := range recs {
		st := &model.Study{ID: r.UID, FacilityID: r.FacilityID, Modality: primaryModality(r.Modalities), CPT: r.ProcedureCode, BodyPart: r.BodyPart,
			RelatedKey: r.Patient.Issuer + "|" + r.Patient.ID}
		st.Subspecialty = subspecialtyOf(st.Modality, r.BodyPart)
		st.Priority, _ = model.ParsePriority(dicomPriority(r.Priority))
		st.ArrivalTime, _ = db.ParseTime(r.LastInstanceAt)
		st.ExamTime = st.ArrivalTime
		if t, err := time.Parse("20060102150405", r.StudyDate+padTime(r.StudyTime)); err == nil {
			st.ExamTime = t // facility-local wall time; refined when the facility zone is known
		}
		pt := Patient{Accession: r.Accession, Name: r.Patient.Name, BirthDate: r.Patient.BirthDate, Sex: r.Patient.Sex, Issuer: r.Patient.Issuer, ID: r.Patient.ID}
		studies = append(studies, st)
		patients = append(patients, pt)
	}
	if len(studies) == 0 {
		return nil // the common tick: nothing went quiet
	}
	codes := map[string]map[string]string{}
	if facs, err := s.roster.Facilities(ctx); err == nil {
		for _, f := range facs {
			codes[f.ID] = f.Codes
		}
	}
	for i, st := range studies {
		if s.opt.Enrich != nil {
			if err := s.opt.Enrich(ctx, st, patients[i]); err != nil {
				s.log.Warn("enrich study", "err", err)
			}
		}
		// A facility's local procedure code maps to CPT through its contract.
		if cpt, ok := codes[st.FacilityID][st.CPT]; ok {
			st.CPT = cpt
		}
		if rvu, ok := s.opt.RVU.Lookup(st.CPT, model.DateOf(st.ArrivalTime)); ok {
			st.WorkRVU = rvu
		}
		classes, err := archive.SOPClasses(ctx, s.db, st.ID)
		if err != nil {
			return err
		}
		st.SOPClasses = classes
		if s.opt.Hold != nil {
			switch s.opt.Hold(ctx, st, patients[i]) {
			case Wait:
				continue
			case NotForReading:
				if err := s.setAside(ctx, st); err != nil {
					s.log.Warn("set study aside", "err", err)
				}
				continue
			}
		}
		if err := s.Admit(ctx, st); err != nil {
			s.log.Warn("admit study", "err", err)
		}
	}
	return nil
}

// Admit puts a study on the worklist (idempotent per study UID).
func (s *Service) Admit(ctx context.Context, st *model.Study) error {
	if s.remote() {
		return s.forward(ctx, "Admit", call{Doc: st}, nil)
	}
	doc, _ := json.Marshal(st)
	now := db.Now(s.opt.Now())
	res, err := s.writeItems(ctx, `INSERT INTO read_item (study_uid, facility_id, doc, status, created_at, updated_at) VALUES (?, ?, ?, 'waiting', ?, ?)
		ON CONFLICT (study_uid) DO NOTHING`, st.ID, st.FacilityID, string(doc), now, now)
	if err != nil {
		return fmt.Errorf("admit %s: %w", st.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	_, err = s.apply(ctx, assign.StudyReady{Study: st}, "")
	if errors.Is(err, assign.ErrUnknownFacility) {
		// The facility was set up after the engine loaded its list (the
		// demo seeding, an import through another node): reload, retry.
		if ferr := s.FacilitiesChanged(ctx); ferr == nil {
			_, err = s.apply(ctx, assign.StudyReady{Study: st}, "")
		}
	}
	if err != nil {
		// Not in the engine: take the row back, so the next tick admits the
		// study again instead of leaving it on the board but unassignable.
		if _, derr := s.writeItems(ctx, "DELETE FROM read_item WHERE study_uid = ? AND status = 'waiting'", st.ID); derr != nil {
			s.log.Error("admit: undo read item", "err", derr)
		}
		return fmt.Errorf("admit %s: %w", st.ID, err)
	}
	return nil
}

// setAside records a study that is not reading work (status 'prior'), so
// it is neither admitted nor looked at again.
func (s *Service) setAside(ctx context.Context, st *model.Study) error {
	doc, _ := json.Marshal(st)
	now := db.Now(s.opt.Now())
	_, err := s.writeItems(ctx, `INSERT INTO read_item (study_uid, facility_id, doc, status, note, created_at, updated_at) VALUES (?, ?, ?, 'prior', 'prior retrieved from the facility PACS', ?, ?)
		ON CONFLICT (study_uid) DO NOTHING`, st.ID, st.FacilityID, string(doc), now, now)
	return err
}

// primaryModality picks the imaging modality of a study (not SR/PR/KO).
func primaryModality(mods string) string {
	for _, m := range strings.Split(mods, `\`) {
		switch m {
		case "", "SR", "PR", "KO", "DOC", "OT":
		default:
			return m
		}
	}
	return ""
}

// dicomPriority maps Requested Procedure Priority to STAT/ASAP/routine.
func dicomPriority(p string) string {
	switch strings.ToUpper(strings.TrimSpace(p)) {
	case "STAT":
		return "stat"
	case "HIGH", "ASAP", "URGENT":
		return "asap"
	}
	return "routine"
}

func padTime(t string) string {
	t, _, _ = strings.Cut(t, ".")
	for len(t) < 6 {
		t += "0"
	}
	return t[:6]
}

// Heartbeat records that a reader's client is alive.
func (s *Service) Heartbeat(ctx context.Context, readerID string, away bool) error {
	if s.remote() {
		return s.forward(ctx, "Heartbeat", call{Reader: readerID, Away: away}, nil)
	}
	_, err := s.apply(ctx, assign.Heartbeat{ReaderID: readerID, Away: away}, readerID)
	if errors.Is(err, assign.ErrUnknownReader) {
		// A reader set up moments ago (the CLI beside the server, another
		// node) logs in before the next tick: load them now.
		if rerr := s.ReaderChanged(ctx, readerID); rerr == nil {
			_, err = s.apply(ctx, assign.Heartbeat{ReaderID: readerID, Away: away}, readerID)
		}
	}
	return err
}

// DisplayChecked records a reader's display check (passed or not) for the
// mammography display-check rule. A user who is not a reader is ignored.
func (s *Service) DisplayChecked(ctx context.Context, readerID string, at time.Time, passed bool) error {
	if s.remote() {
		return s.forward(ctx, "DisplayChecked", call{Reader: readerID, At: at, Passed: passed}, nil)
	}
	_, err := s.apply(ctx, assign.DisplayChecked{ReaderID: readerID, At: at, Passed: passed}, readerID)
	if errors.Is(err, assign.ErrUnknownReader) {
		return nil
	}
	return err
}

// Offline logs a reader off.
func (s *Service) Offline(ctx context.Context, readerID string) error {
	if s.remote() {
		return s.forward(ctx, "Offline", call{Reader: readerID}, nil)
	}
	_, err := s.apply(ctx, assign.ReaderOffline{ReaderID: readerID}, readerID)
	return err
}

// Open marks a study opened by its lease holder; anyone else is refused,
// so a study is never open for reporting by two readers.
func (s *Service) Open(ctx context.Context, studyUID, readerID string) error {
	if s.remote() {
		return s.forward(ctx, "Open", call{Study: studyUID, Reader: readerID}, nil)
	}
	holder, ok := s.Holder(studyUID)
	if !ok {
		return ErrUnknownStudy
	}
	if holder != readerID {
		return ErrNotHolder
	}
	if _, err := s.apply(ctx, assign.Opened{StudyID: studyUID, ReaderID: readerID}, readerID); err != nil {
		return mapErr(err)
	}
	return s.setLeaseOpened(ctx, studyUID)
}

func (s *Service) setLeaseOpened(ctx context.Context, uid string) error {
	var raw string
	if err := s.db.QueryRow(ctx, "SELECT lease FROM read_item WHERE study_uid = ?", uid).Scan(&raw); err != nil || raw == "" {
		return nil
	}
	var l assign.Lease
	if json.Unmarshal([]byte(raw), &l) != nil {
		return nil
	}
	l.Opened = true
	b, _ := json.Marshal(l)
	_, err := s.writeItems(ctx, "UPDATE read_item SET lease = ? WHERE study_uid = ?", string(b), uid)
	return err
}

// Release hands a study back.
func (s *Service) Release(ctx context.Context, studyUID, readerID, reason string) error {
	if s.remote() {
		return s.forward(ctx, "Release", call{Study: studyUID, Reader: readerID, Reason: reason}, nil)
	}
	_, err := s.apply(ctx, assign.Released{StudyID: studyUID, ReaderID: readerID, Reason: reason}, readerID)
	return mapErr(err)
}

// Signed records a signed prelim or final.
func (s *Service) Signed(ctx context.Context, studyUID, readerID string, kind model.ReadKind) error {
	if s.remote() {
		return s.forward(ctx, "Signed", call{Study: studyUID, Reader: readerID, Kind: kind}, nil)
	}
	s.mu.Lock()
	_, err := s.db.Exec(ctx, `INSERT INTO assignment_event (at, study_uid, kind, reader_id, code, by_user) VALUES (?, ?, 'signed', ?, ?, ?)`,
		db.Now(s.opt.Now()), studyUID, readerID, kind.String(), readerID)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = s.apply(ctx, assign.Signed{StudyID: studyUID, ReaderID: readerID, Kind: kind}, readerID)
	err = mapErr(err)
	if errors.Is(err, ErrNotHolder) && kind == model.Final {
		// The report service committed the final (it checks the signer
		// itself) after the lease had moved: it expired, or the engine was
		// rebuilt after a crash before the reader was back. The study is
		// read, whoever holds it now.
		_, err = s.apply(ctx, assign.Cancelled{StudyID: studyUID, Reason: "final signed by " + readerID}, readerID)
		err = mapErr(err)
	}
	if errors.Is(err, ErrUnknownStudy) {
		return nil // not on the worklist (any more): nothing to follow
	}
	return err
}

// Reassign moves a study by hand; the reason is required and logged.
func (s *Service) Reassign(ctx context.Context, studyUID, toReader, reason, by string) error {
	if strings.TrimSpace(reason) == "" {
		return ErrReason
	}
	if s.remote() {
		return s.forward(ctx, "Reassign", call{Study: studyUID, Reader: toReader, Reason: reason, By: by}, nil)
	}
	_, err := s.apply(ctx, assign.Reassign{StudyID: studyUID, ToReader: toReader, Reason: reason, By: by}, by)
	return mapErr(err)
}

// Triage applies an outside triage result: a priority and flags with their source.
func (s *Service) Triage(ctx context.Context, studyUID string, priority *model.Priority, stroke, trauma bool, flags []string, source string) error {
	if s.remote() {
		return s.forward(ctx, "Triage", call{Study: studyUID, Priority: priority, Stroke: stroke, Trauma: trauma, Flags: flags, Source: source}, nil)
	}
	var st *model.Study
	var doc string
	err := s.db.QueryRow(ctx, "SELECT doc FROM read_item WHERE study_uid = ?", studyUID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrUnknownStudy
	}
	if err != nil {
		return err
	}
	if st, err = s.decodeStudy(doc); err != nil {
		return err
	}
	ch := assign.StudyChanged{StudyID: studyUID, Priority: st.Priority, Stroke: st.Stroke || stroke, Trauma: st.Trauma || trauma}
	if priority != nil && *priority > st.Priority {
		ch.Priority = *priority
	}
	for _, f := range flags {
		ch.Triage = append(ch.Triage, source+": "+f)
	}
	ch.Triage = append(st.Triage, ch.Triage...)
	st.Priority, st.Stroke, st.Trauma, st.Triage = ch.Priority, ch.Stroke, ch.Trauma, ch.Triage
	newDoc, _ := json.Marshal(st)
	if _, err := s.writeItems(ctx, "UPDATE read_item SET doc = ?, updated_at = ? WHERE study_uid = ?", string(newDoc), db.Now(s.opt.Now()), studyUID); err != nil {
		return err
	}
	if _, err := s.apply(ctx, ch, "triage:"+source); err != nil {
		return mapErr(err)
	}
	// The flag itself is news for the worklist even when nobody moves.
	at := db.Now(s.opt.Now())
	reason := strings.Join(ch.Triage, "; ")
	if _, err := s.db.Exec(ctx, `INSERT INTO assignment_event (at, study_uid, kind, code, reason, by_user) VALUES (?, ?, 'triage', ?, ?, ?)`,
		at, studyUID, ch.Priority.String(), reason, "triage:"+source); err != nil {
		return err
	}
	holder, _ := s.Holder(studyUID)
	s.publish(Change{Kind: "triage", StudyUID: studyUID, ReaderID: holder, Code: ch.Priority.String(), Reason: reason, At: at})
	return nil
}

// ReaderChanged reloads a reader from the roster (after an edit or import);
// a lapsed licence takes that state's studies out of their queue at once.
func (s *Service) ReaderChanged(ctx context.Context, id string) error {
	if s.remote() {
		return s.forward(ctx, "ReaderChanged", call{Reader: id}, nil)
	}
	r, err := s.roster.Reader(ctx, id)
	if errors.Is(err, roster.ErrNotFound) {
		_, err = s.apply(ctx, assign.ReaderRemoved{ReaderID: id}, "")
		return mapErr(err)
	}
	if err != nil {
		return err
	}
	_, err = s.apply(ctx, assign.ReaderUpdated{Reader: r}, "")
	return err
}

// ReloadAll reloads every facility and reader (after a bulk change such as
// seeding or an import).
func (s *Service) ReloadAll(ctx context.Context) error {
	if s.remote() {
		return s.forward(ctx, "ReloadAll", call{}, nil)
	}
	if err := s.FacilitiesChanged(ctx); err != nil {
		return err
	}
	rs, err := s.roster.Readers(ctx)
	if err != nil {
		return err
	}
	ids := map[string]bool{}
	for _, r := range rs {
		if _, err := s.apply(ctx, assign.ReaderUpdated{Reader: r}, ""); err != nil {
			return err
		}
		ids[r.ID] = true
	}
	s.setupMu.Lock()
	gone := []string{}
	for id := range s.readerIDs {
		if !ids[id] {
			gone = append(gone, id)
		}
	}
	s.readerIDs = ids
	s.setupMu.Unlock()
	for _, id := range gone {
		if _, err := s.apply(ctx, assign.ReaderRemoved{ReaderID: id}, ""); err != nil && !errors.Is(err, assign.ErrUnknownReader) {
			return err
		}
	}
	return nil
}

// SyncSetup reloads facilities and readers when the set-up stamp moved
// (the API calls it after a set-up write, ticks catch other processes).
func (s *Service) SyncSetup(ctx context.Context) error {
	if s.opt.SetupVersion == nil {
		return nil
	}
	v, err := s.opt.SetupVersion(ctx)
	if err != nil {
		return err
	}
	s.setupMu.Lock()
	same := v == s.setupSeen
	s.setupMu.Unlock()
	if same {
		return nil
	}
	if err := s.ReloadAll(ctx); err != nil {
		return err
	}
	s.setupMu.Lock()
	s.setupSeen = v
	s.setupMu.Unlock()
	s.log.Info("set-up changed: facilities and readers reloaded", "version", v)
	return nil
}

// FacilitiesChanged reloads every facility.
func (s *Service) FacilitiesChanged(ctx context.Context) error {
	if s.remote() {
		return s.forward(ctx, "FacilitiesChanged", call{}, nil)
	}
	facs, err := s.roster.Facilities(ctx)
	if err != nil {
		return err
	}
	for _, f := range facs {
		if _, err := s.apply(ctx, assign.FacilityUpdated{Facility: f}, ""); err != nil {
			return err
		}
	}
	return nil
}

// Holder returns who holds a study's lease.
func (s *Service) Holder(studyUID string) (reader string, onWorklist bool) {
	if s.remote() {
		return s.persistedHolder(studyUID)
	}
	s.eng.Do(func(e *assign.Engine) { reader, onWorklist = e.Holder(studyUID) })
	return reader, onWorklist
}

// Queue returns a reader's leased studies, most urgent first.
func (s *Service) Queue(readerID string) []string {
	var q []string
	if s.remote() {
		_ = s.forward(context.Background(), "Queue", call{Reader: readerID}, &q)
		return q
	}
	s.eng.Do(func(e *assign.Engine) { q = e.Queue(readerID) })
	return q
}

// Explain lists, for a study on the worklist, why each reader is or is not eligible.
func (s *Service) Explain(studyUID string) ([]assign.Candidate, error) {
	var c []assign.Candidate
	var err error
	if s.remote() {
		err = s.forward(context.Background(), "Explain", call{Study: studyUID}, &c)
		return c, err
	}
	s.eng.Do(func(e *assign.Engine) { c, err = e.Explain(studyUID) })
	return c, mapErr(err)
}

// Stats summarises the engine.
func (s *Service) Stats() assign.Stats {
	var st assign.Stats
	if s.remote() {
		_ = s.forward(context.Background(), "Stats", call{}, &st)
		return st
	}
	s.eng.Do(func(e *assign.Engine) { st = e.Stats() })
	return st
}

// ShiftStates returns every reader's shift and presence as the engine's
// eligibility check sees them now.
func (s *Service) ShiftStates() map[string]model.ShiftState {
	var st map[string]model.ShiftState
	if s.remote() {
		_ = s.forward(context.Background(), "ShiftStates", call{}, &st)
		return st
	}
	s.eng.Do(func(e *assign.Engine) { st = e.ShiftStates() })
	return st
}

// Subscribe streams changes for one reader, or with board every change.
func (s *Service) Subscribe(readerID string, board bool) (<-chan Change, func()) {
	return s.hub.subscribe(readerID, board)
}

func mapErr(err error) error {
	switch {
	case errors.Is(err, assign.ErrUnknownStudy):
		return ErrUnknownStudy
	case errors.Is(err, assign.ErrNoLease):
		return ErrNotHolder
	}
	return err
}

// Arrivals returns the studies that reached the worklist in [from, to), as
// the engine saw them: a past day's real volume, for replaying against a
// roster in the simulator.
func Arrivals(ctx context.Context, d *db.DB, from, to time.Time) ([]model.Study, error) {
	return studiesWhere(ctx, d, "created_at >= ? AND created_at < ?", db.Now(from), db.Now(to))
}

// Notify pushes a message to one reader's live worklist stream (a final
// that changed their preliminary read, a request to call back ...).
func (s *Service) Notify(readerID, kind, studyUID, reason string) {
	s.publish(Change{Kind: kind, StudyUID: studyUID, ReaderID: readerID, Reason: reason, At: db.Now(s.opt.Now())})
}
