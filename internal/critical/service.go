package critical

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"lightbox/internal/archive"
	"lightbox/internal/bgloop"
	"lightbox/internal/db"
	"lightbox/internal/order"
)

// Options configure a Service.
type Options struct {
	DB     *db.DB
	Config Config
	// Orders finds the order of a study (ordering clinician, facility).
	// Optional: without it the facility comes from the request or the
	// archive's study row, and there is no ordering clinician rung.
	Orders Orders
	// Holder says who holds a study on the worklist (dispatch.Holder).
	Holder HolderFunc
	// Notifier delivers escalations and acknowledgement links. Optional.
	Notifier Notifier
	// Addenda writes the communication statement into the report. Without
	// it statements wait (pending) until one is configured.
	Addenda AddendumWriter
	Now     func() time.Time // nil = time.Now
	Logger  *slog.Logger
}

// Service runs critical result loops.
type Service struct {
	db       *db.DB
	cfg      Config
	orders   Orders
	holder   HolderFunc
	notifier Notifier
	addenda  AddendumWriter
	now      func() time.Time
	log      *slog.Logger
	dir      *Directory
	wake     chan struct{}
}

// New checks the configuration and returns a Service.
func New(opt Options) (*Service, error) {
	if opt.DB == nil {
		return nil, errors.New("critical: DB required")
	}
	if err := opt.Config.Validate(); err != nil {
		return nil, err
	}
	s := &Service{db: opt.DB, cfg: opt.Config.withDefaults(), orders: opt.Orders, holder: opt.Holder, notifier: opt.Notifier,
		addenda: opt.Addenda, now: opt.Now, log: opt.Logger, wake: make(chan struct{}, 1)}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "critical")
	s.dir = &Directory{DB: opt.DB, Now: s.now}
	return s, nil
}

// Directory returns the contact directory the service uses.
func (s *Service) Directory() *Directory { return s.dir }

// Now is the service clock.
func (s *Service) Now() time.Time { return s.now() }

// Config returns the configuration in force (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// nudge wakes running schedulers (a new or earlier timer).
func (s *Service) nudge() { bgloop.Wake(s.wake) }

var errNoChange = errors.New("no change")

// mutate loads a loop in a transaction, applies fn and stores the result
// if nobody changed the row meanwhile (retrying a few times otherwise).
// Notifications fn returns are sent after the commit. fn returning
// errNoChange ends without writing.
func (s *Service) mutate(ctx context.Context, id string, fn func(tx *db.Tx, r *Result, now time.Time) ([]Notification, error)) (Result, error) {
	for try := 0; try < 8; try++ {
		var out Result
		var notes []Notification
		conflict := false
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			r, err := loadResult(ctx, tx, id)
			if err != nil {
				return err
			}
			now := s.now()
			old := r.Version
			notes, err = fn(tx, &r, now)
			if err != nil {
				out = r
				return err
			}
			ok, err := writeResult(ctx, tx, &r, old, now)
			if err != nil {
				return err
			}
			if !ok {
				conflict = true
				return ErrConflict
			}
			out = r
			return nil
		})
		if conflict {
			continue
		}
		if errors.Is(err, errNoChange) {
			return out, err
		}
		if err != nil {
			return Result{}, err
		}
		for _, n := range notes {
			s.send(ctx, n)
		}
		s.nudge()
		return out, nil
	}
	return Result{}, ErrConflict
}

func (s *Service) send(ctx context.Context, n Notification) {
	if s.notifier == nil {
		return
	}
	if err := s.notifier.Notify(ctx, n); err != nil {
		s.log.Warn("notification failed", "result", n.ResultID, "kind", n.Kind, "level", n.Level, "err", err)
		_ = s.db.InTx(ctx, func(tx *db.Tx) error {
			return addEvent(ctx, tx, n.ResultID, s.now(), "notify_failed", n.Level, "", n.Kind)
		})
		return
	}
	s.log.Info("notification sent", "result", n.ResultID, "kind", n.Kind, "level", n.Level, "targets", len(n.Targets))
}

