package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"lightbox/internal/httpx"
)

// CSRFHeader carries the session's CSRF token on state-changing requests
// authenticated by cookie.
const CSRFHeader = "X-CSRF-Token"

// ExpiresInHeader tells the UI how many seconds remain before automatic
// logoff, on every cookie-authenticated response.
const ExpiresInHeader = "X-Session-Expires-In"

// PassiveHeader marks a request (e.g. a background refresh) that must not
// count as user activity: with "X-Session-Passive: 1" the idle timer does
// not slide.
const PassiveHeader = "X-Session-Passive"

type ctxKey int

const (
	principalKey ctxKey = iota
	sessionKey
)

// WithPrincipal returns a context carrying p (for other transports and tests).
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns the authenticated caller put in the context by
// Middleware or WithPrincipal, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// SessionFrom returns the browser session of a cookie-authenticated
// request, or nil (bearer tokens, public paths).
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey).(*Session)
	return s
}

// DefaultPublicPaths are reachable without authentication: health checks,
// the login page and API, and acknowledgement links (which carry their own
// single-use secret).
func DefaultPublicPaths() []string {
	return []string{"/healthz", "/readyz", "/login", "/api/login", "/api/login/enrol", "/api/login/enrol/confirm", "/ack/"}
}

// MiddlewareOptions configure Middleware.
type MiddlewareOptions struct {
	// PublicPaths pass without authentication. An entry ending in "/"
	// matches every path below it, others match exactly. nil means
	// DefaultPublicPaths().
	PublicPaths []string
	// PassivePaths are authenticated but do not count as user activity
	// (the idle timer does not slide). nil means "/api/session", the
	// status the UI polls to warn before logoff.
	PassivePaths []string
}

