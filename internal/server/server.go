package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lightbox/internal/ae"
	"lightbox/internal/api"
	"lightbox/internal/archive"
	"lightbox/internal/assign"
	"lightbox/internal/audit"
	"lightbox/internal/auth"
	"lightbox/internal/blob"
	"lightbox/internal/breakglass"
	"lightbox/internal/cluster"
	"lightbox/internal/consult"
	"lightbox/internal/critical"
	"lightbox/internal/db"
	"lightbox/internal/dcm"
	"lightbox/internal/dicomsvc"
	"lightbox/internal/dicomweb"
	"lightbox/internal/dimse"
	"lightbox/internal/dispatch"
	"lightbox/internal/event"
	"lightbox/internal/fhir"
	"lightbox/internal/grants"
	"lightbox/internal/hl7"
	"lightbox/internal/hl7order"
	"lightbox/internal/hl7sender"
	"lightbox/internal/httpx"
	"lightbox/internal/metrics"
	"lightbox/internal/netserve"
	"lightbox/internal/notify"
	"lightbox/internal/order"
	"lightbox/internal/outbox"
	"lightbox/internal/peerreview"
	"lightbox/internal/priors"
	"lightbox/internal/query"
	"lightbox/internal/report"
	"lightbox/internal/retention"
	"lightbox/internal/scope"
	"lightbox/internal/setup"
	"lightbox/internal/station"
	"lightbox/internal/tlsutil"
	"lightbox/internal/tumorboard"
	"lightbox/internal/webapp"
)

// HTTPIdleTimeout closes keep-alive connections idle this long.
const HTTPIdleTimeout = 2 * time.Minute

// Version is reported by FHIR metadata and logs.
const Version = "0.1.0-dev"

// Config names where a node keeps its data and where it listens.
type Config struct {
	Data     string // data folder: index.db, blobs/, secret.key unless overridden
	DB       string // sqlite:PATH or postgres://...
	Blobs    string // folder or file:DIR
	HTTP     string // HTTP listen address
	DICOM    string // DICOM listen address ("" = off)
	DICOMTLS string // DICOM TLS listen address ("" = off; needs a certificate)
	HL7      string // MLLP listen address ("" = off)
	HL7TLS   bool   // serve MLLP over TLS (needs a certificate)
	// HL7Open accepts messages of unregistered HL7 senders; HL7ClientCA
	// verifies MLLP TLS client certificates (asked for, not required).
	HL7Open     bool
	HL7ClientCA string
	AETitle     string
	DICOMOpen   bool   // accept unregistered calling AE titles
	Duplicates  string // duplicate policy
	// BreakGlassTTL is how long a reader's emergency access to a study
	// outside their scope lasts (0: breakglass.DefaultTTL).
	BreakGlassTTL time.Duration
	// MoveAssociations is dimse.Server.MoveAssociations (0: its default).
	MoveAssociations int
	// RetentionEvery is how often retention runs cluster-wide (0: daily;
	// negative: never on a timer, only on demand).
	RetentionEvery time.Duration
	// ConsultRVU is the work-RVU credit of a second opinion (internal/consult).
	ConsultRVU float64
	// ICEServers are STUN/TURN URLs for browser calls; none by default.
	ICEServers []string
	// TURNSecret, when set, is shared with the TURN server (coturn
	// use-auth-secret): browsers get TURN credentials valid for TURNTTL.
	TURNSecret string
	TURNTTL    time.Duration
	// VisitTTL is how long a patient's clinic-visit link stays valid.
	VisitTTL time.Duration
	// ForeignPatients is what an instance whose patient belongs to another
	// facility's namespace does: reject (default) or quarantine.
	ForeignPatients string
	// NoIngestJournal keeps the per-file fsync'd blob commit on a folder
	// store (internal/archive/doc.go).
	NoIngestJournal bool
	// NoIngestDirectIO writes the journal's segments through the page
	// cache rather than with direct I/O (internal/archive/doc.go).
	NoIngestDirectIO bool
	// TLSCert and TLSKey are the certificate for HTTPS (when HTTPS is set),
	// DICOM TLS and MLLP TLS.
	TLSCert, TLSKey string
	HTTPS           bool
	// BlobKeyFile enables encryption of blobs at rest (32 raw bytes or 64 hex).
	BlobKeyFile string
	// AuditSyslog ships the audit trail to an ATNA repository (host:port,
	// RFC 5425 syslog over TLS); the CA and client pair authenticate both ends.
	AuditSyslog                                    string
	AuditSyslogCA, AuditSyslogCert, AuditSyslogKey string
	// Quiet is how long a study receives nothing before it is read (default 1 min).
	Quiet time.Duration
	// RoutineAhead is how many routine cases a reader may hold assigned
	// but unopened (assign.Config.RoutineAhead; 0 = the engine's default
	// of 1, negative = no limit).
	RoutineAhead int
	// MammoDisplayCheck gates mammography on a passed display check in
	// the last 24 h (model.Rules.RequireMammoDisplayCheck).
	MammoDisplayCheck bool
	// HTTPConnsPerClient caps concurrent HTTP connections from one address
	// (0 = unlimited; behind a reverse proxy, set it off or high).
	HTTPConnsPerClient int
	// IdleTimeout ends sessions after inactivity (default 15 min).
	IdleTimeout time.Duration
	// ReauthWindow is how long a login counts for signing (default 5 min).
	ReauthWindow time.Duration
	Logger       *slog.Logger
	// ShutdownTimeout bounds how long in-flight work may take at shutdown.
	ShutdownTimeout time.Duration
	// SMTP is the relay notifications are e-mailed through ("" Addr: none).
	SMTP notify.SMTP
	// PublicURL is this node as users reach it: links in notifications.
	PublicURL string
	// BlobObserver, when set, times every blob store operation (metrics).
	BlobObserver blob.Observer
}

