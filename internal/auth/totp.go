package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: RFC 6238 defaults that every authenticator app reads.
const (
	totpPeriod = 30 // seconds per step
	totpSkew   = 1  // steps accepted either side of now (clock drift)
)

// TOTPEnrolment is what a user needs to set up an authenticator app. Show
// it to the user once (the URL as a QR code or the secret typed in); it is
// not retrievable later.
type TOTPEnrolment struct {
	Secret string // base32
	URL    string // otpauth://totp/...
}

// TOTPRequired reports whether a role must use a second factor.
func (s *Service) TOTPRequired(r Role) bool { return slices.Contains(s.opt.TOTPRoles, r) }

// EnrolTOTP generates a new TOTP secret for a user. It takes effect only
// after ConfirmTOTP with a code from the app; until then a previously
// confirmed secret stays in force.
func (s *Service) EnrolTOTP(ctx context.Context, username string) (*TOTPEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.opt.TOTPIssuer, AccountName: username, Period: totpPeriod, SecretSize: 20})
	if err != nil {
		return nil, fmt.Errorf("enrol totp: %w", err)
	}
	sealed, err := s.sealSecret(username, key.Secret())
	if err != nil {
		return nil, err
	}
	res, err := s.db.Exec(ctx, "UPDATE app_user SET totp_pending = ? WHERE username = ?", sealed, username)
	if err != nil {
		return nil, fmt.Errorf("enrol totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("no user %s", username)
	}
	if s.totpKey == nil {
		s.opt.Logger.WarnContext(ctx, "TOTP secret stored unsealed: configure a secret key", "user", username)
	}
	s.event(ctx, Event{Type: "totp-enrolled", Username: username})
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP activates a pending enrolment given a current code from the
// app (ErrBadTOTP otherwise). The code counts as used.
func (s *Service) ConfirmTOTP(ctx context.Context, username, code string) error {
	var pending string
	err := s.db.QueryRow(ctx, "SELECT totp_pending FROM app_user WHERE username = ?", username).Scan(&pending)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("no user %s", username)
	}
	if err != nil {
		return fmt.Errorf("confirm totp: %w", err)
	}
	if pending == "" {
		return fmt.Errorf("no pending two-factor enrolment for %s", username)
	}
	secret, err := s.openSecret(username, pending)
	if err != nil {
		return err
	}
	step, ok := s.matchStep(secret, code)
	if !ok {
		s.event(ctx, Event{Type: "totp-confirm-failed", Username: username})
		return ErrBadTOTP
	}
	res, err := s.db.Exec(ctx, "UPDATE app_user SET totp_secret = totp_pending, totp_pending = '', totp_last_step = ? WHERE username = ? AND totp_pending = ?", step, username, pending)
	if err != nil {
		return fmt.Errorf("confirm totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errors.New("two-factor enrolment changed meanwhile; enrol again")
	}
	s.event(ctx, Event{Type: "totp-confirmed", Username: username})
	return nil
}

// ResetTOTP removes a user's second factor (lost phone). If the role
// requires one, the user cannot log in until enrolled again.
func (s *Service) ResetTOTP(ctx context.Context, username string) error {
	res, err := s.db.Exec(ctx, "UPDATE app_user SET totp_secret = '', totp_pending = '', totp_last_step = 0 WHERE username = ?", username)
	if err != nil {
		return fmt.Errorf("reset totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no user %s", username)
	}
	s.event(ctx, Event{Type: "totp-reset", Username: username})
	return s.EndSessions(ctx, username)
}

// TOTPEnrolled reports whether a user has a confirmed second factor.
func (s *Service) TOTPEnrolled(ctx context.Context, username string) (bool, error) {
	var secret string
	err := s.db.QueryRow(ctx, "SELECT totp_secret FROM app_user WHERE username = ?", username).Scan(&secret)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("no user %s", username)
	}
	if err != nil {
		return false, err
	}
	return secret != "", nil
}

// matchStep finds the time step (within the skew) whose code is code.
func (s *Service) matchStep(secret, code string) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	cur := s.opt.Now().Unix() / totpPeriod
	found, step := false, int64(0)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := hotp.GenerateCodeCustom(secret, uint64(cur+d), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !found {
			found, step = true, cur+d
		}
	}
	return step, found
}

// useTOTP checks a code against a sealed secret and consumes its step:
// only a step later than the last one used is accepted, so a code (and any
// earlier one) cannot be replayed.
func (s *Service) useTOTP(ctx context.Context, username, sealed, code string) (bool, error) {
	secret, err := s.openSecret(username, sealed)
	if err != nil {
		return false, err
	}
	step, ok := s.matchStep(secret, code)
	if !ok {
		return false, nil
	}
	res, err := s.db.Exec(ctx, "UPDATE app_user SET totp_last_step = ? WHERE username = ? AND totp_last_step < ?", step, username, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

const (
	sealedPrefix = "v1:"
	rawPrefix    = "raw:"
)

func (s *Service) sealSecret(username, secret string) (string, error) {
	if s.totpKey == nil {
		return rawPrefix + secret, nil
	}
	aead, err := newGCM(s.totpKey)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	ct := aead.Seal(nonce, nonce, []byte(secret), []byte("lightbox totp:"+username))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(ct), nil
}

func (s *Service) openSecret(username, stored string) (string, error) {
	if raw, ok := strings.CutPrefix(stored, rawPrefix); ok {
		return raw, nil
	}
	b64, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return "", errors.New("unknown TOTP secret format")
	}
	if s.totpKey == nil {
		return "", errors.New("TOTP secret is sealed but no secret key is configured")
	}
	ct, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return "", errors.New("corrupt TOTP secret")
	}
	aead, err := newGCM(s.totpKey)
	if err != nil {
		return "", err
	}
	if len(ct) < aead.NonceSize() {
		return "", errors.New("corrupt TOTP secret")
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte("lightbox totp:"+username))
	if err != nil {
		return "", errors.New("cannot unseal TOTP secret (wrong secret key?)")
	}
	return string(pt), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
