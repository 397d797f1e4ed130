package ae

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/netserve"
)

// Entity is a remote AE.
type Entity struct {
	Title       string `json:"ae_title"`
	Host        string `json:"host"`
	Port        int    `json:"port"`
	FacilityID  string `json:"facility_id,omitempty"`
	TLS         bool   `json:"tls"`
	Description string `json:"description,omitempty"`
	// AllowCIDRs, when set, are the only networks the AE may associate
	// from (its calling AE title is not a secret).
	AllowCIDRs []string `json:"allow_cidrs,omitempty"`
}

// Allows reports whether an association from ip may use this AE title.
func (e Entity) Allows(ip net.IP) bool { return netserve.InNetworks(e.AllowCIDRs, ip) }

// Addr is host:port.
func (e Entity) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// ErrNotFound is returned for an unknown AE title.
var ErrNotFound = errors.New("unknown AE title")

// Validate checks an AE title per PS3.5 (1–16 characters, no backslash or
// control characters, not all spaces) and the address.
func (e Entity) Validate() error {
	t := strings.TrimSpace(e.Title)
	if t == "" || len(e.Title) > 16 {
		return fmt.Errorf("AE title %q must be 1 to 16 characters", e.Title)
	}
	for _, r := range e.Title {
		if r < 0x20 || r > 0x7e || r == '\\' {
			return fmt.Errorf("AE title %q has a character DICOM does not allow", e.Title)
		}
	}
	if e.Host == "" || e.Port <= 0 || e.Port > 65535 {
		return fmt.Errorf("AE %s: need a host and a port from 1 to 65535", e.Title)
	}
	if err := netserve.CheckNetworks(e.AllowCIDRs); err != nil {
		return fmt.Errorf("AE %s: %w", e.Title, err)
	}
	return nil
}

// Store reads and writes remote AEs.
type Store struct{ DB *db.DB }

// Put creates or replaces a remote AE.
func (s Store) Put(ctx context.Context, e Entity) error {
	return Put(ctx, s.DB, e)
}

// Put creates or replaces a remote AE through x (a *db.DB or the caller's
// transaction).
func Put(ctx context.Context, x db.Execer, e Entity) error {
	e.Title = strings.TrimSpace(e.Title)
	if err := e.Validate(); err != nil {
		return err
	}
	tls := 0
	if e.TLS {
		tls = 1
	}
	_, err := x.Exec(ctx, `INSERT INTO remote_ae (ae_title, host, port, facility_id, tls, description, allow_cidrs, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (ae_title) DO UPDATE SET host = excluded.host, port = excluded.port, facility_id = excluded.facility_id,
		tls = excluded.tls, description = excluded.description, allow_cidrs = excluded.allow_cidrs`,
		e.Title, e.Host, e.Port, e.FacilityID, tls, e.Description, strings.Join(e.AllowCIDRs, ","), db.Now(time.Now()))
	if err != nil {
		return fmt.Errorf("save AE %s: %w", e.Title, err)
	}
	return nil
}

// Get looks up one AE by title.
func (s Store) Get(ctx context.Context, title string) (Entity, error) {
	var e Entity
	var tls int
	var cidrs string
	err := s.DB.QueryRow(ctx, "SELECT ae_title, host, port, facility_id, tls, description, allow_cidrs FROM remote_ae WHERE ae_title = ?", strings.TrimSpace(title)).
		Scan(&e.Title, &e.Host, &e.Port, &e.FacilityID, &tls, &e.Description, &cidrs)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("AE %q: %w", title, ErrNotFound)
	}
	e.TLS = tls != 0
	e.AllowCIDRs = netserve.SplitNetworks(cidrs)
	return e, err
}

// Delete removes an AE.
func (s Store) Delete(ctx context.Context, title string) error {
	_, err := Delete(ctx, s.DB, title)
	return err
}

// Delete removes an AE through x; it reports whether one existed.
func Delete(ctx context.Context, x db.Execer, title string) (bool, error) {
	res, err := x.Exec(ctx, "DELETE FROM remote_ae WHERE ae_title = ?", strings.TrimSpace(title))
	if err != nil {
		return false, fmt.Errorf("delete AE %s: %w", title, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// List returns every AE ordered by title.
func (s Store) List(ctx context.Context) ([]Entity, error) {
	return db.List("list AEs", db.Rows(s.DB.Query(ctx, "SELECT ae_title, host, port, facility_id, tls, description, allow_cidrs FROM remote_ae ORDER BY ae_title")), func(sc db.Scanner) (Entity, error) {
		var e Entity
		var tls int
		var cidrs string
		if err := sc.Scan(&e.Title, &e.Host, &e.Port, &e.FacilityID, &tls, &e.Description, &cidrs); err != nil {
			return Entity{}, err
		}
		e.TLS = tls != 0
		e.AllowCIDRs = netserve.SplitNetworks(cidrs)
		return e, nil
	})
}