// Storage is an opened index and blob store with the archive on top.
type Storage struct {
	DB      *db.DB
	Blobs   blob.Store
	Archive *archive.Archive
}

// Close stops the archive (after in-flight stores) and closes storage.
func (s *Storage) Close() error {
	s.Archive.Close()
	return errors.Join(s.Blobs.Close(), s.DB.Close())
}

// DBURL is the database a config names: --db, else DATA/index.db.
func (c Config) DBURL() string {
	if c.DB != "" {
		return c.DB
	}
	return "sqlite:" + filepath.Join(c.Data, "index.db")
}

// BlobsURL is the blob store a config names: --blobs, else DATA/blobs.
func (c Config) BlobsURL() string {
	if c.Blobs != "" {
		return c.Blobs
	}
	return filepath.Join(c.Data, "blobs")
}

// OpenStorage opens and migrates the database, opens the blob store (which
// removes temp files of dead processes) and starts the archive.
func OpenStorage(ctx context.Context, c Config) (*Storage, error) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	policy, err := archive.ParsePolicy(c.Duplicates)
	if err != nil {
		return nil, err
	}
	foreign, err := archive.ParseForeignPolicy(c.ForeignPatients)
	if err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, c.DBURL())
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	var b blob.Store
	b, err = blob.Open(c.BlobsURL())
	if err != nil {
		d.Close()
		return nil, err
	}
	if dir, ok := b.(*blob.Dir); ok && dir.StaleRemoved > 0 {
		log.Info("removed temp files left by a stopped process", "files", dir.StaleRemoved)
	}
	if s3, ok := b.(*blob.S3); ok && s3.StaleRemoved() > 0 {
		log.Info("removed spooled uploads left by a stopped process", "files", s3.StaleRemoved())
	}
	if c.BlobObserver != nil {
		// Below encryption, so latency and errors are the backend's.
		b = blob.Instrumented(b, c.BlobObserver)
	}
	if c.BlobKeyFile != "" {
		key, err := blob.LoadKey(c.BlobKeyFile)
		if err != nil {
			b.Close()
			d.Close()
			return nil, err
		}
		enc, err := blob.NewEncrypted(b, blob.Keyring{Current: "k1", Keys: map[string][]byte{"k1": key}, AllowPlaintext: true})
		if err != nil {
			b.Close()
			d.Close()
			return nil, err
		}
		b = enc
	}
	a := archive.New(d, b, archive.Options{Duplicates: policy, ForeignPatients: foreign, NoJournal: c.NoIngestJournal, NoDirectIO: c.NoIngestDirectIO, Logger: log})
	return &Storage{DB: d, Blobs: b, Archive: a}, nil
}

