package dicomsvc

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"

	"lightbox/internal/ae"
	"lightbox/internal/archive"
	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/db"
	"lightbox/internal/dcm"
	"lightbox/internal/dimse"
	"lightbox/internal/dispatch"
	"lightbox/internal/event"
	"lightbox/internal/order"
	"lightbox/internal/query"
)

// AllFacilities as an AE's facility lets it see every facility (a group's
// own workstation or PACS). An AE without a facility sees none.
const AllFacilities = "*"

// Options are the service's dependencies and policy.
type Options struct {
	AETitle string
	// Open accepts calling AE titles that are not registered (their stores
	// are attributed by Institution Name; they can query nothing).
	Open     bool
	DB       *db.DB
	Archive  *archive.Archive
	Query    *query.Engine
	AEs      ae.Store
	Auth     *auth.Service
	Orders   *order.Service    // Modality Worklist and MPPS; nil disables them
	Dispatch *dispatch.Service // MPPS COMPLETED puts the study on the worklist
	Audit    *audit.Logger     // every query, store, retrieve and procedure change; nil = off
	// Grants, when set, lists the single studies a user identified on the
	// association may see beyond their facilities (internal/grants: break
	// glass, consults, tumor boards), as DICOMweb and the JSON API do.
	Grants func(ctx context.Context, p *auth.Principal) ([]string, error)
	// GrantUse names the grant through which p reaches study when it is
	// outside their own scope ("break-glass", "tumor-board grant"; "" when
	// not), so each retrieve under a grant is audited as such.
	GrantUse func(ctx context.Context, p *auth.Principal, study string) string
	// Events carries an MPPS completion to the order and the worklist
	// durably (internal/event); nil: a bus of the service's own.
	Events *event.Bus
	// OutboundTLS configures associations to AEs registered with TLS.
	OutboundTLS *tls.Config
	Logger      *slog.Logger
}

// Service implements the DIMSE handlers.
type Service struct {
	opt     Options
	log     *slog.Logger
	commits *commitStore // nil without a database
}

// New returns a Service.
func New(opt Options) *Service {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Events == nil {
		opt.Events = &event.Bus{DB: opt.DB, Logger: opt.Logger}
	}
	s := &Service{opt: opt, log: opt.Logger}
	if opt.DB != nil {
		s.commits = newCommitStore(opt.DB)
	}
	opt.Events.Handle(EventMPPSEnded, s.mppsEnded)
	return s
}

// caller is who an association acts for; the accept policy sets it.
type caller struct {
	ae       string
	facility string // where its stores go ("" = decide by Institution Name)
	user     string
	// principal is the user identified on the association (nil: the AE
	// alone).
	principal *auth.Principal
	scope     query.Scope
	open      bool // unregistered AE accepted in open mode
	remote    string

	mu      sync.Mutex
	audited map[string]bool // studies whose receipt this association has audited
}

func (c *caller) actor() audit.Actor {
	a := audit.Actor{UserID: c.ae, NetworkAddr: c.remote, Interface: audit.DICOM, FacilityID: c.facility}
	if c.user != "" {
		a.UserID = c.user
	}
	if a.UserID == "" {
		a.UserID = "unknown-ae"
	}
	return a
}

// firstTime reports whether a study is seen for the first time on this
// association: receipt is audited once per study per association.
func (c *caller) firstTime(study string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.audited == nil {
		c.audited = map[string]bool{}
	}
	if c.audited[study] {
		return false
	}
	c.audited[study] = true
	return true
}

func (s *Service) audit(ctx context.Context, ev audit.Event) {
	if s.opt.Audit != nil {
		s.logAuditErr(ev, s.opt.Audit.Record(context.WithoutCancel(ctx), ev))
	}
}

// auditRead queues the record of a read (C-FIND, C-GET, C-MOVE): the
// responses do not wait for its commit, which a C-FIND otherwise spent
// most of its time on (audit/batch.go: group commit and its crash window).
func (s *Service) auditRead(ctx context.Context, ev audit.Event) {
	if s.opt.Audit != nil {
		s.logAuditErr(ev, s.opt.Audit.Submit(context.WithoutCancel(ctx), ev))
	}
}