// OpenRequest opens a loop from a report.
type OpenRequest struct {
	StudyUID   string  `json:"study_uid"`
	FacilityID string  `json:"facility_id,omitempty"` // optional; from the order otherwise
	Accession  string  `json:"accession,omitempty"`   // optional; finds the order faster
	Category   string  `json:"category"`
	Finding    Finding `json:"finding"`
	By         Actor   `json:"-"`
	// Allowed, when set, must accept the study's facility (the caller's
	// facility scope); otherwise Open reports ErrNotFound.
	Allowed func(facilityID string) bool `json:"-"`
	// IdentifiedAt starts the SLA clock; zero = now. It may not be in the
	// future.
	IdentifiedAt time.Time `json:"identified_at,omitzero"`
}

// findOrder returns the study's order, if any.
func (s *Service) findOrder(ctx context.Context, req OpenRequest) (order.Order, bool, error) {
	if s.orders == nil {
		return order.Order{}, false, nil
	}
	var o order.Order
	var err error
	if req.Accession != "" && req.FacilityID != "" {
		o, err = s.orders.ByAccession(ctx, req.FacilityID, req.Accession)
	} else {
		o, err = s.orders.LatestForStudy(ctx, req.StudyUID, req.FacilityID)
	}
	if errors.Is(err, order.ErrNotFound) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("critical: find order: %w", err)
	}
	return o, true, nil
}

// Open starts a loop: the SLA clock runs from IdentifiedAt, the ordering
// clinician (rung 0) is notified with an acknowledgement link, and the
// escalation timer is persisted. The caller must hold the study on the
// worklist or be a coordinator.
func (s *Service) Open(ctx context.Context, req OpenRequest) (Result, error) {
	req.StudyUID = strings.TrimSpace(req.StudyUID)
	req.Finding.Text = strings.TrimSpace(req.Finding.Text)
	switch {
	case req.StudyUID == "":
		return Result{}, invalid("study_uid required")
	case req.By.ID == "":
		return Result{}, invalid("caller required")
	case req.Finding.Text == "" && req.Finding.Code == "":
		return Result{}, invalid("finding (code or text) required")
	}
	if !req.By.Coordinator {
		holder := ""
		if s.holder != nil {
			holder = s.holder(req.StudyUID)
		}
		if holder == "" || holder != req.By.ID {
			return Result{}, ErrNotHolder
		}
	}
	now := s.now()
	identified := req.IdentifiedAt
	if identified.IsZero() {
		identified = now
	}
	if identified.After(now.Add(time.Minute)) {
		return Result{}, invalid("identified_at is in the future")
	}
	o, hasOrder, err := s.findOrder(ctx, req)
	if err != nil {
		return Result{}, err
	}
	facility := req.FacilityID
	if hasOrder {
		if facility != "" && facility != o.FacilityID {
			return Result{}, invalid("study's order belongs to another facility")
		}
		facility = o.FacilityID
	}
	if facility == "" {
		facility, _ = archive.StudyFacility(ctx, s.db, req.StudyUID)
	}
	if facility == "" {
		return Result{}, invalid("facility of the study unknown; pass facility_id")
	}
	if req.Allowed != nil && !req.Allowed(facility) {
		return Result{}, ErrNotFound
	}
	cat, ok := s.cfg.category(facility, req.Category)
	if !ok {
		return Result{}, invalid("unknown category %q", req.Category)
	}
	r := Result{ID: newID("crit_"), FacilityID: facility, StudyUID: req.StudyUID, Accession: req.Accession, Finding: req.Finding,
		Category: cat.Code, CategoryLabel: cat.Label, Colour: cat.Colour, Verbal: cat.Verbal, IdentifiedAt: identified,
		Communicator: req.By.ID, CommunicatorName: req.By.name(), maxLevel: len(s.cfg.Ladder) - 1}
	r.DeadlineAt, r.warnAt, r.step = s.cfg.schedule(cat, identified)
	if hasOrder {
		r.OrderID, r.Accession = o.ID, o.Accession
		if o.Ordering.Name != "" || o.Ordering.ID != "" {
			if _, err := s.dir.UpsertFromOrder(ctx, facility, o.Ordering.Name, o.Ordering.ID, o.Ordering.Phone); err != nil {
				return Result{}, err
			}
		}
	}
	if r.Candidates, err = s.candidates(ctx, facility, o, hasOrder, now); err != nil {
		return Result{}, err
	}
	var note *Notification
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := insertResult(ctx, tx, &r, now); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, r.ID, now, "opened", 0, req.By.ID, "category "+cat.Code); err != nil {
			return err
		}
		n, err := s.rungNotification(ctx, tx, &r, "opened", 0, now)
		note = n
		return err
	})
	if err != nil {
		return Result{}, err
	}
	s.log.Info("critical result opened", "result", r.ID, "facility", facility, "category", cat.Code)
	if note != nil {
		s.send(ctx, *note)
	}
	s.nudge()
	return r, nil
}