// Server is a running node.
type Server struct {
	cfg      Config
	log      *slog.Logger
	Storage  *Storage
	Auth     *auth.Service
	Dispatch *dispatch.Service
	Priors   *priors.Service // priors from the facility PACS (internal/priors)
	Orders   *order.Service
	Query    *query.Engine
	Audit    *audit.Logger
	Reports  *report.Service
	Critical *critical.Service
	Setup    *setup.Service
	Notify   *notify.Service
	// BreakGlass holds readers' emergency grants to studies outside their scope.
	BreakGlass breakglass.Store
	// Consults keeps the reading room, second opinions and clinic visits.
	Consults consult.Store
	hub      consult.Hub
	peerDraw peerreview.Drawer
	Metrics  *metrics.Metrics
	auditor  *auditor
	stopBg   context.CancelFunc
	atnaTLS  *tls.Config

	handler http.Handler
	routes  []string
	tlsHTTP *tls.Config
	httpLn  net.Listener
	dicom   *dimse.Server
	dicomLn []net.Listener
	dicomSv *dicomsvc.Service
	commits *dicomsvc.CommitReporter
	hl7     *hl7.Server
	hl7Ln   net.Listener
	outbox  *outbox.Deliverer
	notices *notify.Deliverer
	ready   chan struct{}
	// events carries cross-module work durably (report signed → worklist,
	// critical loop; MPPS ended → order, worklist): internal/event.
	events *event.Bus

	// Retention applies facilities' retention periods and legal holds.
	Retention *retention.Service
}

