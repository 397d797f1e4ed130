package dicomweb

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"lightbox/internal/archive"
	"lightbox/internal/query"
)

// ErrNoCredentials is what an Authorize hook returns (wrapped or not) when
// the request carries no usable credentials: the answer is 401.
var ErrNoCredentials = errors.New("authentication required")

// ErrForbidden is what an Authorize hook returns when the caller is known
// but may not use DICOMweb: the answer is 403. Any other error is 401.
var ErrForbidden = errors.New("forbidden")

// Options are the Handler's dependencies.
type Options struct {
	Archive *archive.Archive
	Query   *query.Engine
	Logger  *slog.Logger
	// Authorize decides who the caller is and what they may see. It runs
	// before every route; an error answers 401 (403 for ErrForbidden).
	Authorize func(r *http.Request) (query.Scope, error)
	// Prefix is where the handler is mounted (default "/dicomweb").
	Prefix string
	// BaseURL, when set, is the absolute URL of the DICOMweb root as
	// clients see it (behind a proxy). Otherwise it is derived from each
	// request (scheme from TLS, Host header) and Prefix.
	BaseURL string
	// MaxResults caps QIDO-RS results per request (default 1000).
	MaxResults int
}

// Handler serves DICOMweb (QIDO-RS, WADO-RS, STOW-RS) under Prefix.
type Handler struct {
	opt Options
	a   *archive.Archive
	q   *query.Engine
	log *slog.Logger
	mux *http.ServeMux
	// patterns lists every route, for the route-enumeration security test.
	patterns []string
	metas    *metaCache
	// resolved counts the reads of instance rows (resolveWith), which
	// tests hold to one per retrieve.
	resolved atomic.Int64
}

// New builds a Handler.
func New(opt Options) (*Handler, error) {
	if opt.Archive == nil || opt.Query == nil || opt.Authorize == nil {
		return nil, errors.New("dicomweb: Archive, Query and Authorize are required")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Prefix == "" {
		opt.Prefix = "/dicomweb"
	}
	opt.Prefix = "/" + strings.Trim(opt.Prefix, "/")
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	if opt.MaxResults <= 0 {
		opt.MaxResults = 1000
	}
	h := &Handler{opt: opt, a: opt.Archive, q: opt.Query, log: opt.Logger, mux: http.NewServeMux(), metas: &metaCache{max: 128 << 20}}
	h.routes()
	return h, nil
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, scope query.Scope)

func (h *Handler) handle(pattern string, fn handlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	h.patterns = append(h.patterns, method+" "+h.opt.Prefix+path)
	h.mux.HandleFunc(method+" "+h.opt.Prefix+path, func(w http.ResponseWriter, r *http.Request) {
		scope, err := h.opt.Authorize(r)
		if err != nil {
			if errors.Is(err, ErrForbidden) {
				h.fail(w, r, http.StatusForbidden, "forbidden")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="dicomweb"`)
			h.fail(w, r, http.StatusUnauthorized, "authentication required")
			return
		}
		fn(w, r, scope)
	})
}

func (h *Handler) routes() {
	const (
		st = "/studies/{study}"
		se = st + "/series/{series}"
		in = se + "/instances/{instance}"
		fr = in + "/frames/{frames}"
	)
	// QIDO-RS.
	h.handle("GET /studies", h.searchStudies)
	h.handle("GET /series", h.searchSeries)
	h.handle("GET /instances", h.searchInstances)
	h.handle("GET "+st+"/series", h.searchSeries)
	h.handle("GET "+st+"/instances", h.searchInstances)
	h.handle("GET "+se+"/instances", h.searchInstances)
	// WADO-RS.
	for _, p := range []string{st, se, in} {
		h.handle("GET "+p, h.retrieve)
		h.handle("GET "+p+"/metadata", h.metadata)
		h.handle("GET "+p+"/rendered", h.rendered)
		h.handle("GET "+p+"/thumbnail", h.thumbnail)
	}
	// Lightbox's own (not DICOMweb): a series' metadata with what its
	// instances share sent once, for the viewer.
	h.handle("GET "+se+"/metadata-shared", h.sharedMetadata)
	h.handle("GET "+fr, h.frames)
	h.handle("GET "+fr+"/rendered", h.rendered)
	h.handle("GET "+fr+"/thumbnail", h.thumbnail)
	h.handle("GET "+in+"/bulk/{tag}", h.bulk)
	// STOW-RS.
	h.handle("POST /studies", h.store)
	h.handle("POST "+st, h.store)
}

// ServeHTTP serves a request. A panic in a route is logged and answered
// 500 rather than killing the connection silently.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("dicomweb: panic", "path_pattern", r.Pattern, "panic", fmt.Sprint(v))
			h.fail(w, r, http.StatusInternalServerError, "internal error")
		}
	}()
	h.mux.ServeHTTP(w, r)
}

// base is the absolute URL of the DICOMweb root for r.
func (h *Handler) base(r *http.Request) string {
	if h.opt.BaseURL != "" {
		return h.opt.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + h.opt.Prefix
}

// fail writes a JSON error body.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if code >= 500 {
		h.log.Error("dicomweb: request failed", "method", r.Method, "pattern", r.Pattern, "status", code, "error", msg)
	}
	b, _ := json.Marshal(map[string]string{"error": msg})
	hd := w.Header()
	hd.Del("Content-Encoding")
	hd.Del("ETag")
	hd.Del("Cache-Control")
	hd.Set("Content-Type", "application/json")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// internal logs err and answers 500 without leaking details.
func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("dicomweb: internal error", "method", r.Method, "pattern", r.Pattern, "error", err)
	h.fail(w, r, http.StatusInternalServerError, "internal error")
}

// acceptsGzip reports whether the client accepts gzip content coding.
func acceptsGzip(r *http.Request) bool {
	gz, _, star := codingQ(r)
	if gz < 0 {
		gz = star
	}
	return gz > 0
}

// body returns where to write a response body: gzip-compressed when the
// client accepts it and compress is true. close must be called at the end.
func body(w http.ResponseWriter, r *http.Request, compress bool) (io.Writer, func() error) {
	w.Header().Add("Vary", "Accept-Encoding")
	if !compress || !acceptsGzip(r) {
		return w, func() error { return nil }
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Del("Content-Length")
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	return gz, gz.Close
}

// etagOf quotes a validator.
func etagOf(parts ...string) string {
	return `"` + strings.Join(parts, "-") + `"`
}

// hashTag hashes many parts into a short validator.
func hashTag(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// notModified sets ETag and answers 304 when If-None-Match matches.
func notModified(w http.ResponseWriter, r *http.Request, etag string) bool {
	w.Header().Set("ETag", etag)
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// instanceCache is the Cache-Control of a stored instance's bytes (frames,
// rendered images, the instance): a day in the browser's private cache,
// since an instance never changes under its UID, unless the archive
// replaces duplicates, when the browser revalidates against the ETag (the
// content hash) so a replaced instance never shows its old pixels.
func (h *Handler) instanceCache() string {
	if h.a != nil && h.a.Replaces() {
		return "private, no-cache"
	}
	return "private, max-age=86400"
}

// Routes lists the handler's route patterns.
func (h *Handler) Routes() []string { return append([]string(nil), h.patterns...) }