func (s *Service) logAuditErr(ev audit.Event, err error) {
	if err != nil {
		s.log.Error("audit record failed", "event", string(ev.EventID), "err", err)
	}
}

func callerOf(info *dimse.AssociationInfo) *caller {
	if info != nil {
		if c, ok := info.Principal.(*caller); ok {
			return c
		}
	}
	return &caller{}
}

// Mux returns the handler registry for a dimse.Server.
func (s *Service) Mux() *dimse.Mux {
	m := dimse.NewMux()
	m.HandleStorage(s)
	for _, uid := range []string{dimse.PatientRootQRFind, dimse.StudyRootQRFind} {
		m.Handle(uid, s)
	}
	for _, uid := range []string{dimse.PatientRootQRMove, dimse.StudyRootQRMove, dimse.PatientRootQRGet, dimse.StudyRootQRGet} {
		m.Handle(uid, s)
	}
	if s.opt.Orders != nil {
		m.Handle(dimse.ModalityWorklistFind, s)
		m.Handle(dimse.ModalityPerformedProcedure, s)
	}
	m.Handle(dimse.StorageCommitmentPushModel, commitSCP{s})
	return m
}

// Accept decides an association: the called AE must be ours; a user
// identity (user name and passcode) must be a valid Lightbox login; else
// the calling AE must be registered unless the node is open.
func (s *Service) Accept(ctx context.Context, info *dimse.AssociationInfo) error {
	if s.opt.AETitle != "" && strings.TrimSpace(info.CalledAE) != s.opt.AETitle {
		s.log.Info("association rejected: called AE title", "called", info.CalledAE, "calling", info.CallingAE)
		return dimse.RejectCalledAE()
	}
	c := &caller{ae: strings.TrimSpace(info.CallingAE)}
	if info.RemoteAddr != nil {
		c.remote, _, _ = net.SplitHostPort(info.RemoteAddr.String())
	}
	entity, err := s.opt.AEs.Get(ctx, c.ae)
	known := err == nil
	if err != nil && !errors.Is(err, ae.ErrNotFound) {
		return fmt.Errorf("look up AE: %w", err)
	}
	if known && !entity.Allows(net.ParseIP(c.remote)) {
		s.log.Info("association rejected: calling AE from a network it is not allowed", "calling", c.ae)
		s.audit(ctx, audit.SecurityAlertEvent(audit.Actor{UserID: c.ae, NetworkAddr: c.remote, Interface: audit.DICOM}, audit.NodeAuthentication, "calling AE from a disallowed network"))
		return dimse.RejectCallingAE()
	}
	if known {
		switch entity.FacilityID {
		case AllFacilities:
			c.scope = query.Scope{All: true}
		case "":
		default:
			c.facility = entity.FacilityID
			c.scope = query.Scope{Facilities: []string{entity.FacilityID}}
		}
	}
	if id := info.Identity; id != nil && id.Username != "" {
		if s.opt.Auth == nil || len(id.Passcode) == 0 {
			return dimse.RejectNoReason()
		}
		p, err := s.opt.Auth.Login(ctx, id.Username, string(id.Passcode))
		if err != nil {
			s.log.Info("association rejected: user identity", "calling", c.ae, "reason", err.Error())
			s.audit(ctx, audit.LoginEvent(audit.Actor{UserID: id.Username, NetworkAddr: c.remote, Interface: audit.DICOM}, audit.SeriousFailure, "dicom user identity"))
			return dimse.RejectNoReason()
		}
		s.audit(ctx, audit.LoginEvent(audit.Actor{UserID: p.Username, Role: string(p.Role), NetworkAddr: c.remote, Interface: audit.DICOM}, audit.Success, "dicom user identity"))
		c.user, c.principal = p.Username, p
		c.scope = p.Scope()
		if s.opt.Grants != nil {
			if c.scope.Studies, err = s.opt.Grants(ctx, p); err != nil {
				return fmt.Errorf("single-study grants: %w", err)
			}
		}
		if c.facility == "" && len(p.Facilities) == 1 {
			c.facility = p.Facilities[0]
		}
		known = true
	}
	if !known {
		if !s.opt.Open {
			s.log.Info("association rejected: unknown calling AE", "calling", c.ae)
			return dimse.RejectCallingAE()
		}
		c.open = true
	}
	info.Principal = c
	return nil
}