// SecretKey returns the node's 32-byte secret (sealing TOTP secrets),
// creating DATA/secret.key (mode 0600) on first use.
func SecretKey(data string) ([]byte, error) {
	p := filepath.Join(data, "secret.key")
	if b, err := os.ReadFile(p); err == nil {
		return hex.DecodeString(strings.TrimSpace(string(b)))
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	if err := os.MkdirAll(data, 0o750); err != nil {
		return nil, err
	}
	if err := os.WriteFile(p, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write secret key: %w", err)
	}
	return k, nil
}

// AuditLogger returns the audit logger of a data folder: its chain keyed
// from the node secret, its signed head in DATA/audit-head.json.
func AuditLogger(data string, d *db.DB) (*audit.Logger, error) {
	secret, err := SecretKey(data)
	if err != nil {
		return nil, err
	}
	return &audit.Logger{DB: d, Keying: &audit.Keying{Key: audit.DeriveKey(secret), HeadFile: filepath.Join(data, "audit-head.json")}}, nil
}

// NewAuth returns the authentication service of a data folder; onEvent
// (may be nil) receives its security events for the audit trail.
func NewAuth(c Config, d *db.DB, onEvent func(context.Context, auth.Event)) (*auth.Service, error) {
	key, err := SecretKey(c.Data)
	if err != nil {
		return nil, err
	}
	return auth.New(d, auth.Options{SecretKey: key, SecureCookies: c.HTTPS, Logger: c.Logger, OnEvent: onEvent, IdleTimeout: c.IdleTimeout, ReauthWindow: c.ReauthWindow}), nil
}

// New opens storage, starts the dispatcher and binds every listener (so the
// caller learns the real ports before Run when an address ends in :0).
func New(ctx context.Context, c Config) (_ *Server, err error) {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	m := metrics.New()
	c.BlobObserver = m.ObserveBlob
	st, err := OpenStorage(ctx, c)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: c, log: c.Logger, Storage: st, ready: make(chan struct{}), Query: query.New(st.DB), Metrics: m}
	reportCrossLinks(ctx, st.Archive, s.log)
	defer func() {
		if err != nil {
			s.closeListeners()
			if s.Dispatch != nil {
				s.Dispatch.Close()
			}
			st.Close()
		}
	}()
	if s.Audit, err = AuditLogger(c.Data, st.DB); err != nil {
		return nil, err
	}
	s.Audit.SourceID = c.AETitle
	s.Audit.PatientOf = func(ctx context.Context, study string) (string, string, bool) {
		rec, err := archive.Study(ctx, st.DB, study)
		return rec.Patient.Issuer, rec.Patient.ID, err == nil && !strings.HasPrefix(rec.Patient.ID, "~")
	}
	s.auditor = newAuditor(s.Audit, s.log.Error)
	if s.Auth, err = NewAuth(c, st.DB, s.auditor.authEvent); err != nil {
		return nil, err
	}
	s.Orders = &order.Service{DB: st.DB, Logger: c.Logger, Notify: hl7order.OutboxNotifier(c.AETitle)}
	s.Setup = &setup.Service{DB: st.DB, Audit: s.Audit, FHIRProbe: fhir.Probe, HL7Probe: hl7.Probe}
	s.Notify = &notify.Service{DB: st.DB, PublicURL: c.PublicURL, Logger: c.Logger}
	s.BreakGlass = breakglass.Store{DB: st.DB, TTL: c.BreakGlassTTL}
	s.Retention = &retention.Service{DB: st.DB, Archive: st.Archive, Audit: s.Audit, Logger: c.Logger}
	s.Consults = consult.Store{DB: st.DB}
	s.auditor.breakGlass = func(ctx context.Context, p *auth.Principal, study string) bool {
		return p.Role == auth.Radiologist && s.grants().ThroughBreakGlass(ctx, s.access(p, study))
	}
	s.auditor.boardGrant = func(ctx context.Context, p *auth.Principal, study string) bool {
		return s.grants().ThroughBoard(ctx, s.access(p, study))
	}
	dopt := dispatch.Options{Quiet: c.Quiet, Logger: c.Logger, Enrich: order.Enricher{Orders: s.Orders, OrderingClinician: s.orderingClinician}.Enrich, OnDecision: s.onDecision, Observe: m.ObserveDecisions,
		SetupVersion: func(ctx context.Context) (int64, error) { return setup.Version(ctx, st.DB) }}
	dopt.Engine = assign.DefaultConfig()
	if c.RoutineAhead != 0 {
		dopt.Engine.RoutineAhead = c.RoutineAhead
	}
	dopt.Engine.Rules.RequireMammoDisplayCheck = c.MammoDisplayCheck
	dopt.DisplayPasses = station.Store{DB: st.DB}.DisplayPasses
	if st.DB.Dialect == db.Postgres {
		// Any number of identical nodes may share a PostgreSQL index: one
		// leads the engine, the others forward to it (docs/scale-out.md).
		if dopt.Cluster, err = cluster.New(st.DB, c.DBURL(), cluster.Options{Logger: c.Logger}); err != nil {
			return nil, err
		}
		// A consult's two sides may be served by different nodes.
		node := dopt.Cluster
		node.OnRelay(s.hub.Deliver)
		s.hub.Relay = func(topic string, payload []byte) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := node.Relay(ctx, topic, payload); err != nil {
				s.log.Warn("live relay to other nodes", "err", err)
			}
		}
	}
	s.buildPriors(&dopt)
	s.Dispatch = dispatch.New(st.DB, dopt)
	s.events = &event.Bus{DB: st.DB, Logger: s.log}
	m.Watch(metrics.Sources{
		DB:           st.DB.W,
		Leader:       func() bool { return dopt.Cluster == nil || dopt.Cluster.Leader() },
		Worklist:     func(ctx context.Context) (map[string]int, time.Duration, error) { return dispatch.Gauges(ctx, st.DB) },
		Outbox:       func(ctx context.Context) (int, time.Duration, error) { return outbox.Backlog(ctx, st.DB) },
		CriticalOpen: func(ctx context.Context) (int, error) { return critical.OpenLoops(ctx, st.DB) },
		Logger:       c.Logger,
	})
	if err = s.Dispatch.Start(ctx); err != nil {
		return nil, err
	}
	s.Priors.Start()
	if err = s.buildReading(); err != nil {
		return nil, err
	}
	if c.HTTPS {
		if s.tlsHTTP, err = tlsutil.Server(c.TLSCert, c.TLSKey, tlsutil.ServerOptions{HTTP: true}); err != nil {
			return nil, err
		}
	}
	if err = s.buildHTTP(); err != nil {
		return nil, err
	}
	if s.httpLn, err = net.Listen("tcp", c.HTTP); err != nil {
		return nil, fmt.Errorf("listen http %s: %w", c.HTTP, err)
	}
	if c.HTTPConnsPerClient > 0 {
		s.httpLn = &netserve.Listener{Listener: s.httpLn, Limit: &netserve.Limit{PerPeer: c.HTTPConnsPerClient}}
	}
	if s.tlsHTTP != nil {
		s.httpLn = tls.NewListener(s.httpLn, s.tlsHTTP)
	}
	if err = s.buildDICOM(); err != nil {
		return nil, err
	}
	if err = s.buildHL7(); err != nil {
		return nil, err
	}
	if c.AuditSyslog != "" {
		if s.atnaTLS, err = tlsutil.Client(tlsutil.ClientOptions{CAFile: c.AuditSyslogCA, CertFile: c.AuditSyslogCert, KeyFile: c.AuditSyslogKey}); err != nil {
			return nil, fmt.Errorf("audit repository TLS: %w", err)
		}
	}
	return s, nil
}

