package hl7sender

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/netserve"
)

// Sender is one registered HL7 sender.
type Sender struct {
	SendingFacility    string `json:"sending_facility"`              // MSH-4 namespace ID (or universal ID)
	SendingApplication string `json:"sending_application,omitempty"` // MSH-3 namespace ID; "" = any application
	FacilityID         string `json:"facility_id"`                   // the facility its messages speak for
	// AllowCIDRs are the networks it may connect from; TLSSubject the
	// subject common name of its verified TLS client certificate. At least
	// one is required; when both are set, both must hold.
	AllowCIDRs  []string `json:"allow_cidrs,omitempty"`
	TLSSubject  string   `json:"tls_subject,omitempty"`
	Description string   `json:"description,omitempty"`
}

// Validate checks a registration.
func (s Sender) Validate() error {
	if strings.TrimSpace(s.SendingFacility) == "" || strings.TrimSpace(s.FacilityID) == "" {
		return errors.New("an HL7 sender needs a sending facility (MSH-4) and the facility it speaks for")
	}
	if len(s.AllowCIDRs) == 0 && s.TLSSubject == "" {
		return fmt.Errorf("HL7 sender %s: name its networks (CIDR) or its TLS client certificate subject; a sending facility is no secret", s.SendingFacility)
	}
	if err := netserve.CheckNetworks(s.AllowCIDRs); err != nil {
		return fmt.Errorf("HL7 sender %s: %w", s.SendingFacility, err)
	}
	return nil
}

// Peer is where a message came from.
type Peer struct {
	IP  net.IP
	TLS *tls.ConnectionState // nil for plain TCP
}

// allows reports whether the connection may speak for this sender.
func (s Sender) allows(p Peer) bool {
	if !netserve.InNetworks(s.AllowCIDRs, p.IP) {
		return false
	}
	if s.TLSSubject != "" {
		// Only a chain verified against the configured client CAs proves the
		// subject; an unverified certificate could name anyone.
		if p.TLS == nil || len(p.TLS.VerifiedChains) == 0 || len(p.TLS.PeerCertificates) == 0 {
			return false
		}
		if p.TLS.PeerCertificates[0].Subject.CommonName != s.TLSSubject {
			return false
		}
	}
	return true
}

// Errors of Authorize; neither reveals which facilities are registered.
var (
	ErrUnknownSender = errors.New("sending facility and application are not registered")
	ErrNotAllowed    = errors.New("this connection may not send for the sending facility")
)

// Store reads and writes senders.
type Store struct{ DB *db.DB }

// Put creates or replaces a sender through x (a *db.DB or the caller's
// transaction; set-up writes go through internal/setup, audited).
func Put(ctx context.Context, x db.Execer, s Sender) error {
	s.SendingFacility, s.SendingApplication = strings.TrimSpace(s.SendingFacility), strings.TrimSpace(s.SendingApplication)
	if err := s.Validate(); err != nil {
		return err
	}
	_, err := x.Exec(ctx, `INSERT INTO hl7_sender (sending_facility, sending_application, facility_id, allow_cidrs, tls_subject, description, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sending_facility, sending_application) DO UPDATE SET facility_id = excluded.facility_id,
		allow_cidrs = excluded.allow_cidrs, tls_subject = excluded.tls_subject, description = excluded.description`,
		s.SendingFacility, s.SendingApplication, s.FacilityID, strings.Join(s.AllowCIDRs, ","), s.TLSSubject, s.Description, db.Now(time.Now()))
	if err != nil {
		return fmt.Errorf("save HL7 sender %s: %w", s.SendingFacility, err)
	}
	return nil
}

// Delete removes a sender through x; it reports whether one existed.
func Delete(ctx context.Context, x db.Execer, sendingFacility, sendingApplication string) (bool, error) {
	res, err := x.Exec(ctx, "DELETE FROM hl7_sender WHERE sending_facility = ? AND sending_application = ?",
		strings.TrimSpace(sendingFacility), strings.TrimSpace(sendingApplication))
	if err != nil {
		return false, fmt.Errorf("delete HL7 sender %s: %w", sendingFacility, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// List returns every sender, ordered by sending facility and application.
func (st Store) List(ctx context.Context) ([]Sender, error) {
	return st.list(ctx, "", nil)
}

func (st Store) list(ctx context.Context, where string, args []any) ([]Sender, error) {
	out, err := db.Collect(db.Rows(st.DB.Query(ctx, `SELECT sending_facility, sending_application, facility_id, allow_cidrs, tls_subject, description FROM hl7_sender`+
		where+` ORDER BY sending_facility, sending_application`, args...)), func(sc db.Scanner) (Sender, error) {
		var s Sender
		var cidrs string
		if err := sc.Scan(&s.SendingFacility, &s.SendingApplication, &s.FacilityID, &cidrs, &s.TLSSubject, &s.Description); err != nil {
			return Sender{}, err
		}
		s.AllowCIDRs = netserve.SplitNetworks(cidrs)
		return s, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list HL7 senders: %w", err)
	}
	return out, nil
}

// Authorize finds the facility a message speaks for: a sender registered
// for its sending facility and application (an exact MSH-3 registration
// wins over an any-application one) that allows the connection. Sending
// facility and application compare case-insensitively.
func (st Store) Authorize(ctx context.Context, sendingFacility, sendingApplication string, p Peer) (string, error) {
	if strings.TrimSpace(sendingFacility) == "" {
		return "", ErrUnknownSender
	}
	cands, err := st.list(ctx, " WHERE LOWER(sending_facility) = LOWER(?)", []any{strings.TrimSpace(sendingFacility)})
	if err != nil {
		return "", err
	}
	var exact, any []Sender
	for _, s := range cands {
		switch {
		case strings.EqualFold(s.SendingApplication, strings.TrimSpace(sendingApplication)) && s.SendingApplication != "":
			exact = append(exact, s)
		case s.SendingApplication == "":
			any = append(any, s)
		}
	}
	match := exact
	if len(match) == 0 {
		match = any
	}
	if len(match) == 0 {
		return "", ErrUnknownSender
	}
	for _, s := range match {
		if s.allows(p) {
			return s.FacilityID, nil
		}
	}
	return "", ErrNotAllowed
}
