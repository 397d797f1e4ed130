package auth

import (
	"errors"
	"net/http"

	"lightbox/internal/httpx"
)

// First-login enrolment in the browser. An administrator or radiologist
// whose role requires a second factor but who has none cannot log in
// (ErrTOTPEnrolmentRequired); these two public endpoints let them enrol with
// their password alone, and only while no confirmed factor exists, so a
// stolen password cannot replace a factor already in use:
//
//	POST /api/login/enrol          {username, password}       -> 200 {secret, url}
//	POST /api/login/enrol/confirm  {username, password, totp} -> 200 SessionJSON + cookie
//
// Both are rate-limited like login, and failures count towards lockout.

// enrolCheck authenticates the first factor of a user who may enrol.
func (s *Service) enrolCheck(w http.ResponseWriter, r *http.Request) (credentials, *Principal, bool) {
	ctx := r.Context()
	if s.rateLimited(w, r, true) {
		return credentials{}, nil, false
	}
	c, ok := readCredentials(w, r)
	if !ok {
		return c, nil, false
	}
	p, err := s.Login(ctx, c.Username, c.Password)
	if err != nil {
		s.loginFailed(w, r, c.Username, err)
		return c, nil, false
	}
	enrolled, err := s.TOTPEnrolled(ctx, p.Username)
	if err != nil {
		s.deny(w, err)
		return c, nil, false
	}
	if enrolled {
		httpx.Error(w, http.StatusConflict, "a second factor is already enrolled; log in with it, or ask an administrator to reset it")
		return c, nil, false
	}
	return c, p, true
}

func (s *Service) enrolHandler(w http.ResponseWriter, r *http.Request) {
	_, p, ok := s.enrolCheck(w, r)
	if !ok {
		return
	}
	e, err := s.EnrolTOTP(r.Context(), p.Username)
	if err != nil {
		s.deny(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]string{"secret": e.Secret, "url": e.URL})
}

func (s *Service) confirmEnrolHandler(w http.ResponseWriter, r *http.Request) {
	c, p, ok := s.enrolCheck(w, r)
	if !ok {
		return
	}
	if err := s.ConfirmTOTP(r.Context(), p.Username, c.TOTP); err != nil {
		if errors.Is(err, ErrBadTOTP) {
			httpx.Error(w, http.StatusUnauthorized, err.Error())
			return
		}
		httpx.Error(w, http.StatusConflict, err.Error())
		return
	}
	// The code just confirmed is spent, so the enrolment itself logs in.
	s.startBrowserSession(w, r, p)
}