func (s *Server) principalScope(r *http.Request) (query.Scope, error) {
	p := auth.PrincipalFrom(r.Context())
	if p == nil {
		return query.Scope{}, dicomweb.ErrNoCredentials
	}
	if p.Role == auth.Clinician && r.Method != http.MethodGet && r.Method != http.MethodHead {
		return query.Scope{}, dicomweb.ErrForbidden // referring clinicians read, never write
	}
	sc := p.Scope()
	// Break-glass, consult and tumor-board grants widen the one rule by
	// single studies, never by facility (internal/grants).
	studies, err := s.userGrants(r.Context(), p)
	if err != nil {
		return query.Scope{}, err
	}
	sc.Studies = studies
	return sc, nil
}

// userGrants are the single studies p sees beyond their facilities.
func (s *Server) userGrants(ctx context.Context, p *auth.Principal) ([]string, error) {
	return s.grants().Studies(ctx, p.Username, p.Role == auth.Radiologist)
}

// grants are the stores that widen a user's scope by single studies.
func (s *Server) grants() grants.Sources {
	return grants.Sources{BreakGlass: &s.BreakGlass, Consults: &s.Consults, Boards: &tumorboard.Store{DB: s.Storage.DB}}
}

// access describes p reaching study for the grants' audit questions.
func (s *Server) access(p *auth.Principal, study string) grants.Access {
	return grants.Access{User: p.Username, Study: study, Sees: p.Sees, FacilityOf: s.Query.StudyFacility}
}

// grantUse names the grant through which p reaches study outside their own
// scope, for the audit trail ("" when none).
func (s *Server) grantUse(ctx context.Context, p *auth.Principal, study string) string {
	switch {
	case s.auditor.breakGlass(ctx, p, study):
		return "break-glass"
	case s.auditor.boardGrant(ctx, p, study):
		return "tumor-board grant"
	}
	return ""
}

// fhirScope is the FHIR handlers' scope. Referring clinicians are not
// served there yet: FHIR search has no per-clinician filter, so it would
// show them every patient of their facility.
func (s *Server) fhirScope(r *http.Request) (scope.Scope, error) {
	if p := auth.PrincipalFrom(r.Context()); p != nil && p.Role == auth.Clinician {
		return scope.Scope{}, dicomweb.ErrForbidden
	}
	return s.principalScope(r)
}

// routeRecorder registers routes on a mux and remembers their patterns, so
// a test can call every route the node serves.
type routeRecorder struct {
	mux      *http.ServeMux
	patterns []string
}

func (r *routeRecorder) HandleFunc(p string, f func(http.ResponseWriter, *http.Request)) {
	r.patterns = append(r.patterns, p)
	r.mux.HandleFunc(p, f)
}

func (r *routeRecorder) Handle(p string, h http.Handler) {
	r.patterns = append(r.patterns, p)
	r.mux.Handle(p, h)
}

// Routes lists every HTTP route pattern the node serves.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

