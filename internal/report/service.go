package report

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/db"
	"lightbox/internal/dispatch"
	"lightbox/internal/event"
	"lightbox/internal/model"
	"lightbox/internal/order"
	"lightbox/internal/outbox"
	"lightbox/internal/roster"
)

// Options configure a Service. Every field is optional.
type Options struct {
	// Orders finds a study's order by accession (default: order.Service on
	// the same database).
	Orders *order.Service
	// Reader loads a reader's credentials (default roster.Store.Reader).
	Reader func(ctx context.Context, id string) (*model.Reader, error)
	// Facilities loads facilities with their contracts (default
	// roster.Store.Facilities).
	Facilities func(ctx context.Context) ([]*model.Facility, error)
	// Rules are the eligibility rules of the re-check at signing (default
	// model.DefaultRules()).
	Rules *model.Rules
	// RVU is the work-RVU table (default model.DefaultRVU()).
	RVU *model.RVUTable
	// Templates are the report templates (default DefaultTemplates()).
	Templates *Templates
	// SendingApp is MSH-3 of the ORU messages (default "LIGHTBOX").
	SendingApp string
	// Results queues a signed version's result message in the signing
	// transaction when the facility has an hl7 endpoint; wire
	// hl7report.Outbox. Nil sends nothing (and marks no prelim
	// communicated by delivery).
	Results ResultWriter
	Now     func() time.Time
	Logger  *slog.Logger

	// OnSigned handles the durable "report.signed" event written with a
	// prelim or final (not addenda or corrections); wire
	// dispatch.Service.Signed. It runs right after the commit and, should
	// it fail or the process die first, again until it succeeds
	// (internal/event): it must be idempotent.
	OnSigned func(ctx context.Context, studyUID, readerID string, kind model.ReadKind) error
	// NotifyDiscrepancy tells the prelim reader that the final differs
	// materially from their prelim (peer learning). Called after commit.
	NotifyDiscrepancy func(ctx context.Context, prelimReaderID string, d Discrepancy)
	// OnDiscrepancy starts a discrepancy communication (docs/domain.md §5 situation
	// 2) when the discrepant prelim had been communicated. It handles the
	// durable "report.discrepancy" event like OnSigned: idempotent.
	OnDiscrepancy func(ctx context.Context, d Discrepancy) error
	// Events carries the signing's consequences to other modules (nil: a
	// bus of the service's own, drained after each signature and at Start).
	Events *event.Bus
}

// Durable events the report service publishes (internal/event).
const (
	EventSigned      = "report.signed"
	EventDiscrepancy = "report.discrepancy"
)

// SignedEvent is the payload of EventSigned.
type SignedEvent struct {
	StudyUID string         `json:"study_uid"`
	ReaderID string         `json:"reader_id"`
	Kind     model.ReadKind `json:"kind"`
}

// Service keeps reports. Create it with New; it is safe for concurrent use.
type Service struct {
	db  *db.DB
	opt Options
}