// candidates lists possible recipients by rung, as of now.
func (s *Service) candidates(ctx context.Context, facility string, o order.Order, hasOrder bool, now time.Time) ([]Candidate, error) {
	out := []Candidate{}
	var orderingID string
	if hasOrder && (o.Ordering.Name != "" || o.Ordering.ID != "") {
		c, ok, err := s.dir.FindClinician(ctx, facility, o.Ordering.Name, o.Ordering.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			c = Contact{FacilityID: facility, Name: displayName(o.Ordering.Name), NPI: o.Ordering.ID, Role: "ordering clinician",
				Phones: cleanPhones([]string{o.Ordering.Phone})}
		}
		orderingID = c.ID
		for i, rung := range s.cfg.Ladder {
			for _, t := range rung.Targets {
				if t == TargetOrdering {
					out = append(out, Candidate{Rung: i, Target: t, Contact: c})
				}
			}
		}
	}
	for i, rung := range s.cfg.Ladder {
		for _, t := range rung.Targets {
			var cs []Contact
			var err error
			switch t {
			case TargetOrdering:
				continue
			case TargetCovering:
				cs, err = s.dir.Covering(ctx, facility, orderingID, now)
			default:
				cs, err = s.dir.List(ctx, facility, t)
			}
			if err != nil {
				return nil, err
			}
			for _, c := range cs {
				out = append(out, Candidate{Rung: i, Target: t, Contact: c})
			}
		}
	}
	return out, nil
}

// rungTargets resolves who to contact at a rung now (coverage by time of
// day is evaluated at escalation time).
func (s *Service) rungTargets(ctx context.Context, r *Result, level int, now time.Time) ([]Contact, error) {
	if level < 0 || level >= len(s.cfg.Ladder) {
		return nil, nil
	}
	var ordering *Contact
	for _, c := range r.Candidates {
		if c.Target == TargetOrdering {
			ordering = &c.Contact
			break
		}
	}
	var out []Contact
	for _, t := range s.cfg.Ladder[level].Targets {
		switch t {
		case TargetOrdering:
			if ordering != nil {
				out = append(out, *ordering)
			}
		case TargetCovering:
			id := ""
			if ordering != nil {
				id = ordering.ID
			}
			cs, err := s.dir.Covering(ctx, r.FacilityID, id, now)
			if err != nil {
				return nil, err
			}
			out = append(out, cs...)
		default:
			cs, err := s.dir.List(ctx, r.FacilityID, t)
			if err != nil {
				return nil, err
			}
			out = append(out, cs...)
		}
	}
	return out, nil
}

func (s *Service) summary(r *Result) string {
	label := r.CategoryLabel
	if label == "" {
		label = "category " + r.Category
	}
	return fmt.Sprintf("Critical result (%s, category %s) for accession %s: please contact the reading radiologist.", label, r.Category, r.Accession)
}

func (s *Service) baseNotification(r *Result, kind string, level int) Notification {
	n := Notification{Kind: kind, ResultID: r.ID, FacilityID: r.FacilityID, StudyUID: r.StudyUID, Accession: r.Accession, Category: r.Category,
		CategoryLabel: r.CategoryLabel, Level: level, Reader: r.Communicator, Coordinator: r.HandedOffTo, DeadlineAt: r.DeadlineAt,
		Summary: s.summary(r)}
	if level >= 0 && level < len(s.cfg.Ladder) {
		n.Rung = s.cfg.Ladder[level].Name
	}
	return n
}