func (s *Server) buildHTTP() error {
	mux := &routeRecorder{mux: http.NewServeMux()}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	s.Auth.Routes(mux)
	principal := func(r *http.Request) (*auth.Principal, error) {
		if p := auth.PrincipalFrom(r.Context()); p != nil {
			return p, nil
		}
		return nil, auth.ErrUnauthenticated
	}
	ap := api.New(api.Options{DB: s.Storage.DB, Dispatch: s.Dispatch, Orders: s.Orders, Archive: s.Storage.Archive, Setup: s.Setup, Notify: s.Notify, BreakGlass: &s.BreakGlass, Retention: s.Retention, Consults: &s.Consults, Hub: &s.hub, ConsultRVU: s.cfg.ConsultRVU, ICE: consult.ICE{URLs: s.cfg.ICEServers, TURNSecret: s.cfg.TURNSecret, TURNTTL: s.cfg.TURNTTL}, VisitTTL: s.cfg.VisitTTL, Audit: s.Audit, Logger: s.log, Principal: principal})
	ap.Register(mux)
	s.peerDraw = ap.PeerDrawer()
	dw, err := dicomweb.New(dicomweb.Options{Archive: s.Storage.Archive, Query: s.Query, Logger: s.log, Authorize: s.principalScope, Prefix: "/dicomweb"})
	if err != nil {
		return err
	}
	mux.Handle("/dicomweb/", dw)
	mux.patterns = append(mux.patterns, dw.Routes()...)
	fh := &fhir.Handler{Orders: s.Orders, Reports: s.Reports, Audit: s.Audit, SiteID: s.cfg.AETitle, Principal: principal,
		Base: "/fhir", Version: Version, Logger: s.log, Scope: s.fhirScope}
	fh.Routes(mux)
	s.readingRoutes(mux, principal)
	mux.Handle("GET /metrics", s.metricsHandler())
	s.routes = mux.patterns
	s.handler = paceBodies(auth.SecurityHeaders(webapp.Wrap(s.Auth.Middleware(s.auditor.middleware(mux.mux), auth.MiddlewareOptions{PublicPaths: append(auth.DefaultPublicPaths(), "/api/visit/")}), func(r *http.Request) bool {
		_, pattern := mux.mux.Handler(r)
		return pattern != ""
	}), s.tlsHTTP != nil))
	return nil
}

// Handler is the node's HTTP handler (for tests that serve it themselves).
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.ready:
	default:
		httpx.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Storage.DB.W.PingContext(ctx); err != nil {
		httpx.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) buildDICOM() error {
	c := s.cfg
	if c.DICOM == "" && c.DICOMTLS == "" {
		return nil
	}
	svc := dicomsvc.New(dicomsvc.Options{AETitle: c.AETitle, Open: c.DICOMOpen, DB: s.Storage.DB, Archive: s.Storage.Archive, Query: s.Query,
		AEs: ae.Store{DB: s.Storage.DB}, Auth: s.Auth, Grants: s.userGrants, GrantUse: s.grantUse, Orders: s.Orders, Dispatch: s.Dispatch, Audit: s.Audit, Events: s.events, Logger: s.log})
	s.dicomSv = svc
	s.dicom = &dimse.Server{AETitle: c.AETitle, Handler: svc.Mux(), AcceptPolicy: svc.Accept, AEResolver: svc, Transcode: dicomsvc.Transcode,
		MaxAssociations: 64, MaxPeerAssociations: 16, MaxPending: 256, MaxPeerPending: 8, MoveAssociations: c.MoveAssociations, ImplementationClassUID: dcm.ImplementationClassUID, ImplementationVersionName: dcm.ImplementationVersionName, Logger: s.log}
	if c.DICOM != "" {
		ln, err := net.Listen("tcp", c.DICOM)
		if err != nil {
			return fmt.Errorf("listen dicom %s: %w", c.DICOM, err)
		}
		s.dicomLn = append(s.dicomLn, ln)
	}
	if c.DICOMTLS != "" {
		if c.TLSCert == "" {
			return errors.New("--dicom-tls needs --tls-cert and --tls-key")
		}
		cfg, err := tlsutil.Server(c.TLSCert, c.TLSKey, tlsutil.ServerOptions{})
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", c.DICOMTLS)
		if err != nil {
			return fmt.Errorf("listen dicom tls %s: %w", c.DICOMTLS, err)
		}
		s.dicomLn = append(s.dicomLn, tls.NewListener(ln, cfg))
	}
	return nil
}