// New returns a Service on d, filling unset options with defaults.
func New(d *db.DB, opt Options) *Service {
	if opt.Orders == nil {
		opt.Orders = &order.Service{DB: d}
	}
	rs := roster.Store{DB: d}
	if opt.Reader == nil {
		opt.Reader = rs.Reader
	}
	if opt.Facilities == nil {
		opt.Facilities = rs.Facilities
	}
	if opt.Rules == nil {
		r := model.DefaultRules()
		opt.Rules = &r
	}
	if opt.RVU == nil {
		opt.RVU = model.DefaultRVU()
	}
	if opt.Templates == nil {
		opt.Templates = DefaultTemplates()
	}
	if opt.SendingApp == "" {
		opt.SendingApp = "LIGHTBOX"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Events == nil {
		opt.Events = &event.Bus{DB: d, Logger: opt.Logger}
	}
	s := &Service{db: d, opt: opt}
	opt.Events.Handle(EventSigned, func(ctx context.Context, e event.Event) error {
		var p SignedEvent
		if err := e.Decode(&p); err != nil || s.opt.OnSigned == nil {
			return err
		}
		return s.opt.OnSigned(ctx, p.StudyUID, p.ReaderID, p.Kind)
	})
	opt.Events.Handle(EventDiscrepancy, func(ctx context.Context, e event.Event) error {
		var d Discrepancy
		if err := e.Decode(&d); err != nil || s.opt.OnDiscrepancy == nil {
			return err
		}
		return s.opt.OnDiscrepancy(ctx, d)
	})
	return s
}

// Events is the bus the service publishes on.
func (s *Service) Events() *event.Bus { return s.opt.Events }

// Templates returns the service's templates.
func (s *Service) Templates() *Templates { return s.opt.Templates }

// ---------------------------------------------------------------- study

// study is what the archive and the order know of a study.
type study struct {
	UID, FacilityID, FacilityName, Accession, Modalities, ProcedureCode, BodyPart string
	StudyDate, StudyTime, Description                                             string
	PatientPK                                                                     int64
	Issuer, PatientID, PatientName, BirthDate, Sex                                string
	Order                                                                         *order.Order
	Facility                                                                      *model.Facility // nil when it has no roster entry
}

func (st *study) modality() string {
	for _, m := range strings.Split(st.Modalities, `\`) {
		switch m {
		case "", "SR", "PR", "KO", "DOC", "OT":
		default:
			return m
		}
	}
	if st.Order != nil {
		return st.Order.Modality
	}
	return ""
}

// procedure returns the procedure code and text: the order's when there is
// one, else the study's.
func (st *study) procedure() (code, text, system string) {
	if st.Order != nil && st.Order.ProcedureCode != "" {
		return st.Order.ProcedureCode, st.Order.ProcedureText, st.Order.ProcedureSystem
	}
	return st.ProcedureCode, st.Description, ""
}

// cpt maps the study's procedure code through the facility's local code
// map (model.ProcedureMap).
func (st *study) cpt() string {
	code := st.ProcedureCode
	if code == "" && st.Order != nil {
		code = st.Order.ProcedureCode
	}
	pm := model.ProcedureMap{}
	if st.Facility != nil {
		pm.Codes = st.Facility.Codes
	}
	c, _ := pm.CPT(code)
	return strings.ToUpper(c)
}

func (st *study) loc() *time.Location {
	if st.Facility != nil && st.Facility.Loc != nil {
		return st.Facility.Loc
	}
	return time.UTC
}

func (s *Service) loadStudy(ctx context.Context, uid string) (*study, error) {
	rec, err := archive.Study(ctx, s.db, uid)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, ErrUnknownStudy
	}
	if err != nil {
		return nil, fmt.Errorf("report: load study: %w", err)
	}
	p := rec.Patient
	st := &study{UID: uid, FacilityID: rec.FacilityID, Accession: rec.Accession, Modalities: rec.Modalities, ProcedureCode: rec.ProcedureCode,
		BodyPart: rec.BodyPart, StudyDate: rec.StudyDate, StudyTime: rec.StudyTime, Description: rec.Description,
		PatientPK: p.PK, Issuer: p.Issuer, PatientID: p.ID, PatientName: p.Name, BirthDate: p.BirthDate, Sex: p.Sex}
	if st.Accession != "" {
		o, err := s.opt.Orders.ByAccession(ctx, st.FacilityID, st.Accession)
		switch {
		case err == nil:
			st.Order = &o
		case !errors.Is(err, order.ErrNotFound):
			return nil, fmt.Errorf("report: load order: %w", err)
		}
	}
	facs, err := s.opt.Facilities(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: load facilities: %w", err)
	}
	st.FacilityName = st.FacilityID
	for _, f := range facs {
		if f.ID == st.FacilityID {
			st.Facility = f
			if f.Name != "" {
				st.FacilityName = f.Name
			}
			break
		}
	}
	return st, nil
}

// credStudy is the study as model.Check sees it: the worklist's copy
// when the study is on it (SOP classes, flags), else built from the archive;
// the order's patient state and Medicare flag apply on top.
func (s *Service) credStudy(ctx context.Context, st *study) (*model.Study, error) {
	it, err := dispatch.ItemOf(ctx, s.db, st.UID)
	var cs *model.Study
	switch {
	case err == nil:
		if cs, err = it.Study(); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	case errors.Is(err, dispatch.ErrUnknownStudy):
		cs = &model.Study{ID: st.UID, Modality: st.modality(), BodyPart: st.BodyPart}
		if cs.SOPClasses, err = archive.SOPClasses(ctx, s.db, st.UID); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	default:
		return nil, fmt.Errorf("report: load worklist study: %w", err)
	}
	cs.FacilityID = st.FacilityID
	if c := st.cpt(); c != "" {
		cs.CPT = c
	}
	if st.Facility != nil {
		f := *st.Facility
		if st.Order != nil && st.Order.Medicare {
			f.Medicare = true // the payer of this order decides L6/L8
		}
		cs.Facility = &f
	}
	if st.Order != nil && st.Order.LocationState != "" {
		cs.PatientState = st.Order.LocationState
	}
	return cs, nil
}

// signerFor completes a signer from the roster and checks the reader's
// eligibility for a read of this kind now (docs/domain.md §1 L3: re-checked at
// signing). A location claimed at signing is used, except that a reader the
// roster places outside the US cannot sign as if in the US.
func (s *Service) signerFor(ctx context.Context, st *study, by Signer, kind model.ReadKind, now time.Time) (Signer, error) {
	if by.ReaderID == "" {
		return by, ErrUnknownReader
	}
	r, err := s.opt.Reader(ctx, by.ReaderID)
	if errors.Is(err, roster.ErrNotFound) {
		return by, ErrUnknownReader
	}
	if err != nil {
		return by, fmt.Errorf("report: load reader: %w", err)
	}
	if by.Display == "" {
		by.Display = r.Name
	}
	if by.Display == "" {
		by.Display = r.ID
	}
	if by.Location == (model.Location{}) || (!r.Location.InUS() && by.Location.InUS()) {
		by.Location = r.Location
	}
	if by.Location.InUS() && by.Location.Country == "" {
		by.Location.Country = "US"
	}
	cs, err := s.credStudy(ctx, st)
	if err != nil {
		return by, err
	}
	rc := *r
	rc.Location = by.Location
	if ex := s.opt.Rules.Check(&rc, cs, kind, now, model.Signing()); len(ex) > 0 {
		return by, &IneligibleError{Kind: kind, Exclusions: ex}
	}
	return by, nil
}

// ---------------------------------------------------------------- storage

type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

type versionDoc struct {
	Content Content `json:"content"`
	Text    string  `json:"text,omitempty"`
}

func newReportID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "rpt_" + hex.EncodeToString(b[:])
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

const reportCols = "id, study_uid, facility_id, accession, patient_pk, order_id, status, created_at, updated_at"

func scanReport(r interface{ Scan(...any) error }) (Report, error) {
	var rep Report
	var created, updated string
	err := r.Scan(&rep.ID, &rep.StudyUID, &rep.FacilityID, &rep.Accession, &rep.PatientPK, &rep.OrderID, &rep.Status, &created, &updated)
	rep.CreatedAt, rep.UpdatedAt = db.ParseOptional(created), db.ParseOptional(updated)
	return rep, err
}

// ensureReport returns the study's report, creating it, and its versions.
func ensureReport(ctx context.Context, tx *db.Tx, st *study, now time.Time) (Report, []Version, error) {
	orderID := ""
	if st.Order != nil {
		orderID = st.Order.ID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO report (id, study_uid, facility_id, accession, patient_pk, order_id, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (study_uid) DO NOTHING`,
		newReportID(), st.UID, st.FacilityID, st.Accession, st.PatientPK, orderID, StatusRegistered, db.Now(now), db.Now(now)); err != nil {
		return Report{}, nil, fmt.Errorf("report: create: %w", err)
	}
	rep, err := scanReport(tx.QueryRow(ctx, "SELECT "+reportCols+" FROM report WHERE study_uid = ?", st.UID))
	if err != nil {
		return Report{}, nil, fmt.Errorf("report: load: %w", err)
	}
	vs, err := loadVersions(ctx, tx, rep.ID)
	return rep, vs, err
}

func loadVersions(ctx context.Context, q querier, reportID string) ([]Version, error) {
	return db.List("report: versions", db.Rows(q.Query(ctx, `SELECT seq, kind, author, content, reason, signed_at, signer_display, location_country, location_state,
		system_generated, communicated, cpt, work_rvu, created_at FROM report_version WHERE report_id = ? ORDER BY seq`, reportID)), scanVersion)
}

func scanVersion(r db.Scanner) (Version, error) {
	var v Version
	var kind, content, signedAt, display, country, state, created string
	var system, comm int
	if err := r.Scan(&v.Seq, &kind, &v.Author, &content, &v.Reason, &signedAt, &display, &country, &state, &system, &comm, &v.CPT, &v.WorkRVU, &created); err != nil {
		return v, err
	}
	v.Kind = Kind(kind)
	var d versionDoc
	if err := json.Unmarshal([]byte(content), &d); err != nil {
		return v, fmt.Errorf("version %d: %w", v.Seq, err)
	}
	v.Content, v.Text = d.Content, d.Text
	v.SignedAt, v.CreatedAt = db.ParseOptional(signedAt), db.ParseOptional(created)
	v.SystemGenerated, v.Communicated = system != 0, comm != 0
	if v.Kind.Signed() {
		v.Signer = &Signer{ReaderID: v.Author, Display: display, Location: model.Location{Country: country, State: state}}
	}
	return v, nil
}

// insertVersion appends a version; the (report_id, seq) key turns a
// concurrent append into ErrConflict. Versions are never updated.
func insertVersion(ctx context.Context, tx *db.Tx, reportID, facilityID, modality string, v Version) error {
	doc, err := json.Marshal(versionDoc{Content: v.Content, Text: v.Text})
	if err != nil {
		return err
	}
	signedAt, display, country, state := "", "", "", ""
	if v.Signer != nil {
		signedAt, display, country, state = db.Now(v.SignedAt), v.Signer.Display, v.Signer.Location.Country, v.Signer.Location.State
	}
	_, err = tx.Exec(ctx, `INSERT INTO report_version (report_id, seq, kind, author, content, reason, signed_at, signer_display, location_country, location_state,
		system_generated, communicated, facility_id, modality, cpt, work_rvu, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		reportID, v.Seq, string(v.Kind), v.Author, string(doc), v.Reason, signedAt, display, country, state,
		b2i(v.SystemGenerated), b2i(v.Communicated), facilityID, modality, v.CPT, v.WorkRVU, db.Now(v.CreatedAt))
	if db.IsUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("report: save version: %w", err)
	}
	return nil
}

// summary is a report's state derived from its versions.
type summary struct {
	base, draft, last, prelim, final *Version
	addenda                          []Version
	status                           string
}

func summarize(vs []Version) summary {
	var sm summary
	sm.status = StatusRegistered
	for i := range vs {
		v := &vs[i]
		switch v.Kind {
		case KindDraft:
			continue
		case KindPrelim:
			sm.base, sm.prelim, sm.status = v, v, StatusPreliminary
		case KindFinal:
			sm.base, sm.final, sm.status = v, v, StatusFinal
		case KindCorrection:
			sm.base, sm.status = v, StatusAmended
		case KindAddendum:
			sm.addenda = append(sm.addenda, *v)
			if sm.final != nil {
				sm.status = StatusAppended
			}
		}
		sm.last = v
	}
	if n := len(vs); n > 0 && vs[n-1].Kind == KindDraft {
		sm.draft = &vs[n-1]
	}
	return sm
}

func nextSeq(vs []Version) int {
	if len(vs) == 0 {
		return 1
	}
	return vs[len(vs)-1].Seq + 1
}

func setStatus(ctx context.Context, tx *db.Tx, reportID, status string, now time.Time) error {
	_, err := tx.Exec(ctx, "UPDATE report SET status = ?, updated_at = ? WHERE id = ?", status, db.Now(now), reportID)
	return err
}

// ---------------------------------------------------------------- lifecycle

// SaveDraft stores c as a new draft version by author (every autosave is
// kept). A report with a final is refused with ErrSigned.
func (s *Service) SaveDraft(ctx context.Context, studyUID, author string, c Content) (Version, error) {
	if author == "" {
		return Version{}, ErrUnknownReader
	}
	st, err := s.loadStudy(ctx, studyUID)
	if err != nil {
		return Version{}, err
	}
	now := s.opt.Now()
	v := Version{Kind: KindDraft, Author: author, Content: c, CreatedAt: now}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		rep, vs, err := ensureReport(ctx, tx, st, now)
		if err != nil {
			return err
		}
		sm := summarize(vs)
		if sm.final != nil {
			return ErrSigned
		}
		if sm.draft != nil && sm.draft.Author != author {
			return ErrNotAuthor
		}
		v.Seq = nextSeq(vs)
		if err := insertVersion(ctx, tx, rep.ID, st.FacilityID, st.modality(), v); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE report SET updated_at = ? WHERE id = ?", db.Now(now), rep.ID)
		return err
	})
	if err != nil {
		return Version{}, err
	}
	return v, nil
}

// SignRequest asks for a prelim or final signature.
type SignRequest struct {
	Kind   model.ReadKind `json:"-"`
	Signer Signer         `json:"signer"`
	// Authenticated must be true: the caller confirmed a recent
	// re-authentication (HIPAA automatic logoff; the API sets it after
	// its RecentAuth hook, e.g. auth.Service.RequireRecentAuth, passes).
	Authenticated bool `json:"-"`
	// Content, when set, is signed as is; otherwise the signer's latest
	// draft, or for a final over a prelim the prelim's content.
	Content *Content `json:"content,omitempty"`
	// Discrepant is the final signer's flag that the final differs
	// materially from the prelim even if the impression reads the same.
	Discrepant bool   `json:"discrepant,omitempty"`
	Note       string `json:"note,omitempty"`
	// Communicated records that a prelim was also communicated verbally.
	Communicated bool `json:"communicated,omitempty"`
}

// checkContent refuses an empty impression and invalid structured fields;
// MQSA mammography always needs BI-RADS and density (docs/domain.md §3 M3).
func (s *Service) checkContent(ctx context.Context, st *study, c Content) error {
	if strings.TrimSpace(c.Impression) == "" {
		return ErrEmptyImpression
	}
	if c.TemplateID != "" {
		if t, ok := s.opt.Templates.Get(c.TemplateID); ok {
			if err := checkFields(c, t.Fields); err != nil {
				return err
			}
		}
	}
	cs, err := s.credStudy(ctx, st)
	if err != nil {
		return err
	}
	if cs.IsMammography() {
		return checkFields(c, mammoFields(s.opt.Templates))
	}
	return nil
}

// Sign signs a prelim or a final. The signer must be eligible now
// (model.Check with the signature's location: *IneligibleError
// otherwise), must be the author of the pending draft if there is one, and
// the impression must not be empty. A final may be signed over another
// reader's prelim; both stay. A material prelim → final difference records
// a Discrepancy. The ORU^R01 is enqueued in the same transaction.
func (s *Service) Sign(ctx context.Context, studyUID string, req SignRequest) (Version, error) {
	if !req.Authenticated {
		return Version{}, ErrReauth
	}
	kind := KindPrelim
	switch req.Kind {
	case model.Prelim:
	case model.Final:
		kind = KindFinal
	default:
		return Version{}, fmt.Errorf("%w: kind must be prelim or final", ErrInvalid)
	}
	st, err := s.loadStudy(ctx, studyUID)
	if err != nil {
		return Version{}, err
	}
	now := s.opt.Now()
	signer, err := s.signerFor(ctx, st, req.Signer, req.Kind, now)
	if err != nil {
		return Version{}, err
	}
	cpt := st.cpt()
	rvu, _ := s.opt.RVU.Lookup(cpt, model.DateIn(now, st.loc()))
	v := Version{Kind: kind, Author: signer.ReaderID, SignedAt: now, Signer: &signer, CPT: cpt, WorkRVU: rvu, CreatedAt: now, Communicated: req.Communicated}
	var disc *Discrepancy
	err = s.write(ctx, st, now, func(tx *db.Tx, rep Report, vs []Version) ([]Version, error) {
		sm := summarize(vs)
		if sm.final != nil {
			return nil, ErrSigned
		}
		switch {
		case sm.draft != nil && sm.draft.Author != signer.ReaderID:
			return nil, ErrNotAuthor
		case req.Content != nil:
			v.Content = *req.Content
		case sm.draft != nil:
			v.Content = sm.draft.Content
		case sm.base != nil && kind == KindFinal:
			v.Content = sm.base.Content
		}
		if err := s.checkContent(ctx, st, v.Content); err != nil {
			return nil, err
		}
		v.Seq = nextSeq(vs)
		if kind == KindFinal && sm.prelim != nil {
			changed := normImpression(sm.prelim.Content.Impression) != normImpression(v.Content.Impression)
			if changed || req.Discrepant {
				communicated := false
				for _, p := range vs {
					if p.Kind == KindPrelim && p.Communicated {
						communicated = true
					}
				}
				disc = &Discrepancy{ReportID: rep.ID, StudyUID: st.UID, FacilityID: st.FacilityID, PrelimSeq: sm.prelim.Seq, FinalSeq: v.Seq,
					PrelimReader: sm.prelim.Author, FinalReader: signer.ReaderID, ImpressionChanged: changed, Flagged: req.Discrepant,
					Note: req.Note, PrelimCommunicated: communicated, At: now}
			}
		}
		return []Version{v}, nil
	}, func(tx *db.Tx, rep Report, vs []Version, delivered bool) error {
		// The worklist (and a discrepancy's communication loop) follow the
		// signature through durable events written in its transaction.
		if err := event.Publish(ctx, tx, EventSigned, studyUID, SignedEvent{StudyUID: studyUID, ReaderID: signer.ReaderID, Kind: req.Kind}); err != nil {
			return err
		}
		if disc == nil {
			return nil
		}
		if err := tx.QueryRow(ctx, `INSERT INTO report_discrepancy (report_id, study_uid, prelim_seq, final_seq, prelim_reader, final_reader,
			impression_changed, flagged, note, prelim_communicated, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk`,
			disc.ReportID, disc.StudyUID, disc.PrelimSeq, disc.FinalSeq, disc.PrelimReader, disc.FinalReader,
			b2i(disc.ImpressionChanged), b2i(disc.Flagged), disc.Note, b2i(disc.PrelimCommunicated), db.Now(now)).Scan(&disc.ID); err != nil {
			return err
		}
		if disc.PrelimCommunicated {
			return event.Publish(ctx, tx, EventDiscrepancy, studyUID, disc)
		}
		return nil
	}, &v)
	if err != nil {
		return Version{}, err
	}
	s.opt.Logger.Info("report: signed", "kind", string(kind), "seq", v.Seq)
	event.CrashPoint(EventSigned) // test-only: the kill test stops here
	if _, err := s.opt.Events.Drain(ctx); err != nil {
		s.opt.Logger.Warn("report: events pending (retried)", "error", err)
	}
	if disc != nil {
		s.opt.Logger.Info("report: discrepancy recorded", "discrepancy", disc.ID, "communicated", disc.PrelimCommunicated)
		if s.opt.NotifyDiscrepancy != nil {
			s.opt.NotifyDiscrepancy(ctx, disc.PrelimReader, *disc)
		}
	}
	return v, nil
}

// write runs a signing transaction: decide (given the report and its
// versions) returns the versions to append, which are inserted; the
// report status is updated; the last new version's Result goes to
// Options.Results (an ORU^R01 in the outbox) when the facility has an hl7
// endpoint (a prelim sent so is marked communicated); after runs last.
// *out receives the stored version.
func (s *Service) write(ctx context.Context, st *study, now time.Time,
	decide func(tx *db.Tx, rep Report, vs []Version) ([]Version, error),
	after func(tx *db.Tx, rep Report, vs []Version, delivered bool) error, out *Version) error {
	settings, err := s.FacilitySettings(ctx, st.FacilityID)
	if err != nil {
		return err
	}
	ep, hasEP, err := outbox.LookupEndpoint(ctx, s.db, st.FacilityID, "hl7")
	if err != nil {
		return err
	}
	hasEP = hasEP && s.opt.Results != nil // no result channel wired: nothing is sent
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		rep, vs, err := ensureReport(ctx, tx, st, now)
		if err != nil {
			return err
		}
		add, err := decide(tx, rep, vs)
		if err != nil {
			return err
		}
		for i := range add {
			if add[i].Kind == KindPrelim && hasEP {
				add[i].Communicated = true
			}
			if err := insertVersion(ctx, tx, rep.ID, st.FacilityID, st.modality(), add[i]); err != nil {
				return err
			}
		}
		vs = append(vs, add...)
		sm := summarize(vs)
		rep.Status = sm.status
		if err := setStatus(ctx, tx, rep.ID, sm.status, now); err != nil {
			return err
		}
		last := add[len(add)-1]
		if hasEP {
			r := s.result(st, rep, vs, last, settings, now)
			if err := s.opt.Results(ctx, tx, ep, fmt.Sprintf("%s:%d", rep.ID, last.Seq), r); err != nil {
				return err
			}
		}
		*out = last
		if after != nil {
			return after(tx, rep, vs, hasEP)
		}
		return nil
	})
}

// Addendum appends a system-generated addendum signed by `by` (e.g. the
// critical-results communication statement, docs/domain.md §5 CR5). It needs a
// signed prelim or final; the signer's licence and privilege are
// re-checked as for a prelim (documenting a communication is not a new
// interpretation, so a reader abroad may document it). It goes out as an
// ORU like any signed version.
func (s *Service) Addendum(ctx context.Context, studyUID string, text string, by Signer) (Version, error) {
	return s.addendum(ctx, studyUID, text, by, true)
}

// ReaderAddendum appends an addendum the reader wrote. After a final the
// signer must be eligible to sign finals.
func (s *Service) ReaderAddendum(ctx context.Context, studyUID string, text string, by Signer) (Version, error) {
	return s.addendum(ctx, studyUID, text, by, false)
}

func (s *Service) addendum(ctx context.Context, studyUID, text string, by Signer, system bool) (Version, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Version{}, fmt.Errorf("%w: the addendum is empty", ErrInvalid)
	}
	st, err := s.loadStudy(ctx, studyUID)
	if err != nil {
		return Version{}, err
	}
	rk := model.Prelim
	if !system {
		if rep, err := s.Get(ctx, studyUID); err == nil && (rep.Status == StatusFinal || rep.Status == StatusAmended || rep.Status == StatusAppended) {
			rk = model.Final
		}
	}
	now := s.opt.Now()
	signer, err := s.signerFor(ctx, st, by, rk, now)
	if err != nil {
		return Version{}, err
	}
	v := Version{Kind: KindAddendum, Author: signer.ReaderID, Text: text, SignedAt: now, Signer: &signer, SystemGenerated: system, CreatedAt: now}
	err = s.write(ctx, st, now, func(tx *db.Tx, rep Report, vs []Version) ([]Version, error) {
		sm := summarize(vs)
		if sm.base == nil {
			return nil, ErrNotSigned
		}
		v.Content = sm.base.Content
		v.Seq = nextSeq(vs)
		return []Version{v}, nil
	}, nil, &v)
	if err != nil {
		return Version{}, err
	}
	s.opt.Logger.Info("report: addendum signed", "seq", v.Seq, "system", system)
	return v, nil
}

// Correct replaces the body of a finalized report with a corrected
// version (OBR-25 C, DiagnosticReport amended). A reason is required and
// the signer must be eligible to sign finals.
func (s *Service) Correct(ctx context.Context, studyUID string, c Content, reason string, by Signer) (Version, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Version{}, ErrReasonRequired
	}
	st, err := s.loadStudy(ctx, studyUID)
	if err != nil {
		return Version{}, err
	}
	if err := s.checkContent(ctx, st, c); err != nil {
		return Version{}, err
	}
	now := s.opt.Now()
	signer, err := s.signerFor(ctx, st, by, model.Final, now)
	if err != nil {
		return Version{}, err
	}
	v := Version{Kind: KindCorrection, Author: signer.ReaderID, Content: c, Reason: reason, SignedAt: now, Signer: &signer, CreatedAt: now}
	err = s.write(ctx, st, now, func(tx *db.Tx, rep Report, vs []Version) ([]Version, error) {
		if summarize(vs).final == nil {
			return nil, fmt.Errorf("%w: only a final report can be corrected", ErrNotSigned)
		}
		v.Seq = nextSeq(vs)
		return []Version{v}, nil
	}, nil, &v)
	if err != nil {
		return Version{}, err
	}
	s.opt.Logger.Info("report: corrected", "seq", v.Seq)
	return v, nil
}

// Get returns a study's report with its current state.
func (s *Service) Get(ctx context.Context, studyUID string) (Report, error) {
	rep, err := scanReport(s.db.QueryRow(ctx, "SELECT "+reportCols+" FROM report WHERE study_uid = ?", studyUID))
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := archive.Study(ctx, s.db, studyUID); errors.Is(err, archive.ErrNotFound) {
			return Report{}, ErrUnknownStudy
		}
		return Report{}, ErrNotFound
	}
	if err != nil {
		return Report{}, fmt.Errorf("report: load: %w", err)
	}
	vs, err := loadVersions(ctx, s.db, rep.ID)
	if err != nil {
		return Report{}, err
	}
	fill(&rep, vs)
	return rep, nil
}

func fill(rep *Report, vs []Version) {
	sm := summarize(vs)
	rep.Status, rep.Base, rep.Draft, rep.Addenda = sm.status, sm.base, sm.draft, sm.addenda
}

// Versions returns every version of a study's report, oldest first.
func (s *Service) Versions(ctx context.Context, studyUID string) ([]Version, error) {
	rep, err := s.Get(ctx, studyUID)
	if err != nil {
		return nil, err
	}
	return loadVersions(ctx, s.db, rep.ID)
}

// Discrepancies returns the discrepancy records of a study's report.
func (s *Service) Discrepancies(ctx context.Context, studyUID string) ([]Discrepancy, error) {
	return db.List("report: discrepancies", db.Rows(s.db.Query(ctx, `SELECT d.pk, d.report_id, d.study_uid, r.facility_id, d.prelim_seq, d.final_seq, d.prelim_reader, d.final_reader,
		d.impression_changed, d.flagged, d.note, d.prelim_communicated, d.created_at
		FROM report_discrepancy d JOIN report r ON r.id = d.report_id WHERE d.study_uid = ? ORDER BY d.pk`, studyUID)), func(r db.Scanner) (Discrepancy, error) {
		var d Discrepancy
		var changed, flagged, comm int
		var at string
		err := r.Scan(&d.ID, &d.ReportID, &d.StudyUID, &d.FacilityID, &d.PrelimSeq, &d.FinalSeq, &d.PrelimReader, &d.FinalReader,
			&changed, &flagged, &d.Note, &comm, &at)
		d.ImpressionChanged, d.Flagged, d.PrelimCommunicated, d.At = changed != 0, flagged != 0, comm != 0, db.ParseOptional(at)
		return d, err
	})
}

// Delivery is one outbound ORU of a report version.
type Delivery struct {
	Seq       int    `json:"seq"`
	Status    string `json:"status"` // pending | delivered | failed
	Attempts  int    `json:"attempts"`
	AckCode   string `json:"ack_code,omitempty"`
	LastError string `json:"last_error,omitempty"`
	CreatedAt string `json:"created_at"`
	Delivered string `json:"delivered_at,omitempty"`
}

// Deliveries lists the ORU messages of a study's report and their outbox
// state (docs/domain.md §9 W5: delivered only when the ACK arrived).
func (s *Service) Deliveries(ctx context.Context, studyUID string) ([]Delivery, error) {
	rep, err := s.Get(ctx, studyUID)
	if err != nil {
		return nil, err
	}
	rows, err := outbox.Related(ctx, s.db, "ORU", rep.ID+":", "")
	if err != nil {
		return nil, fmt.Errorf("report: deliveries: %w", err)
	}
	var out []Delivery
	for _, r := range rows {
		out = append(out, delivery(r))
	}
	return out, nil
}

// delivery is an outbox row as a report's delivery (its version from the
// related ID, "reportID:seq").
func delivery(r outbox.Row) Delivery {
	d := Delivery{Status: r.Status, Attempts: r.Attempts, AckCode: r.AckCode, LastError: r.LastError, CreatedAt: r.CreatedAt, Delivered: r.Delivered}
	_, seq, _ := strings.Cut(r.RelatedID, ":")
	_, _ = fmt.Sscan(seq, &d.Seq)
	return d
}

// FailedDelivery is a report ORU the facility refused or never acknowledged.
type FailedDelivery struct {
	Delivery
	ReportID   string `json:"report_id"`
	StudyUID   string `json:"study_uid"`
	FacilityID string `json:"facility_id"`
}

// FailedDeliveries lists report ORUs the outbox gave up on, for
// coordinators (outbox.Retry re-queues one).
func (s *Service) FailedDeliveries(ctx context.Context) ([]FailedDelivery, error) {
	rows, err := outbox.Related(ctx, s.db, "ORU", "", outbox.StatusFailed)
	if err != nil {
		return nil, fmt.Errorf("report: failed deliveries: %w", err)
	}
	var out []FailedDelivery
	for _, r := range rows {
		id, _, _ := strings.Cut(r.RelatedID, ":")
		d := FailedDelivery{Delivery: delivery(r), ReportID: id}
		d.StudyUID, d.FacilityID, err = s.ByID(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // as the join did: an ORU of no report here is not this list's
		}
		if err != nil {
			return nil, fmt.Errorf("report: failed deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// ---------------------------------------------------------------- settings

// FacilitySettings are a facility's report delivery settings.
type FacilitySettings struct {
	FacilityID string `json:"facility_id"`
	// EmbedPDF adds the PDF to each ORU as an ED OBX (Base64).
	EmbedPDF bool `json:"embed_pdf"`
	// Letterhead lines under the facility name (address, phone).
	Letterhead []string `json:"letterhead,omitempty"`
	// AddendumStatus is OBR-25 for an addendum after the final: "C"
	// (default: corrected, full text plus the addendum) or "A".
	AddendumStatus string `json:"addendum_status,omitempty"`
}

// FacilitySettings returns a facility's settings (defaults when unset).
func (s *Service) FacilitySettings(ctx context.Context, facilityID string) (FacilitySettings, error) {
	fs := FacilitySettings{FacilityID: facilityID, AddendumStatus: "C"}
	var embed int
	var lh string
	err := s.db.QueryRow(ctx, "SELECT embed_pdf, letterhead, addendum_status FROM report_facility WHERE facility_id = ?", facilityID).Scan(&embed, &lh, &fs.AddendumStatus)
	if found, err := db.Found(err, "report: facility settings"); !found {
		return fs, err
	}
	fs.EmbedPDF = embed != 0
	if lh != "" {
		fs.Letterhead = strings.Split(lh, "\n")
	}
	return fs, nil
}

// SetFacilitySettings creates or replaces a facility's settings.
func (s *Service) SetFacilitySettings(ctx context.Context, fs FacilitySettings) error {
	if fs.FacilityID == "" {
		return fmt.Errorf("%w: facility id required", ErrInvalid)
	}
	switch fs.AddendumStatus {
	case "":
		fs.AddendumStatus = "C"
	case "C", "A":
	default:
		return fmt.Errorf("%w: addendum status must be C or A", ErrInvalid)
	}
	lines := slices.DeleteFunc(slices.Clone(fs.Letterhead), func(l string) bool { return strings.TrimSpace(l) == "" })
	_, err := s.db.Exec(ctx, `INSERT INTO report_facility (facility_id, embed_pdf, letterhead, addendum_status, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (facility_id) DO UPDATE SET embed_pdf = excluded.embed_pdf, letterhead = excluded.letterhead,
		addendum_status = excluded.addendum_status, updated_at = excluded.updated_at`,
		fs.FacilityID, b2i(fs.EmbedPDF), strings.Join(lines, "\n"), fs.AddendumStatus, db.Now(s.opt.Now()))
	if err != nil {
		return fmt.Errorf("report: save facility settings: %w", err)
	}
	return nil
}

// ---------------------------------------------------------------- macros

// PutMacro creates or replaces a macro; owner "" is group-wide.
func (s *Service) PutMacro(ctx context.Context, owner, name, body string) error {
	name = strings.ToLower(name)
	if !validMacroName(name) || strings.TrimSpace(body) == "" {
		return fmt.Errorf("%w: a macro needs a name of letters, digits, - or _ and a body", ErrInvalid)
	}
	_, err := s.db.Exec(ctx, `INSERT INTO report_macro (owner, name, body, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (owner, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, owner, name, body, db.Now(s.opt.Now()))
	if err != nil {
		return fmt.Errorf("report: save macro: %w", err)
	}
	return nil
}

// DeleteMacro removes a stored macro.
func (s *Service) DeleteMacro(ctx context.Context, owner, name string) error {
	_, err := s.db.Exec(ctx, "DELETE FROM report_macro WHERE owner = ? AND name = ?", owner, strings.ToLower(name))
	return err
}

// Macros returns the macros a reader can use, sorted by name: the
// embedded group defaults, overridden by stored group macros, overridden
// by the reader's own.
func (s *Service) Macros(ctx context.Context, readerID string) ([]Macro, error) {
	byName := map[string]Macro{}
	for _, m := range DefaultMacros() {
		byName[m.Name] = m
	}
	stored, err := db.Collect(db.Rows(s.db.Query(ctx, "SELECT owner, name, body FROM report_macro WHERE owner = '' OR owner = ? ORDER BY owner, name", readerID)),
		func(r db.Scanner) (m Macro, err error) { return m, r.Scan(&m.Owner, &m.Name, &m.Body) })
	if err != nil {
		return nil, fmt.Errorf("report: macros: %w", err)
	}
	for _, m := range stored {
		byName[m.Name] = m // '' sorts first, so the reader's own win
	}
	out := make([]Macro, 0, len(byName))
	for _, m := range byName {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Macro) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Expand expands ".name" macro tokens in text with the reader's macros.
func (s *Service) Expand(ctx context.Context, readerID, text string) (string, error) {
	ms, err := s.Macros(ctx, readerID)
	if err != nil {
		return "", err
	}
	m := make(map[string]string, len(ms))
	for _, x := range ms {
		m[x.Name] = x.Body
	}
	return ExpandMacros(text, m), nil
}