// rungNotification builds the notification for a rung, with a fresh
// acknowledgement link, or nil when the rung has nobody to contact.
func (s *Service) rungNotification(ctx context.Context, tx *db.Tx, r *Result, kind string, level int, now time.Time) (*Notification, error) {
	targets, err := s.rungTargets(ctx, r, level, now)
	if err != nil {
		return nil, err
	}
	n := s.baseNotification(r, kind, level)
	n.Targets = targets
	if len(targets) > 0 {
		if n.AckURL, err = s.issueToken(ctx, tx, r.ID, level, n.Rung, now); err != nil {
			return nil, err
		}
	}
	return &n, nil
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// issueToken stores a new single-use acknowledgement token (hashed) and
// returns its link.
func (s *Service) issueToken(ctx context.Context, tx *db.Tx, id string, level int, intended string, now time.Time) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	_, err := tx.Exec(ctx, `INSERT INTO crit_ack_token (token_hash, result_id, level, intended, expires_at, used_at, used_name, created_at)
		VALUES (?, ?, ?, ?, ?, '', '', ?)`, hashToken(tok), id, level, intended, db.FormatOptional(now.Add(s.cfg.AckTTL)), db.FormatOptional(now))
	if err != nil {
		return "", fmt.Errorf("critical: ack token: %w", err)
	}
	return s.cfg.AckBaseURL + "/ack/" + tok, nil
}

// Get returns a loop with its attempts and history.
func (s *Service) Get(ctx context.Context, id string) (Result, error) {
	r, err := loadResult(ctx, s.db, id)
	if err != nil {
		return r, err
	}
	r.finish(s.now())
	if r.Attempts, err = loadAttempts(ctx, s.db, id); err != nil {
		return r, err
	}
	if r.Events, err = loadEvents(ctx, s.db, id); err != nil {
		return r, err
	}
	return r, nil
}

func canWork(r *Result, by Actor) error {
	if by.ID == "" {
		return ErrForbidden
	}
	if by.Coordinator || by.ID == r.Communicator || by.ID == r.HandedOffTo {
		return nil
	}
	return ErrForbidden
}

// LogAttempt records one communication attempt. A "reached" attempt names
// the recipient, stops the escalation timers and makes the loop ready to
// close; read-back is only possible on a verbal method.
func (s *Service) LogAttempt(ctx context.Context, id string, a Attempt) (Result, error) {
	a.To.Name, a.To.Role = strings.TrimSpace(a.To.Name), strings.TrimSpace(a.To.Role)
	a.AnsweredBy = strings.TrimSpace(a.AnsweredBy)
	switch {
	case !a.Method.valid():
		return Result{}, invalid("method must be phone, page, secure_message or in_person")
	case !a.Outcome.valid():
		return Result{}, invalid("outcome must be reached, no_answer, left_message or wrong_number")
	case a.Outcome == OutcomeReached && a.To.Name == "" && a.AnsweredBy == "":
		return Result{}, invalid("a reached attempt must name the person reached")
	case a.ReadBack && a.Outcome != OutcomeReached:
		return Result{}, invalid("read-back needs the recipient reached")
	case a.ReadBack && !a.Method.Verbal():
		return Result{}, invalid("read-back needs a verbal method (phone or in person)")
	}
	if a.To.Name == "" {
		a.To.Name = a.AnsweredBy
	}
	r, err := s.mutate(ctx, id, func(tx *db.Tx, r *Result, now time.Time) ([]Notification, error) {
		if !r.ClosedAt.IsZero() {
			return nil, ErrClosed
		}
		if err := canWork(r, a.By); err != nil {
			return nil, err
		}
		if a.At.IsZero() {
			a.At = now
		}
		if a.At.After(now.Add(time.Minute)) {
			return nil, invalid("attempt time is in the future")
		}
		if a.At.Before(r.IdentifiedAt) {
			return nil, invalid("attempt time is before the finding was identified")
		}
		if err := addAttempt(ctx, tx, r.ID, a, now); err != nil {
			return nil, err
		}
		if a.Outcome == OutcomeReached {
			name := a.To.Name
			if a.AnsweredBy != "" {
				name = a.AnsweredBy
			}
			r.Recipient = Recipient{Name: name, Role: a.To.Role, Callback: a.To.Callback, ContactID: a.To.ContactID}
			r.Method, r.CommunicatedAt, r.ReadBack = a.Method, a.At, a.ReadBack
			r.CommunicatedBy, r.communicatedByName = a.By.ID, a.By.name()
		}
		return nil, addEvent(ctx, tx, r.ID, now, "attempt", r.EscalationLevel, a.By.ID, string(a.Method)+" "+string(a.Outcome))
	})
	if err != nil {
		return Result{}, err
	}
	return r, nil
}