func (s *Server) buildHL7() error {
	c := s.cfg
	if c.HL7 == "" {
		return nil
	}
	h := hl7order.NewHL7Handler(s.Orders, hl7sender.Resolver{Open: s.cfg.HL7Open, DB: s.Storage.DB, Logger: s.log}.Facility)
	h.OnResult = hl7order.Triager{Archive: s.Storage.Archive, Dispatch: s.Dispatch}.OnResult
	gate := &hl7sender.Gate{Next: h, Senders: hl7sender.Store{DB: s.Storage.DB}, Open: c.HL7Open, OnReject: h.DeadLetter, Logger: s.log}
	s.hl7 = &hl7.Server{Handler: gate, Logger: s.log, OnReject: h.DeadLetter, FirstFrameTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", c.HL7)
	if err != nil {
		return fmt.Errorf("listen hl7 %s: %w", c.HL7, err)
	}
	// An interface engine holds one or a few connections; strangers'
	// sockets are capped per address and dropped if silent (above).
	ln = &netserve.Listener{Listener: ln, Limit: &netserve.Limit{Total: 256, PerPeer: 8}}
	if c.HL7TLS {
		if c.TLSCert == "" {
			return errors.New("--hl7-tls needs --tls-cert and --tls-key")
		}
		cfg, err := tlsutil.Server(c.TLSCert, c.TLSKey, tlsutil.ServerOptions{ClientCAFile: c.HL7ClientCA, ClientAuth: tls.VerifyClientCertIfGiven})
		if err != nil {
			ln.Close()
			return err
		}
		ln = tls.NewListener(ln, cfg)
	}
	s.hl7Ln = ln
	return nil
}

// reportCrossLinks warns about patients filed under several facilities
// before the patient namespace rule: each needs a coordinator (split the
// patient) since their demographics show through either facility's studies.
// Only internal keys are logged, never identifiers.
func reportCrossLinks(ctx context.Context, a *archive.Archive, log *slog.Logger) {
	links, err := a.CrossLinks(ctx)
	if err != nil {
		log.Error("patient namespace audit failed", "err", err)
		return
	}
	if len(links) == 0 {
		return
	}
	pks := make([]int64, 0, min(len(links), 50))
	for _, l := range links[:cap(pks)] {
		pks = append(pks, l.PatientPK)
	}
	log.Warn("patients linked to studies or orders of several facilities; review with `lightbox check`", "patients", len(links), "patient_pks", pks)
}

// Addrs are the bound listener addresses.
type Addrs struct {
	HTTP, DICOM, DICOMTLS, HL7 string
}

// Addrs reports where the node listens.
func (s *Server) Addrs() Addrs {
	a := Addrs{HTTP: s.httpLn.Addr().String()}
	for i, ln := range s.dicomLn {
		if i == 0 && s.cfg.DICOM != "" {
			a.DICOM = ln.Addr().String()
		} else {
			a.DICOMTLS = ln.Addr().String()
		}
	}
	if s.hl7Ln != nil {
		a.HL7 = s.hl7Ln.Addr().String()
	}
	return a
}

// HTTPAddr is the bound HTTP address.
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

func (s *Server) closeListeners() {
	for _, ln := range append(s.dicomLn, s.httpLn, s.hl7Ln) {
		if ln != nil {
			ln.Close()
		}
	}
}

// Run serves until ctx is cancelled, then shuts down: listeners stop
// accepting, in-flight requests, associations and stores finish (bounded
// by ShutdownTimeout), background work stops, and storage closes.
func (s *Server) Run(ctx context.Context) error {
	// No ReadTimeout or WriteTimeout: bodies are paced by paceBodies, and
	// SSE streams and large downloads must not be cut.
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: HTTPIdleTimeout, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 4)
	go func() { errc <- hs.Serve(s.httpLn) }()
	for _, ln := range s.dicomLn {
		go func() { errc <- s.dicom.Serve(ln) }()
	}
	if s.hl7 != nil {
		go func() { errc <- s.hl7.Serve(s.hl7Ln) }()
	}
	// The outbox carries order status and reports; critical-result timers
	// escalate on every node (each firing is claimed once).
	s.outbox = &outbox.Deliverer{DB: s.Storage.DB, Logger: s.log}
	s.outbox.Start(context.Background())
	// Events a crashed run committed but did not hand on are handled now.
	s.events.Start(context.Background())
	if s.dicomSv != nil {
		// Storage Commitment reports acknowledged before a restart go out now.
		s.commits = s.dicomSv.StartCommitReports(0)
	}
	bg, stopBg := context.WithCancel(context.Background())
	s.stopBg = stopBg
	go func() { _ = s.Critical.NewScheduler().Run(bg) }()
	s.notices = &notify.Deliverer{DB: s.Storage.DB, SMTP: s.cfg.SMTP, Logger: s.log}
	s.notices.Start()
	go s.watch(bg)
	go s.optimizeHourly(bg)
	if s.hub.Relay != nil {
		// Other nodes list this node's consult participants only while
		// it keeps saying so.
		go s.hub.Announcing(bg)
	}
	s.startRetention(bg)
	// Each month's RADPEER sample, drawn once cluster-wide early on the 1st.
	go s.peerDraw.Run(bg, nodeName(), 10*time.Minute, s.log)
	var atna *audit.SyslogForwarder
	if s.atnaTLS != nil {
		atna = &audit.SyslogForwarder{DB: s.Storage.DB, Addr: s.cfg.AuditSyslog, TLSConfig: s.atnaTLS, SiteID: s.cfg.AETitle, Logger: s.log}
		atna.Start(bg)
	}
	// Group-commit the audit trail from here on; Close below commits what
	// is queued (internal/audit/batch.go).
	s.Audit.Start(0, s.log)
	close(s.ready)
	s.auditor.record(ctx, audit.ApplicationEvent(s.cfg.AETitle, audit.ApplicationStart))
	a := s.Addrs()
	s.log.Info("lightbox serving", "http", a.HTTP, "dicom", a.DICOM, "dicom_tls", a.DICOMTLS, "hl7", a.HL7, "aet", s.cfg.AETitle, "db", dialectOf(s.cfg.DBURL()))
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			runErr = err
		}
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		s.log.Warn("http shutdown", "err", err)
	}
	if s.dicom != nil {
		if err := s.dicom.Shutdown(sctx); err != nil {
			s.log.Warn("dicom shutdown", "err", err)
		}
	}
	if s.hl7 != nil {
		if err := s.hl7.Shutdown(sctx); err != nil {
			s.log.Warn("hl7 shutdown", "err", err)
		}
	}
	s.outbox.Stop()
	s.events.Stop()
	s.commits.Stop()
	s.notices.Stop()
	if atna != nil {
		atna.Stop()
	}
	s.stopBg()
	s.Priors.Stop()
	s.Dispatch.Close()
	s.auditor.record(context.Background(), audit.ApplicationEvent(s.cfg.AETitle, audit.ApplicationStop))
	actx, acancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	if err := s.Audit.Close(actx); err != nil {
		runErr = errors.Join(runErr, err)
	}
	acancel()
	if err := s.Storage.Close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	s.log.Info("stopped")
	return runErr
}

func dialectOf(u string) string {
	if strings.HasPrefix(u, "postgres") {
		return "postgres"
	}
	return "sqlite"
}

// optimizeHourly keeps the planner's statistics fresh as the index grows.
func (s *Server) optimizeHourly(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := s.Storage.DB.Optimize(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("optimize index statistics", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// metricsHandler serves Prometheus metrics to administrators and to staff
// who see every facility (a scraper uses such an account's bearer token:
// lightbox token create --username USER --name prometheus). Metrics carry
// no patient data, but they describe every facility.
func (s *Server) metricsHandler() http.Handler {
	h := s.Metrics.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.PrincipalFrom(r.Context())
		if p == nil || !(p.Role == auth.Admin || (p.All && p.Role == auth.Coordinator)) {
			httpx.JSON(w, http.StatusForbidden, map[string]string{"error": "metrics are for administrators"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// orderingClinician adds an order's ordering clinician to the facility's
// contact directory, for critical-result calls.
func (s *Server) orderingClinician(ctx context.Context, facilityID, name, id, phone string) error {
	_, err := s.Critical.Directory().UpsertFromOrder(ctx, facilityID, name, id, phone)
	return err
}