func matchPath(list []string, path string) bool {
	for _, p := range list {
		if p == path || (strings.HasSuffix(p, "/") && strings.HasPrefix(path, p)) {
			return true
		}
	}
	return false
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// Middleware authenticates every request that is not on a public path, by
// bearer token ("Authorization: Bearer lbx_...", exempt from CSRF) or by
// session cookie (sliding the idle timer; state-changing methods must
// carry the session's token in X-CSRF-Token). The principal goes into the
// request context (PrincipalFrom) and, for cookies, the session
// (SessionFrom). Failures get a JSON {"error": ...}: 401 when
// unauthenticated or expired, 403 for a bad CSRF token or a token used
// outside its allowed networks.
func (s *Service) Middleware(next http.Handler, opts MiddlewareOptions) http.Handler {
	public := opts.PublicPaths
	if public == nil {
		public = DefaultPublicPaths()
	}
	passive := opts.PassivePaths
	if passive == nil {
		passive = []string{"/api/session"}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if matchPath(public, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		if _, ok := bearer(r); ok {
			p, err := s.FromRequest(r)
			if err != nil {
				s.deny(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(ctx, p)))
			return
		}
		v, ok := s.cookieValue(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lightbox"`)
			httpx.Error(w, http.StatusUnauthorized, ErrUnauthenticated.Error())
			return
		}
		slide := !matchPath(passive, r.URL.Path) && r.Header.Get(PassiveHeader) != "1"
		sess, err := s.session(ctx, v, slide, s.ClientIP(r).String())
		if err != nil {
			if errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrDisabled) {
				s.ClearSessionCookie(w, r)
			}
			s.deny(w, err)
			return
		}
		if !safeMethod(r.Method) && subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(sess.CSRFToken)) != 1 {
			httpx.Error(w, http.StatusForbidden, "missing or invalid CSRF token ("+CSRFHeader+" header)")
			return
		}
		w.Header().Set(ExpiresInHeader, strconv.Itoa(int(sess.ExpiresIn(s.opt.Now()).Seconds())))
		ctx = WithPrincipal(context.WithValue(ctx, sessionKey, sess), sess.Principal)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// loginFailed audits and answers a failed password login (the login and the
// enrolment endpoints alike).
func (s *Service) loginFailed(w http.ResponseWriter, r *http.Request, username string, err error) {
	if !errors.Is(err, ErrTOTPRequired) {
		s.event(r.Context(), Event{Type: "login-failed", Username: username, RemoteIP: s.ClientIP(r).String(), Reason: err.Error()})
	}
	switch {
	case errors.Is(err, ErrTOTPRequired):
		httpx.JSON(w, http.StatusUnauthorized, map[string]any{"error": err.Error(), "totp_required": true})
	case errors.Is(err, ErrBadCredentials), errors.Is(err, ErrBadTOTP):
		httpx.Error(w, http.StatusUnauthorized, err.Error())
	case errors.Is(err, ErrLocked):
		// Exactly like an unknown user name: a lockout must not tell a
		// prober which accounts exist (the audit trail has the reason).
		httpx.Error(w, http.StatusUnauthorized, ErrBadCredentials.Error())
	case errors.Is(err, ErrDisabled), errors.Is(err, ErrTOTPEnrolmentRequired):
		// Only after the right password: no enumeration.
		httpx.Error(w, http.StatusForbidden, err.Error())
	default:
		s.deny(w, err)
	}
}

func (s *Service) deny(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrAddressNotAllowed), errors.Is(err, ErrDisabled):
		httpx.Error(w, http.StatusForbidden, err.Error())
	case errors.Is(err, ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="lightbox"`)
		httpx.Error(w, http.StatusUnauthorized, err.Error())
	default:
		s.opt.Logger.Error("authentication failed", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "authentication unavailable")
	}
}

// PrincipalJSON is how the login and session endpoints show a principal.
type PrincipalJSON struct {
	Username   string   `json:"username"`
	Role       Role     `json:"role"`
	Facilities []string `json:"facilities"`
	All        bool     `json:"all_facilities"`
}

// SessionJSON is the body of a successful login and of GET /api/session.
type SessionJSON struct {
	Principal   PrincipalJSON `json:"principal"`
	CSRFToken   string        `json:"csrf_token"`
	ExpiresIn   int           `json:"expires_in"`          // seconds before automatic logoff if idle
	MaxAgeIn    int           `json:"absolute_expires_in"` // seconds before the session ends anyway
	IdleTimeout int           `json:"idle_timeout"`        // seconds
	ReauthFor   int           `json:"reauth_valid_for"`    // seconds signing remains allowed without re-authenticating
}

func (s *Service) sessionJSON(sess *Session) SessionJSON {
	now := s.opt.Now()
	p := sess.Principal
	f := p.Facilities
	if f == nil {
		f = []string{}
	}
	return SessionJSON{
		Principal:   PrincipalJSON{Username: p.Username, Role: p.Role, Facilities: f, All: p.All},
		CSRFToken:   sess.CSRFToken,
		ExpiresIn:   int(sess.ExpiresIn(now).Seconds()),
		MaxAgeIn:    int(max(0, sess.ExpiresAt.Sub(now)).Seconds()),
		IdleTimeout: int(sess.IdleTimeout.Seconds()),
		ReauthFor:   int(max(0, sess.AuthenticatedAt.Add(s.opt.ReauthWindow).Sub(now)).Seconds()),
	}
}

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	TOTP     string `json:"totp"`
}

func readCredentials(w http.ResponseWriter, r *http.Request) (credentials, bool) {
	var c credentials
	// Requiring JSON forces a CORS preflight on cross-site posts (login CSRF).
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		httpx.Error(w, http.StatusUnsupportedMediaType, "expected Content-Type application/json")
		return c, false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&c); err != nil {
		httpx.Error(w, http.StatusBadRequest, "expected JSON {username, password, totp}")
		return c, false
	}
	return c, true
}

// Routes registers the session endpoints on mux; wrap the mux in
// Middleware (with "/api/login" public, as by default):
//
//	POST /api/login   {username, password, totp} -> 200 SessionJSON + cookie
//	POST /api/logout  -> 204, cookie cleared
//	GET  /api/session -> 200 SessionJSON (does not slide the idle timer)
//	POST /api/reauth  {password, totp} -> 200 SessionJSON (before signing)
//
// Mux is where routes are registered (an *http.ServeMux, or a recorder
// that also lists them).
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

func (s *Service) Routes(mux Mux) {
	mux.HandleFunc("POST /api/login", s.LoginHandler().ServeHTTP)
	mux.HandleFunc("POST /api/logout", s.LogoutHandler().ServeHTTP)
	mux.HandleFunc("GET /api/session", s.SessionHandler().ServeHTTP)
	mux.HandleFunc("POST /api/reauth", s.ReauthHandler().ServeHTTP)
	mux.HandleFunc("POST /api/login/enrol", s.enrolHandler)
	mux.HandleFunc("POST /api/login/enrol/confirm", s.confirmEnrolHandler)
}

// LoginHandler handles POST {username, password, totp}: failed attempts
// rate-limited per client address (rateLimited), full Authenticate, then a new session cookie. Errors:
// 401 bad credentials or a locked account, alike (with "totp_required": true
// when only the code was missing), 403 disabled or not enrolled (the
// password was right), 429 rate-limited.
func (s *Service) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			httpx.Error(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		ctx := r.Context()
		if s.rateLimited(w, r, true) {
			return
		}
		c, ok := readCredentials(w, r)
		if !ok {
			return
		}
		p, err := s.Authenticate(ctx, c.Username, c.Password, c.TOTP)
		if err != nil {
			s.loginFailed(w, r, c.Username, err)
			return
		}
		s.startBrowserSession(w, r, p)
	})
}

// startBrowserSession ends the request's previous session, if any, starts
// one for p, sets its cookie and answers 200 SessionJSON.
func (s *Service) startBrowserSession(w http.ResponseWriter, r *http.Request, p *Principal) {
	ctx := r.Context()
	ip := s.ClientIP(r)
	s.limiter.refund(ip, s.opt.Now())
	if old, ok := s.cookieValue(r); ok {
		_ = s.Logout(ctx, old)
	}
	v, err := s.StartSession(ctx, p, ip.String(), r.UserAgent())
	if err != nil {
		s.deny(w, err)
		return
	}
	sess, err := s.session(ctx, v, false, ip.String())
	if err != nil {
		s.deny(w, err)
		return
	}
	s.event(ctx, Event{Type: "login", Username: p.Username, RemoteIP: ip.String()})
	s.SetSessionCookie(w, r, v)
	httpx.JSON(w, http.StatusOK, s.sessionJSON(sess))
}

// LogoutHandler ends the request's session and clears the cookie (204).
func (s *Service) LogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v, ok := s.cookieValue(r); ok {
			if err := s.Logout(r.Context(), v); err != nil {
				s.deny(w, err)
				return
			}
			user := ""
			if p := PrincipalFrom(r.Context()); p != nil {
				user = p.Username
			}
			s.event(r.Context(), Event{Type: "logout", Username: user, RemoteIP: s.ClientIP(r).String()})
		}
		s.ClearSessionCookie(w, r)
		w.Header().Set("Cache-Control", "no-store")
		// The browser drops every cached image, stored draft and worker of
		// this origin (W3C Clear Site Data); the app also clears its own.
		w.Header().Set("Clear-Site-Data", `"cache", "storage"`)
		w.WriteHeader(http.StatusNoContent)
	})
}

// SessionHandler reports the current session (SessionJSON) without
// counting as activity, so the UI can poll it to warn before logoff.
func (s *Service) SessionHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := SessionFrom(r.Context())
		if sess == nil {
			v, ok := s.cookieValue(r)
			if !ok {
				httpx.Error(w, http.StatusUnauthorized, ErrUnauthenticated.Error())
				return
			}
			var err error
			if sess, err = s.session(r.Context(), v, false, s.ClientIP(r).String()); err != nil {
				s.deny(w, err)
				return
			}
		}
		js := s.sessionJSON(sess)
		w.Header().Set(ExpiresInHeader, strconv.Itoa(js.ExpiresIn))
		httpx.JSON(w, http.StatusOK, js)
	})
}

// ReauthHandler handles POST {password, totp} for the request's session
// (it must run behind Middleware, which checks CSRF) and on success
// returns SessionJSON with reauth_valid_for reset.
func (s *Service) ReauthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := SessionFrom(r.Context())
		if sess == nil {
			httpx.Error(w, http.StatusUnauthorized, "re-authentication needs a browser session")
			return
		}
		if s.rateLimited(w, r, false) {
			return
		}
		c, ok := readCredentials(w, r)
		if !ok {
			return
		}
		if err := s.Reauthenticate(r.Context(), sess, c.Password, c.TOTP); err != nil {
			switch {
			case errors.Is(err, ErrTOTPRequired):
				httpx.JSON(w, http.StatusUnauthorized, map[string]any{"error": err.Error(), "totp_required": true})
			case errors.Is(err, ErrBadCredentials), errors.Is(err, ErrBadTOTP):
				httpx.Error(w, http.StatusUnauthorized, err.Error())
			case errors.Is(err, ErrLocked), errors.Is(err, ErrDisabled), errors.Is(err, ErrTOTPEnrolmentRequired):
				httpx.Error(w, http.StatusForbidden, err.Error())
			default:
				s.deny(w, err)
			}
			return
		}
		s.limiter.refund(s.ClientIP(r), s.opt.Now())
		httpx.JSON(w, http.StatusOK, s.sessionJSON(sess))
	})
}

// rateLimited takes a token for the request's client network; without
// one it answers 429 with Retry-After (and records the event when asked).
// A sign-in that succeeds gives its token back (limiter.refund), so the
// bucket counts failed attempts: a reading room whose radiologists all
// sign in through one NAT address at a shift change is never throttled,
// while guessing passwords from it still is.
func (s *Service) rateLimited(w http.ResponseWriter, r *http.Request, record bool) bool {
	ip := s.ClientIP(r)
	ok, wait := s.limiter.allow(ip, s.opt.Now())
	if ok {
		return false
	}
	if record {
		s.event(r.Context(), Event{Type: "rate-limited", RemoteIP: ip.String()})
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	httpx.Error(w, http.StatusTooManyRequests, ErrRateLimited.Error())
	return true
}

// limiter is a token bucket per client network (an IPv4 address or an
// IPv6 /64), held in memory by one Service.
type limiter struct {
	mu        sync.Mutex
	burst     float64
	every     time.Duration
	buckets   map[netip.Prefix]*bucket
	lastPrune time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: float64(burst), every: every, buckets: map[netip.Prefix]*bucket{}}
}

// allow takes a token for ip; when none is left it returns false and the
// wait until the next one.
func (l *limiter) allow(ip netip.Addr, now time.Time) (bool, time.Duration) {
	key := clientNet(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buckets) > 10000 && now.Sub(l.lastPrune) > time.Minute {
		l.lastPrune = now
		for k, b := range l.buckets {
			if l.refill(b, now) >= l.burst {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = l.refill(b, now)
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	return true, 0
}

// refund gives back the token a successful sign-in from ip took. Only
// right credentials earn it, so it lends a password guesser nothing.
func (l *limiter) refund(ip netip.Addr, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[clientNet(ip)]; ok {
		b.tokens = min(l.burst, l.refill(b, now)+1)
		b.at = now
	}
}

// clientNet is the bucket of ip: the address, or an IPv6 address's /64.
func clientNet(ip netip.Addr) netip.Prefix {
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p
	}
	return netip.PrefixFrom(ip, ip.BitLen())
}

func (l *limiter) refill(b *bucket, now time.Time) float64 {
	return min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
}
