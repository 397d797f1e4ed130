package auth

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"lightbox/internal/db"
	"lightbox/internal/scope"
)

// Role is what a user does.
type Role string

// Roles.
const (
	Admin        Role = "admin"
	Coordinator  Role = "coordinator"
	Radiologist  Role = "radiologist"
	Technologist Role = "technologist" // bound to one facility
	Clinician    Role = "clinician"    // bound to one facility, read-only
	Integration  Role = "integration"  // a facility's systems, by token
)

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Admin, Coordinator, Radiologist, Technologist, Clinician, Integration:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (admin, coordinator, radiologist, technologist, clinician, integration)", s)
}

// Principal is an authenticated caller.
type Principal struct {
	Username   string
	Role       Role
	Facilities []string // facilities the caller may see (sorted)
	All        bool     // administrators and coordinators see every facility
	// Clinician, for a referring clinician, is the ordering-clinician ID
	// (e.g. NPI) their studies' orders carry: they see only those studies.
	Clinician string `json:",omitempty"`
}

// Scope is what the caller may see: the one access rule every edge applies.
func (p *Principal) Scope() scope.Scope {
	if p == nil {
		return scope.Scope{Facilities: []string{}}
	}
	return scope.Scope{Role: string(p.Role), All: p.All, Facilities: p.Facilities, Clinician: p.Clinician}
}

// Sees reports whether the caller may see data of a facility.
func (p *Principal) Sees(facilityID string) bool { return p.Scope().AllowsFacility(facilityID) }

// Errors callers map to HTTP 401 / DIMSE rejection.
var (
	ErrUnauthenticated = errors.New("authentication required")
	ErrBadCredentials  = errors.New("invalid user name or password")
	ErrLocked          = errors.New("account locked after repeated failures; try later")
	ErrDisabled        = errors.New("account disabled")
	ErrUserExists      = errors.New("user already exists")

	ErrTOTPRequired          = errors.New("a one-time code is required")
	ErrBadTOTP               = errors.New("invalid or already used one-time code")
	ErrTOTPEnrolmentRequired = errors.New("two-factor enrolment required; ask an administrator")
	ErrAddressNotAllowed     = errors.New("token not allowed from this address")
	ErrReauthRequired        = errors.New("re-authentication required")
	ErrRateLimited           = errors.New("too many login attempts; try later")
)

// Options tune login policy. The zero value is a sensible default.
type Options struct {
	MaxFailures int           // failures before lockout (default 5)
	LockBase    time.Duration // first lockout; doubles per further failure (default 1 min)
	Now         func() time.Time

	// TOTPRoles are the roles that must use a second factor (TOTP). nil
	// means admin and radiologist; an empty non-nil slice means none. A
	// user of another role who enrolled anyway must also give a code.
	TOTPRoles []Role
	// TOTPIssuer names the service in authenticator apps (default "Lightbox").
	TOTPIssuer string
	// SecretKey (32 bytes, e.g. blob.LoadKey) seals TOTP secrets in the
	// database with AES-256-GCM under an HKDF-derived subkey. Without it
	// secrets are stored unsealed (a warning is logged at each enrolment).
	SecretKey []byte

	// IdleTimeout ends a browser session after this long without requests
	// (HIPAA automatic logoff; default 15 min).
	IdleTimeout time.Duration
	// MaxSessionAge ends a session this long after login whatever its
	// activity (default 12 h).
	MaxSessionAge time.Duration
	// ReauthWindow is how long a login or re-authentication counts as
	// recent for RequireRecentAuth, e.g. before signing (default 5 min).
	ReauthWindow time.Duration
	// CookieName is the session cookie's name (default "lightbox_session").
	CookieName string
	// SecureCookies sets Secure on cookies even when the request did not
	// arrive over TLS (behind a TLS-terminating proxy).
	SecureCookies bool

	// LoginBurst and LoginEvery shape the per-IP login rate limit: a
	// bucket of LoginBurst attempts refilled by one every LoginEvery
	// (defaults 10 and 6 s, i.e. 10 per minute sustained).
	LoginBurst int
	LoginEvery time.Duration
	// TrustedProxies are reverse proxies whose X-Forwarded-For is believed
	// when finding a client's address. Empty: the TCP peer is the client.
	TrustedProxies []netip.Prefix

	// Logger receives security events (no PHI: user names, addresses and
	// outcomes only). Default slog.Default().
	Logger *slog.Logger
	// OnEvent, when set, is told about logins, failures, logouts and
	// re-authentications, e.g. to emit ATNA 110114 audit records.
	OnEvent func(context.Context, Event)
}

// Event is a security event for auditing.
type Event struct {
	Type     string // login, login-failed, logout, session-expired, reauth, reauth-failed, totp-enrolled, totp-confirmed, totp-reset, rate-limited
	Username string
	RemoteIP string
	Reason   string // for failures: the error text
}

