package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"lightbox/internal/db"
)

// ErrSessionExpired is returned for a session ended by idle time or age; it
// wraps ErrUnauthenticated.
var ErrSessionExpired = fmt.Errorf("session expired: %w", ErrUnauthenticated)

// touchEvery limits how often a busy session's last_seen is rewritten; the
// idle timeout is therefore exact to within this.
const touchEvery = 10 * time.Second

// Session is a browser login.
type Session struct {
	Principal       *Principal
	CSRFToken       string    // send back in the X-CSRF-Token header on POST/PUT/PATCH/DELETE
	CreatedAt       time.Time // login
	LastSeen        time.Time // last authenticated request
	AuthenticatedAt time.Time // login or last re-authentication
	ExpiresAt       time.Time // absolute end, whatever the activity
	IdleTimeout     time.Duration
	idHash          string
}

// Deadline is when the session ends if no further request arrives.
func (s *Session) Deadline() time.Time {
	if idle := s.LastSeen.Add(s.IdleTimeout); idle.Before(s.ExpiresAt) {
		return idle
	}
	return s.ExpiresAt
}

// ExpiresIn is the time left before automatic logoff, as of now.
func (s *Session) ExpiresIn(now time.Time) time.Duration { return max(0, s.Deadline().Sub(now)) }