// ResolveAE finds a C-MOVE destination among the registered AEs.
func (s *Service) ResolveAE(ctx context.Context, title string) (dimse.Destination, error) {
	e, err := s.opt.AEs.Get(ctx, title)
	if errors.Is(err, ae.ErrNotFound) {
		return dimse.Destination{}, dimse.ErrUnknownAE
	}
	if err != nil {
		return dimse.Destination{}, err
	}
	d := dimse.Destination{Addr: e.Addr()}
	if e.TLS {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.opt.OutboundTLS != nil {
			cfg = s.opt.OutboundTLS.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(e.Addr())
		}
		d.TLSConfig = cfg
	}
	return d, nil
}

// Store writes a C-STORE data set into the archive; success is answered
// only after the archive has committed it.
func (s *Service) Store(ctx context.Context, req *dimse.StoreRequest) (uint16, string) {
	c := callerOf(req.Assoc)
	src := archive.Source{AETitle: c.ae, Facility: c.facility}
	if !c.open && !c.scope.All {
		// A sender may add to its own facility's studies only.
		src.Check = func(studyUID, studyFacility string) error {
			if c.scope.AllowsFacility(studyFacility) {
				return nil
			}
			if len(c.scope.Facilities) == 0 {
				return errors.New("calling AE has no facility; register it with one")
			}
			return errors.New("the study belongs to another facility")
		}
	}
	res, err := s.opt.Archive.StoreDataset(ctx, req.Data, req.SOPClassUID, req.SOPInstanceUID, req.TransferSyntaxUID, src)
	status, comment := storeStatus(err)
	if res != nil && res.StudyUID != "" && (err == nil || status != dimse.StatusSuccess) && c.firstTime(res.StudyUID) {
		ev := audit.StoreEvent(c.actor(), c.ae, "", "", res.StudyUID)
		if status != dimse.StatusSuccess {
			ev.Outcome = audit.SeriousFailure
		}
		s.audit(ctx, ev)
	}
	if status != dimse.StatusSuccess {
		s.log.Info("C-STORE failed", "calling", c.ae, "sop_class", req.SOPClassUID, "status", fmt.Sprintf("0x%04X", status), "reason", comment)
	}
	return status, comment
}

func storeStatus(err error) (uint16, string) {
	var ie *archive.InputError
	var re *archive.RefusedError
	switch {
	case err == nil:
		return dimse.StatusSuccess, ""
	case errors.Is(err, archive.ErrForeignPatient):
		return dimse.StatusNotAuthorized, "patient issuer belongs to another facility"
	case errors.As(err, &re):
		return dimse.StatusNotAuthorized, clip(re.Reason.Error())
	case errors.Is(err, archive.ErrDuplicateRejected):
		return dimse.StatusDuplicateSOPInstance, "already stored with different content"
	case errors.As(err, &ie) && (ie.Code == archive.InputCommandMismatch || ie.Code == archive.InputMissingAttribute):
		return dimse.StatusDataSetDoesNotMatchSOPClass, clip(ie.Reason)
	case errors.As(err, &ie):
		return dimse.StatusCannotUnderstand, clip(ie.Reason)
	}
	return dimse.StatusOutOfResources, "could not store the instance; retry later"
}

// clip keeps an Error Comment within its 64-character LO limit.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// Transcode converts uncompressed data sets between little endian syntaxes
// (and from deflated) for peers that did not accept the stored syntax.
func Transcode(ctx context.Context, data io.Reader, fromTS, toTS string) (io.Reader, error) {
	from, ok1 := dcm.LookupTransferSyntax(fromTS)
	to, ok2 := dcm.LookupTransferSyntax(toTS)
	if !ok1 || !ok2 || from.Encapsulated || to.Encapsulated {
		return nil, fmt.Errorf("cannot convert %s to %s", fromTS, toTS)
	}
	ds, err := dcm.ReadDataset(data, fromTS, dcm.ReadOptions{LoadBulk: true, MaxValueLength: 1 << 30})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := dcm.WriteDataset(&b, ds, toTS); err != nil {
		return nil, err
	}
	return &b, nil
}