// Service authenticates callers.
type Service struct {
	db      *db.DB
	opt     Options
	limiter *limiter
	totpKey []byte // AES-256 key for TOTP secrets, nil when unsealed
}

// New returns a Service.
func New(d *db.DB, opt Options) *Service {
	if opt.MaxFailures == 0 {
		opt.MaxFailures = 5
	}
	if opt.LockBase == 0 {
		opt.LockBase = time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.TOTPRoles == nil {
		opt.TOTPRoles = []Role{Admin, Radiologist}
	}
	if opt.TOTPIssuer == "" {
		opt.TOTPIssuer = "Lightbox"
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = 15 * time.Minute
	}
	if opt.MaxSessionAge <= 0 {
		opt.MaxSessionAge = 12 * time.Hour
	}
	if opt.ReauthWindow <= 0 {
		opt.ReauthWindow = 5 * time.Minute
	}
	if opt.CookieName == "" {
		opt.CookieName = "lightbox_session"
	}
	if opt.LoginBurst <= 0 {
		opt.LoginBurst = 10
	}
	if opt.LoginEvery <= 0 {
		opt.LoginEvery = 6 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s := &Service{db: d, opt: opt, limiter: newLimiter(opt.LoginBurst, opt.LoginEvery)}
	if len(opt.SecretKey) > 0 {
		k, err := hkdf.Key(sha256.New, opt.SecretKey, nil, "lightbox totp secret v1", 32)
		if err == nil {
			s.totpKey = k
		}
	}
	return s
}

func (s *Service) event(ctx context.Context, e Event) {
	lvl := slog.LevelInfo
	if strings.HasSuffix(e.Type, "failed") || e.Type == "rate-limited" {
		lvl = slog.LevelWarn
	}
	s.opt.Logger.Log(ctx, lvl, "auth "+e.Type, "user", e.Username, "ip", e.RemoteIP, "reason", e.Reason)
	if s.opt.OnEvent != nil {
		s.opt.OnEvent(ctx, e)
	}
}

// argon2id parameters (RFC 9106 second recommended option, memory-bounded).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// HashPassword returns an encoded argon2id hash.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword compares a password with an encoded hash in constant time.
func CheckPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// User is an account.
type User struct {
	Username    string
	DisplayName string
	Role        Role
	FacilityID  string   // for facility-bound roles
	Facilities  []string // extra facilities in scope
	Disabled    bool
	ClinicianID string // for clinicians: the ordering-clinician ID on their orders (required)
}

// AddUser creates an account.
func (s *Service) AddUser(ctx context.Context, u User, password string) error {
	if u.Username == "" || strings.ContainsAny(u.Username, " \t\n") {
		return fmt.Errorf("user name %q must be non-empty without spaces", u.Username)
	}
	if len(password) < 12 {
		return fmt.Errorf("password must have at least 12 characters")
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return err
	}
	if (u.Role == Technologist || u.Role == Clinician || u.Role == Integration) && u.FacilityID == "" {
		return fmt.Errorf("a %s account must belong to a facility", u.Role)
	}
	if u.Role == Clinician && u.ClinicianID == "" {
		return fmt.Errorf("a clinician account needs the clinician ID their orders carry (e.g. NPI)")
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO app_user (username, display_name, role, password_hash, facility_id, clinician_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			u.Username, u.DisplayName, string(u.Role), HashPassword(password), u.FacilityID, u.ClinicianID, db.Now(s.opt.Now())); err != nil {
			if db.IsUniqueViolation(err) {
				return fmt.Errorf("user %s: %w", u.Username, ErrUserExists)
			}
			return fmt.Errorf("add user: %w", err)
		}
		for _, f := range u.Facilities {
			if _, err := tx.Exec(ctx, "INSERT INTO user_facility (username, facility_id) VALUES (?, ?)", u.Username, f); err != nil {
				return fmt.Errorf("add user facility: %w", err)
			}
		}
		return nil
	})
}

// SetPassword replaces a password (administrators only: there is no email
// reset) and clears any lockout.
func (s *Service) SetPassword(ctx context.Context, username, password string) error {
	if len(password) < 12 {
		return fmt.Errorf("password must have at least 12 characters")
	}
	res, err := s.db.Exec(ctx, "UPDATE app_user SET password_hash = ?, failed_logins = 0, locked_until = '' WHERE username = ?", HashPassword(password), username)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no user %s", username)
	}
	return s.EndSessions(ctx, username)
}

// SetDisabled disables or enables an account.
func (s *Service) SetDisabled(ctx context.Context, username string, disabled bool) error {
	v := 0
	if disabled {
		v = 1
	}
	if _, err := s.db.Exec(ctx, "UPDATE app_user SET disabled = ? WHERE username = ?", v, username); err != nil {
		return err
	}
	if disabled {
		return s.EndSessions(ctx, username)
	}
	return nil
}