// CSRFToken derives a session's CSRF token from its cookie value: a
// one-way function of the secret session ID, so it need not be stored and
// cannot be computed by a page that cannot read the HttpOnly cookie.
func CSRFToken(cookieValue string) string {
	h := sha256.Sum256([]byte("lightbox csrf\x00" + cookieValue))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// StartSession records a new session for an authenticated principal and
// returns the cookie value (secret; only its SHA-256 is stored). Set it
// with SetSessionCookie.
func (s *Service) StartSession(ctx context.Context, p *Principal, remoteIP, userAgent string) (string, error) {
	if p == nil || p.Username == "" {
		return "", ErrUnauthenticated
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	value := "lbs_" + base64.RawURLEncoding.EncodeToString(raw)
	now := db.Now(s.opt.Now())
	if len(userAgent) > 256 {
		userAgent = userAgent[:256]
	}
	_, err := s.db.Exec(ctx, `INSERT INTO app_session (id_sha256, username, created_at, last_seen, expires_at, authenticated_at, remote_ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		tokenHash(value), p.Username, now, now, db.Now(s.opt.Now().Add(s.opt.MaxSessionAge)), now, remoteIP, userAgent)
	if err != nil {
		return "", fmt.Errorf("start session: %w", err)
	}
	return value, nil
}

// SetSessionCookie sets the session cookie: HttpOnly, SameSite=Strict,
// Path=/, Secure when the request came over TLS or Options.SecureCookies.
// It is a browser-session cookie (no Max-Age): closing the browser drops it.
func (s *Service) SetSessionCookie(w http.ResponseWriter, r *http.Request, value string) {
	http.SetCookie(w, &http.Cookie{Name: s.opt.CookieName, Value: value, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.opt.SecureCookies})
}

// ClearSessionCookie removes the session cookie from the browser.
func (s *Service) ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: s.opt.CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.opt.SecureCookies})
}

func (s *Service) cookieValue(r *http.Request) (string, bool) {
	c, err := r.Cookie(s.opt.CookieName)
	if err != nil || c.Value == "" {
		return "", false
	}
	return c.Value, true
}

// SessionFromRequest authenticates a request by its session cookie and
// slides the idle timer. It does not check CSRF; Middleware does.
func (s *Service) SessionFromRequest(r *http.Request) (*Session, error) {
	v, ok := s.cookieValue(r)
	if !ok {
		return nil, ErrUnauthenticated
	}
	return s.session(r.Context(), v, true, s.ClientIP(r).String())
}

// session looks a session up; slide records the request as activity.
func (s *Service) session(ctx context.Context, value string, slide bool, ip string) (*Session, error) {
	var username, created, lastSeen, expires, authAt, ended string
	h := tokenHash(value)
	err := s.db.QueryRow(ctx, "SELECT username, created_at, last_seen, expires_at, authenticated_at, ended_at FROM app_session WHERE id_sha256 = ?", h).
		Scan(&username, &created, &lastSeen, &expires, &authAt, &ended)
	if err != nil {
		return nil, db.RowErr(err, ErrUnauthenticated, "session")
	}
	if ended != "" {
		return nil, ErrSessionExpired
	}
	sess := &Session{IdleTimeout: s.opt.IdleTimeout, idHash: h, CSRFToken: CSRFToken(value)}
	for _, f := range []struct {
		s string
		t *time.Time
	}{{created, &sess.CreatedAt}, {lastSeen, &sess.LastSeen}, {expires, &sess.ExpiresAt}, {authAt, &sess.AuthenticatedAt}} {
		if *f.t, err = db.ParseTime(f.s); err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
	}
	now := s.opt.Now()
	if !now.Before(sess.Deadline()) {
		reason := "idle"
		if !now.Before(sess.ExpiresAt) {
			reason = "maximum age"
		}
		if _, err := s.db.Exec(ctx, "UPDATE app_session SET ended_at = ? WHERE id_sha256 = ? AND ended_at = ''", db.Now(now), h); err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
		s.event(ctx, Event{Type: "session-expired", Username: username, RemoteIP: ip, Reason: reason})
		return nil, ErrSessionExpired
	}
	p, err := s.principal(ctx, username)
	if err != nil {
		return nil, err
	}
	sess.Principal = p
	if slide && now.Sub(sess.LastSeen) >= touchEvery {
		if _, err := s.db.Exec(ctx, "UPDATE app_session SET last_seen = ? WHERE id_sha256 = ?", db.Now(now), h); err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
		sess.LastSeen = now
	}
	return sess, nil
}

// Logout ends the session with this cookie value (no error if it is
// unknown or already ended).
func (s *Service) Logout(ctx context.Context, cookieValue string) error {
	_, err := s.db.Exec(ctx, "UPDATE app_session SET ended_at = ? WHERE id_sha256 = ? AND ended_at = ''", db.Now(s.opt.Now()), tokenHash(cookieValue))
	return err
}

// EndSessions ends every session of a user (password change, disabling,
// second-factor reset, or an administrator's "log out everywhere").
func (s *Service) EndSessions(ctx context.Context, username string) error {
	_, err := s.db.Exec(ctx, "UPDATE app_session SET ended_at = ? WHERE username = ? AND ended_at = ''", db.Now(s.opt.Now()), username)
	return err
}

// PruneSessions deletes sessions that ended or expired more than a day ago
// and returns how many; run it now and then (the audit trail is elsewhere).
func (s *Service) PruneSessions(ctx context.Context) (int64, error) {
	now := s.opt.Now()
	cut := db.Now(now.Add(-24 * time.Hour))
	res, err := s.db.Exec(ctx, "DELETE FROM app_session WHERE (ended_at <> '' AND ended_at < ?) OR expires_at < ? OR last_seen < ?",
		cut, cut, db.Now(now.Add(-24*time.Hour-s.opt.IdleTimeout)))
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	return res.RowsAffected()
}

// Reauthenticate checks the session user's password and (if enrolled or
// required) a fresh TOTP code again, and records the time so that
// RequireRecentAuth passes for Options.ReauthWindow. Failures count
// towards the account lockout.
func (s *Service) Reauthenticate(ctx context.Context, sess *Session, password, totpCode string) error {
	if sess == nil || sess.Principal == nil {
		return ErrUnauthenticated
	}
	if _, err := s.Authenticate(ctx, sess.Principal.Username, password, totpCode); err != nil {
		s.event(ctx, Event{Type: "reauth-failed", Username: sess.Principal.Username, Reason: err.Error()})
		return err
	}
	now := s.opt.Now()
	if _, err := s.db.Exec(ctx, "UPDATE app_session SET authenticated_at = ?, last_seen = ? WHERE id_sha256 = ?", db.Now(now), db.Now(now), sess.idHash); err != nil {
		return fmt.Errorf("reauthenticate: %w", err)
	}
	sess.AuthenticatedAt, sess.LastSeen = now, now
	s.event(ctx, Event{Type: "reauth", Username: sess.Principal.Username})
	return nil
}

// RequireRecentAuth returns nil when the request's session (put in the
// context by Middleware) logged in or re-authenticated within
// Options.ReauthWindow, else ErrReauthRequired. Bearer-token requests have
// no session and always get ErrReauthRequired: check credentials in the
// request itself with Authenticate instead. Use before signing a report.
func (s *Service) RequireRecentAuth(ctx context.Context) error {
	sess := SessionFrom(ctx)
	if sess == nil || s.opt.Now().Sub(sess.AuthenticatedAt) > s.opt.ReauthWindow {
		return ErrReauthRequired
	}
	return nil
}