// HandOff gives the loop to a coordinator (support desk) to work; the
// reader who opened it stays accountable.
func (s *Service) HandOff(ctx context.Context, id, toCoordinator string, by Actor) (Result, error) {
	toCoordinator = strings.TrimSpace(toCoordinator)
	if toCoordinator == "" {
		return Result{}, invalid("coordinator required")
	}
	return s.mutate(ctx, id, func(tx *db.Tx, r *Result, now time.Time) ([]Notification, error) {
		if !r.ClosedAt.IsZero() {
			return nil, ErrClosed
		}
		if err := canWork(r, by); err != nil {
			return nil, err
		}
		r.HandedOffTo, r.HandedOffBy, r.HandedOffAt = toCoordinator, by.ID, now
		n := s.baseNotification(r, "handoff", r.EscalationLevel)
		return []Notification{n}, addEvent(ctx, tx, r.ID, now, "handoff", r.EscalationLevel, by.ID, "to "+toCoordinator)
	})
}

// SendAckLink sends a fresh acknowledgement link for the loop to a
// recipient through the Notifier and returns it.
func (s *Service) SendAckLink(ctx context.Context, id string, to Contact, by Actor) (string, error) {
	var link string
	_, err := s.mutate(ctx, id, func(tx *db.Tx, r *Result, now time.Time) ([]Notification, error) {
		if !r.ClosedAt.IsZero() {
			return nil, ErrClosed
		}
		if err := canWork(r, by); err != nil {
			return nil, err
		}
		var err error
		if link, err = s.issueToken(ctx, tx, r.ID, r.EscalationLevel, to.Name, now); err != nil {
			return nil, err
		}
		n := s.baseNotification(r, "ack_request", r.EscalationLevel)
		n.Targets, n.AckURL = []Contact{to}, link
		return []Notification{n}, addEvent(ctx, tx, r.ID, now, "ack_link_sent", r.EscalationLevel, by.ID, "")
	})
	return link, err
}

// closable checks the closing rules: a documented successful communication
// (recipient, method, time); for verbal categories (CR3) a read-back; for
// a non-verbal method an identifiable confirmation (acknowledgement).
func closable(r *Result) error {
	if !r.ClosedAt.IsZero() {
		return ErrClosed
	}
	if r.CommunicatedAt.IsZero() || r.Recipient.Name == "" || r.Method == "" {
		return refused("closing needs a documented successful communication: log a reached attempt with the recipient's name, the method and the time")
	}
	if r.Verbal && (!r.ReadBack || !r.Method.Verbal()) {
		return refused("category %s needs direct verbal communication to a named recipient with read-back (CR3)", r.Category)
	}
	if !r.Method.Verbal() && r.AckAt.IsZero() {
		return refused("a %s needs an identifiable confirmation of receipt from the recipient before closing", r.Method.words())
	}
	return nil
}