// Login checks a user name and password only (the first factor), with
// lockout after repeated failures (the lock doubles with each further
// failure). Interactive logins must use Authenticate, which also enforces
// the second factor; Login is for callers that cannot present one.
func (s *Service) Login(ctx context.Context, username, password string) (*Principal, error) {
	return s.checkPassword(ctx, username, password, false, "")
}

// Authenticate is the full interactive login: password, then, when the
// user's role requires it or the user enrolled, a TOTP code (each code is
// accepted once). A wrong code counts towards lockout like a wrong password.
// Errors: ErrBadCredentials, ErrLocked, ErrDisabled, ErrTOTPRequired (no
// code given), ErrBadTOTP, ErrTOTPEnrolmentRequired.
func (s *Service) Authenticate(ctx context.Context, username, password, totpCode string) (*Principal, error) {
	return s.checkPassword(ctx, username, password, true, totpCode)
}

func (s *Service) checkPassword(ctx context.Context, username, password string, second bool, code string) (*Principal, error) {
	var hash, lockedUntil, role, secret string
	var failures, disabled int
	err := s.db.QueryRow(ctx, "SELECT password_hash, failed_logins, locked_until, disabled, role, totp_secret FROM app_user WHERE username = ?", username).
		Scan(&hash, &failures, &lockedUntil, &disabled, &role, &secret)
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash, password) // same cost whether or not the user exists
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	now := s.opt.Now()
	if lockedUntil != "" && db.Now(now) < lockedUntil {
		CheckPassword(hash, password) // same cost as any other answer
		return nil, ErrLocked
	}
	fail := func(e error) (*Principal, error) {
		failures++
		lock := ""
		if failures >= s.opt.MaxFailures {
			lock = db.Now(now.Add(s.opt.LockBase << min(failures-s.opt.MaxFailures, 10)))
		}
		if _, err := s.db.Exec(ctx, "UPDATE app_user SET failed_logins = ?, locked_until = ? WHERE username = ?", failures, lock, username); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		return nil, e
	}
	if !CheckPassword(hash, password) {
		return fail(ErrBadCredentials)
	}
	if disabled != 0 {
		return nil, ErrDisabled
	}
	if second {
		switch {
		case secret != "":
			if code == "" {
				return nil, ErrTOTPRequired
			}
			ok, err := s.useTOTP(ctx, username, secret, code)
			if err != nil {
				return nil, fmt.Errorf("login: %w", err)
			}
			if !ok {
				return fail(ErrBadTOTP)
			}
		case slices.Contains(s.opt.TOTPRoles, Role(role)):
			return nil, ErrTOTPEnrolmentRequired
		}
	}
	if failures > 0 {
		if _, err := s.db.Exec(ctx, "UPDATE app_user SET failed_logins = 0, locked_until = '' WHERE username = ?", username); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
	}
	return s.principal(ctx, username)
}

var dummyHash = HashPassword("lightbox-dummy-password")

func (s *Service) principal(ctx context.Context, username string) (*Principal, error) {
	var role, facility, clinician string
	var disabled int
	err := s.db.QueryRow(ctx, "SELECT role, facility_id, disabled, clinician_id FROM app_user WHERE username = ?", username).Scan(&role, &facility, &disabled, &clinician)
	if err != nil {
		return nil, db.RowErr(err, ErrUnauthenticated, "principal")
	}
	if disabled != 0 {
		return nil, ErrDisabled
	}
	p := &Principal{Username: username, Role: Role(role), All: role == string(Admin) || role == string(Coordinator)}
	if p.Role == Clinician {
		p.Clinician = clinician
		if p.Clinician == "" {
			p.Clinician = "\x00none" // sees nothing rather than the whole facility
		}
	}
	if facility != "" {
		p.Facilities = append(p.Facilities, facility)
	}
	rows, err := s.db.Query(ctx, "SELECT facility_id FROM user_facility WHERE username = ?", username)
	if err != nil {
		return nil, fmt.Errorf("principal: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, err
		}
		p.Facilities = append(p.Facilities, f)
	}
	slices.Sort(p.Facilities)
	p.Facilities = slices.Compact(p.Facilities)
	return p, rows.Err()
}

// CreateToken issues a bearer token for a user; the plaintext is returned
// once and never stored.
func (s *Service) CreateToken(ctx context.Context, username, name string, ttl time.Duration) (string, error) {
	return s.CreateTokenWith(ctx, username, name, TokenOptions{TTL: ttl})
}

