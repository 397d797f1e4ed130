package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"lightbox/internal/db"
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
}

// Sees reports whether the caller may see data of a facility.
func (p *Principal) Sees(facilityID string) bool {
	if p == nil {
		return false
	}
	if p.All {
		return true
	}
	_, ok := slices.BinarySearch(p.Facilities, facilityID)
	return ok
}

// Errors callers map to HTTP 401 / DIMSE rejection.
var (
	ErrUnauthenticated = errors.New("authentication required")
	ErrBadCredentials  = errors.New("invalid user name or password")
	ErrLocked          = errors.New("account locked after repeated failures; try later")
	ErrDisabled        = errors.New("account disabled")
)

// Options tune login policy.
type Options struct {
	MaxFailures int           // failures before lockout (default 5)
	LockBase    time.Duration // first lockout; doubles per further failure (default 1 min)
	Now         func() time.Time
}

// Service authenticates callers.
type Service struct {
	db  *db.DB
	opt Options
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
	return &Service{db: d, opt: opt}
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
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO app_user (username, display_name, role, password_hash, facility_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			u.Username, u.DisplayName, string(u.Role), HashPassword(password), u.FacilityID, db.Now(s.opt.Now())); err != nil {
			if db.IsUniqueViolation(err) {
				return fmt.Errorf("user %s already exists", u.Username)
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
	return nil
}

// SetDisabled disables or enables an account.
func (s *Service) SetDisabled(ctx context.Context, username string, disabled bool) error {
	v := 0
	if disabled {
		v = 1
	}
	_, err := s.db.Exec(ctx, "UPDATE app_user SET disabled = ? WHERE username = ?", v, username)
	return err
}

// Login checks a user name and password, with lockout after repeated
// failures (the lock doubles with each further failure).
func (s *Service) Login(ctx context.Context, username, password string) (*Principal, error) {
	var hash, lockedUntil string
	var failures, disabled int
	err := s.db.QueryRow(ctx, "SELECT password_hash, failed_logins, locked_until, disabled FROM app_user WHERE username = ?", username).
		Scan(&hash, &failures, &lockedUntil, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash, password) // same cost whether or not the user exists
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	now := s.opt.Now()
	if lockedUntil != "" && db.Now(now) < lockedUntil {
		return nil, ErrLocked
	}
	if !CheckPassword(hash, password) {
		failures++
		lock := ""
		if failures >= s.opt.MaxFailures {
			lock = db.Now(now.Add(s.opt.LockBase << min(failures-s.opt.MaxFailures, 10)))
		}
		if _, err := s.db.Exec(ctx, "UPDATE app_user SET failed_logins = ?, locked_until = ? WHERE username = ?", failures, lock, username); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		return nil, ErrBadCredentials
	}
	if disabled != 0 {
		return nil, ErrDisabled
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
	var role, facility string
	var disabled int
	err := s.db.QueryRow(ctx, "SELECT role, facility_id, disabled FROM app_user WHERE username = ?", username).Scan(&role, &facility, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("principal: %w", err)
	}
	if disabled != 0 {
		return nil, ErrDisabled
	}
	p := &Principal{Username: username, Role: Role(role), All: role == string(Admin) || role == string(Coordinator)}
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
	if _, err := s.principal(ctx, username); err != nil {
		return "", fmt.Errorf("token for %s: %w", username, err)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	token := "lbx_" + base64.RawURLEncoding.EncodeToString(raw)
	now := s.opt.Now()
	_, err := s.db.Exec(ctx, `INSERT INTO api_token (id, username, name, token_sha256, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		hex.EncodeToString(id), username, name, tokenHash(token), db.Now(now.Add(ttl)), db.Now(now))
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	return token, nil
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
// expiry take effect at once: nothing is cached.
func (s *Service) VerifyToken(ctx context.Context, token string) (*Principal, error) {
	var username, expires, revoked string
	err := s.db.QueryRow(ctx, "SELECT username, expires_at, revoked_at FROM api_token WHERE token_sha256 = ?", tokenHash(token)).Scan(&username, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("verify token: %w", err)
	}
	if revoked != "" || db.Now(s.opt.Now()) >= expires {
		return nil, ErrUnauthenticated
	}
	return s.principal(ctx, username)
}

// FromRequest authenticates an HTTP request by its bearer token.
func (s *Service) FromRequest(r *http.Request) (*Principal, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return nil, ErrUnauthenticated
	}
	return s.VerifyToken(r.Context(), strings.TrimSpace(tok))
}