// statement is the CR5 communication statement for the report addendum.
func (s *Service) statement(ctx context.Context, r *Result) string {
	loc := facilityLocation(ctx, s.db, r.FacilityID)
	to := r.Recipient.Name
	if r.Recipient.Role != "" {
		to += ", " + r.Recipient.Role
	}
	by := r.communicatedByName
	if by == "" {
		by = r.CommunicatorName
	}
	t := fmt.Sprintf("Communicated to %s by %s via %s at %s", to, by, r.Method.words(), r.CommunicatedAt.In(loc).Format("2006-01-02 15:04 MST"))
	switch {
	case r.ReadBack:
		t += "; read back"
	case !r.AckAt.IsZero():
		t += fmt.Sprintf("; receipt confirmed electronically by %s at %s", r.AckBy, r.AckAt.In(loc).Format("2006-01-02 15:04 MST"))
	}
	return t + "."
}

func (s *Service) closeLocked(ctx context.Context, tx *db.Tx, r *Result, by string, now time.Time) error {
	if err := closable(r); err != nil {
		return err
	}
	r.ClosedAt, r.ClosedBy = now, by
	r.AddendumText = s.statement(ctx, r)
	r.addendumDue = now
	return addEvent(ctx, tx, r.ID, now, "closed", r.EscalationLevel, by, "")
}

// Close documents the loop as complete and writes the communication
// statement into the report (once). Refusals change nothing.
func (s *Service) Close(ctx context.Context, id string, by Actor) (Result, error) {
	_, err := s.mutate(ctx, id, func(tx *db.Tx, r *Result, now time.Time) ([]Notification, error) {
		if err := canWork(r, by); err != nil {
			return nil, err
		}
		return nil, s.closeLocked(ctx, tx, r, by.ID, now)
	})
	if err != nil {
		return Result{}, err
	}
	s.log.Info("critical result closed", "result", id)
	if err := s.writeAddendum(ctx, id); err != nil {
		s.log.Warn("addendum pending", "result", id, "err", err)
	}
	return s.Get(ctx, id)
}

// writeAddendum hands a due statement to the AddendumWriter: claimed with a
// lease first so concurrent callers (Close, schedulers) write it once.
func (s *Service) writeAddendum(ctx context.Context, id string) error {
	if s.addenda == nil {
		return nil
	}
	r, err := s.mutate(ctx, id, func(tx *db.Tx, r *Result, now time.Time) ([]Notification, error) {
		if !r.AddendumAt.IsZero() || r.addendumDue.IsZero() || r.addendumDue.After(now) {
			return nil, errNoChange
		}
		r.addendumDue = now.Add(5 * time.Minute) // lease
		r.addendumTries++
		return nil, nil
	})
	if errors.Is(err, errNoChange) {
		return nil
	}
	if err != nil {
		return err
	}
	werr := s.addenda.Addendum(ctx, r.StudyUID, r.AddendumText, Signer{ReaderID: r.Communicator, Display: r.CommunicatorName})
	_, err = s.mutate(ctx, id, func(tx *db.Tx, r *Result, now time.Time) ([]Notification, error) {
		if werr != nil {
			backoff := time.Duration(min(r.addendumTries, 6)) * time.Minute
			r.addendumDue = now.Add(backoff)
			return nil, addEvent(ctx, tx, r.ID, now, "addendum_failed", r.EscalationLevel, "", truncate(werr.Error(), 200))
		}
		r.AddendumAt, r.addendumDue = now, time.Time{}
		return nil, addEvent(ctx, tx, r.ID, now, "addendum", r.EscalationLevel, r.Communicator, "")
	})
	if werr != nil {
		return fmt.Errorf("critical: addendum: %w", werr)
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// OpenOnce is Open for a caller that may repeat itself (a durable event
// handled again after a crash, internal/event): when a loop for the study
// with the same category and identification time exists, it is returned
// instead of a second loop being opened. IdentifiedAt must be set.
func (s *Service) OpenOnce(ctx context.Context, req OpenRequest) (Result, error) {
	if req.IdentifiedAt.IsZero() {
		return Result{}, invalid("identified_at is required")
	}
	var id string
	err := s.db.QueryRow(ctx, "SELECT id FROM crit_result WHERE study_uid = ? AND category = ? AND identified_at = ?",
		req.StudyUID, req.Category, db.FormatOptional(req.IdentifiedAt)).Scan(&id)
	if err == nil {
		return s.Get(ctx, id)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Result{}, err
	}
	return s.Open(ctx, req)
}