// TokenOptions shape a bearer token.
type TokenOptions struct {
	TTL time.Duration
	// AllowCIDRs, when not empty, limits the token to clients in these
	// networks ("10.1.0.0/16", "2001:db8::/32", or a bare address).
	AllowCIDRs []string
}

// CreateTokenWith issues a bearer token with options; the plaintext is
// returned once and never stored.
func (s *Service) CreateTokenWith(ctx context.Context, username, name string, o TokenOptions) (string, error) {
	if o.TTL <= 0 {
		return "", errors.New("token lifetime must be positive")
	}
	cidrs, err := normalizeCIDRs(o.AllowCIDRs)
	if err != nil {
		return "", err
	}
	if _, err := s.principal(ctx, username); err != nil {
		return "", fmt.Errorf("token for %s: %w", username, err)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	token := "lbx_" + base64.RawURLEncoding.EncodeToString(raw)
	now := s.opt.Now()
	_, err = s.db.Exec(ctx, `INSERT INTO api_token (id, username, name, token_sha256, expires_at, created_at, allow_cidrs) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		hex.EncodeToString(id), username, name, tokenHash(token), db.Now(now.Add(o.TTL)), db.Now(now), cidrs)
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	return token, nil
}

func normalizeCIDRs(in []string) (string, error) {
	var out []string
	for _, c := range in {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !strings.Contains(c, "/") {
			a, err := netip.ParseAddr(c)
			if err != nil {
				return "", fmt.Errorf("allowed network %q: %w", c, err)
			}
			c = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()).String()
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return "", fmt.Errorf("allowed network %q: %w", c, err)
		}
		out = append(out, p.Masked().String())
	}
	return strings.Join(out, ","), nil
}

// allowed reports whether ip is inside a comma-separated CIDR list (an
// empty list allows everything; an invalid ip nothing else).
func allowed(cidrs string, ip netip.Addr) bool {
	if cidrs == "" {
		return true
	}
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap()
	for _, c := range strings.Split(cidrs, ",") {
		if p, err := netip.ParsePrefix(c); err == nil && p.Contains(ip) {
			return true
		}
	}
	return false
}

func tokenHash(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// RevokeTokens revokes every token of a user with the given name ("" = all).
func (s *Service) RevokeTokens(ctx context.Context, username, name string) error {
	_, err := s.db.Exec(ctx, "UPDATE api_token SET revoked_at = ? WHERE username = ? AND (? = '' OR name = ?) AND revoked_at = ''",
		db.Now(s.opt.Now()), username, name, name)
	return err
}

// VerifyToken returns the principal behind a bearer token. Revocation and
// expiry take effect at once: nothing is cached. A token restricted to
// networks is refused here because the caller's address is unknown; use
// VerifyTokenFrom.
func (s *Service) VerifyToken(ctx context.Context, token string) (*Principal, error) {
	return s.VerifyTokenFrom(ctx, token, netip.Addr{})
}

// VerifyTokenFrom is VerifyToken for a caller at address ip, enforcing the
// token's network allowlist (ErrAddressNotAllowed).
func (s *Service) VerifyTokenFrom(ctx context.Context, token string, ip netip.Addr) (*Principal, error) {
	var username, expires, revoked, cidrs string
	err := s.db.QueryRow(ctx, "SELECT username, expires_at, revoked_at, allow_cidrs FROM api_token WHERE token_sha256 = ?", tokenHash(token)).Scan(&username, &expires, &revoked, &cidrs)
	if err != nil {
		return nil, db.RowErr(err, ErrUnauthenticated, "verify token")
	}
	if revoked != "" || db.Now(s.opt.Now()) >= expires {
		return nil, ErrUnauthenticated
	}
	if !allowed(cidrs, ip) {
		return nil, ErrAddressNotAllowed
	}
	return s.principal(ctx, username)
}

// FromRequest authenticates an HTTP request by its bearer token, enforcing
// the token's network allowlist against ClientIP(r).
func (s *Service) FromRequest(r *http.Request) (*Principal, error) {
	tok, ok := bearer(r)
	if !ok {
		return nil, ErrUnauthenticated
	}
	return s.VerifyTokenFrom(r.Context(), tok, s.ClientIP(r))
}

func bearer(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok = strings.TrimSpace(tok)
	return tok, ok && tok != ""
}

// ClientIP is the caller's address: the TCP peer, or, when the peer is a
// trusted proxy, the right-most untrusted X-Forwarded-For entry.
func (s *Service) ClientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	var ip netip.Addr
	if err == nil {
		ip = ap.Addr().Unmap()
	} else if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		ip = a.Unmap()
	}
	if !ip.IsValid() || !s.trusted(ip) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return ip
		}
		ip = a.Unmap()
		if !s.trusted(ip) {
			return ip
		}
	}
	return ip
}

func (s *Service) trusted(ip netip.Addr) bool {
	for _, p := range s.opt.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
