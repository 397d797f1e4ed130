package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"lightbox/internal/api"
	"lightbox/internal/archive"
	"lightbox/internal/auth"
	"lightbox/internal/blob"
	"lightbox/internal/db"
	"lightbox/internal/dispatch"
)

// Config names where a node keeps its data and where it listens.
type Config struct {
	Data       string // data folder: index.db and blobs/ unless DB/Blobs say otherwise
	DB         string // sqlite:PATH or postgres://...
	Blobs      string // folder or file:DIR
	HTTP       string // HTTP listen address
	DICOM      string // DICOM listen address
	AETitle    string
	Duplicates string // duplicate policy
	// Quiet is how long a study receives nothing before it is read (default 1 min).
	Quiet  time.Duration
	Logger *slog.Logger
	// ShutdownTimeout bounds how long in-flight work may take at shutdown.
	ShutdownTimeout time.Duration
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
	d, err := db.Open(ctx, c.DBURL())
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	b, err := blob.Open(c.BlobsURL())
	if err != nil {
		d.Close()
		return nil, err
	}
	if dir, ok := b.(*blob.Dir); ok && dir.StaleRemoved > 0 {
		log.Info("removed temp files left by a stopped process", "files", dir.StaleRemoved)
	}
	a := archive.New(d, b, archive.Options{Duplicates: policy, Logger: log})
	return &Storage{DB: d, Blobs: b, Archive: a}, nil
}

// Server is a running node.
type Server struct {
	cfg      Config
	log      *slog.Logger
	Storage  *Storage
	Auth     *auth.Service
	Dispatch *dispatch.Service
	mux      *http.ServeMux
	httpLn   net.Listener
	ready    chan struct{}
}

// New opens storage and binds the listeners (so the caller learns the real
// ports before Run when an address ends in :0).
func New(ctx context.Context, c Config) (*Server, error) {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	st, err := OpenStorage(ctx, c)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: c, log: c.Logger, Storage: st, mux: http.NewServeMux(), ready: make(chan struct{})}
	s.Auth = auth.New(st.DB, auth.Options{})
	s.Dispatch = dispatch.New(st.DB, dispatch.Options{Quiet: c.Quiet, Logger: c.Logger})
	if err := s.Dispatch.Start(ctx); err != nil {
		st.Close()
		return nil, err
	}
	s.routes()
	api.New(api.Options{DB: st.DB, Dispatch: s.Dispatch, Principal: s.Auth.FromRequest, Logger: c.Logger}).Register(s.mux)
	s.httpLn, err = net.Listen("tcp", c.HTTP)
	if err != nil {
		s.Dispatch.Close()
		st.Close()
		return nil, fmt.Errorf("listen http %s: %w", c.HTTP, err)
	}
	return s, nil
}

// HTTPAddr is the bound HTTP address.
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.ready:
		default:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Storage.DB.W.PingContext(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Run serves until ctx is cancelled, then shuts down: listeners stop
// accepting, in-flight requests and stores finish (bounded by
// ShutdownTimeout), and storage closes.
func (s *Server) Run(ctx context.Context) error {
	hs := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(s.httpLn) }()
	close(s.ready)
	s.log.Info("lightbox serving", "http", s.HTTPAddr(), "db", dialectOf(s.cfg.DBURL()), "aet", s.cfg.AETitle)
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("http: %w", err)
		}
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		s.log.Warn("http shutdown", "err", err)
	}
	s.Dispatch.Close()
	if err := s.Storage.Close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	s.log.Info("stopped")
	return runErr
}

func dialectOf(u string) string {
	if len(u) > 8 && u[:8] == "postgres" {
		return "postgres"
	}
	return "sqlite"
}
