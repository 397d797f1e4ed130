package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"lightbox/internal/db"
	"lightbox/internal/opt"
)

// Channels.
const (
	Email   = "email"
	Webhook = "webhook"
	InApp   = "inapp"
)

// Events raised today.
const (
	CriticalEscalated    = "critical.escalated"    // a critical result's loop moved up the ladder, or is overdue
	CriticalAckRequest   = "critical.ack_request"  // please acknowledge this critical result (the link does it)
	CredentialExpiring   = "credential.expiring"   // a licence or privilege lapses in 90/60/30 days
	StudyUncovered       = "study.uncovered"       // no eligible reader online for a study
	ReaderOffline        = "reader.offline"        // a reader with assigned cases dropped offline
	SLAAtRisk            = "sla.at_risk"           // a study's deadline is at risk
	ReportUnacknowledged = "report.unacknowledged" // a final report's ORU was refused or never acknowledged
	BreakGlass           = "access.break_glass"    // a reader opened a study outside their scope in an emergency
	ConsultRequested     = "consult.requested"     // a colleague asks you for a second opinion
)

// Message is one event to tell people about. Subject and Text carry no
// patient identifiers.
type Message struct {
	Event   string
	Key     string // dedup key: (recipient, channel, key) is delivered once
	Subject string
	Text    string
	Link    string // a path into Lightbox ("/ack/…") or a full URL
}

// Recipient is who to tell; Email is used when they have no stored
// preference (e.g. a clinician from a facility's contact directory).
type Recipient struct {
	ID    string
	Email string
}

// Pref is a recipient's preference.
type Pref struct {
	Recipient     string   `json:"recipient"`
	Email         string   `json:"email,omitempty"`
	WebhookURL    string   `json:"webhook_url,omitempty"`
	WebhookSecret string   `json:"webhook_secret,omitempty"`
	Channels      []string `json:"channels"`
	Events        []string `json:"events,omitempty"` // empty = every event
}

// Service records notifications; a Deliverer sends them.
type Service struct {
	DB *db.DB
	// PublicURL prefixes links that are paths (https://lightbox.example.org).
	PublicURL string
	Now       func() time.Time
	Logger    *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ErrInvalid wraps preference validation errors.
var ErrInvalid = errors.New("invalid preference")

// SetPref stores a recipient's preference.
func (s *Service) SetPref(ctx context.Context, p Pref) error {
	if p.Recipient == "" {
		return fmt.Errorf("%w: recipient is required", ErrInvalid)
	}
	for _, c := range p.Channels {
		switch c {
		case Email:
			if _, err := mail.ParseAddress(p.Email); err != nil {
				return fmt.Errorf("%w: e-mail needs a valid address", ErrInvalid)
			}
		case Webhook:
			u, err := url.Parse(p.WebhookURL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(p.WebhookSecret) < 16 {
				return fmt.Errorf("%w: a webhook needs an http(s) URL and a secret of at least 16 characters", ErrInvalid)
			}
		case InApp:
		default:
			return fmt.Errorf("%w: unknown channel %q (email, webhook, inapp)", ErrInvalid, c)
		}
	}
	_, err := s.DB.Exec(ctx, `INSERT INTO notify_pref (recipient, email, webhook_url, webhook_secret, channels, events, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (recipient) DO UPDATE SET email = excluded.email, webhook_url = excluded.webhook_url, webhook_secret = excluded.webhook_secret,
		channels = excluded.channels, events = excluded.events, updated_at = excluded.updated_at`,
		p.Recipient, p.Email, p.WebhookURL, p.WebhookSecret, strings.Join(p.Channels, ","), strings.Join(p.Events, ","), db.Now(s.now()))
	if err != nil {
		return fmt.Errorf("notify: save preference: %w", err)
	}
	return nil
}

// GetPref loads a recipient's preference (ok false when none is stored).
func (s *Service) GetPref(ctx context.Context, recipient string) (Pref, bool, error) {
	p := Pref{Recipient: recipient}
	var ch, ev string
	err := s.DB.QueryRow(ctx, "SELECT email, webhook_url, webhook_secret, channels, events FROM notify_pref WHERE recipient = ?", recipient).
		Scan(&p.Email, &p.WebhookURL, &p.WebhookSecret, &ch, &ev)
	if found, err := db.Found(err, "notify: preference"); !found {
		return p, false, err
	}
	p.Channels, p.Events = opt.List(ch), opt.List(ev)
	return p, true, nil
}

// Send records m for each recipient on the channels they chose. Without a
// stored preference a recipient gets an in-app notice, and an e-mail when
// Recipient.Email is set.
func (s *Service) Send(ctx context.Context, m Message, to ...Recipient) error {
	if m.Event == "" || m.Key == "" || m.Subject == "" {
		return errors.New("notify: a message needs an event, a key and a subject")
	}
	link := m.Link
	if strings.HasPrefix(link, "/") {
		link = strings.TrimRight(s.PublicURL, "/") + link
	}
	body := m.Text
	if link != "" {
		body += "\n\n" + link + "\n"
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		for _, r := range to {
			p, ok, err := s.GetPref(ctx, r.ID)
			if err != nil {
				return err
			}
			if !ok {
				p.Channels = []string{InApp}
				if r.Email != "" {
					p.Channels, p.Email = append(p.Channels, Email), r.Email
				}
			}
			if len(p.Events) > 0 && !slices.Contains(p.Events, m.Event) {
				continue
			}
			for _, ch := range p.Channels {
				addr, status, delivered := "", "pending", ""
				switch ch {
				case Email:
					addr = p.Email
				case Webhook:
					addr = p.WebhookURL
				case InApp:
					status, delivered = "delivered", db.Now(now)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO notify_delivery (recipient, channel, address, event, dedup, subject, body, link, status, next_attempt_at, created_at, delivered_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (recipient, channel, dedup) DO NOTHING`,
					r.ID, ch, addr, m.Event, m.Key, m.Subject, body, link, status, db.Now(now), db.Now(now), delivered); err != nil {
					return fmt.Errorf("notify: record: %w", err)
				}
			}
		}
		return nil
	})
}

// Delivery is one row of the delivery log.
type Delivery struct {
	ID          int64  `json:"id"`
	Recipient   string `json:"recipient"`
	Channel     string `json:"channel"`
	Event       string `json:"event"`
	Subject     string `json:"subject"`
	Body        string `json:"body,omitempty"`
	Link        string `json:"link,omitempty"`
	Status      string `json:"status"`
	Attempts    int    `json:"attempts"`
	LastError   string `json:"last_error,omitempty"`
	CreatedAt   string `json:"created_at"`
	DeliveredAt string `json:"delivered_at,omitempty"`
	ReadAt      string `json:"read_at,omitempty"`
}

// Log lists deliveries, newest first: of one recipient and/or channel
// ("" = any), at most limit.
func (s *Service) Log(ctx context.Context, recipient, channel string, limit int) ([]Delivery, error) {
	q := `SELECT pk, recipient, channel, event, subject, body, link, status, attempts, last_error, created_at, delivered_at, read_at FROM notify_delivery WHERE 1 = 1`
	var args []any
	if recipient != "" {
		q += " AND recipient = ?"
		args = append(args, recipient)
	}
	if channel != "" {
		q += " AND channel = ?"
		args = append(args, channel)
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return db.List("notify: log", db.Rows(s.DB.Query(ctx, q+" ORDER BY pk DESC LIMIT ?", append(args, limit)...)), func(sc db.Scanner) (Delivery, error) {
		var d Delivery
		if err := sc.Scan(&d.ID, &d.Recipient, &d.Channel, &d.Event, &d.Subject, &d.Body, &d.Link, &d.Status, &d.Attempts, &d.LastError, &d.CreatedAt, &d.DeliveredAt, &d.ReadAt); err != nil {
			return Delivery{}, err
		}
		return d, nil
	})
}

// MarkRead marks a recipient's in-app notice read.
func (s *Service) MarkRead(ctx context.Context, recipient string, id int64) error {
	res, err := s.DB.Exec(ctx, "UPDATE notify_delivery SET read_at = ? WHERE pk = ? AND recipient = ? AND channel = 'inapp'", db.Now(s.now()), id, recipient)
	if err != nil {
		return fmt.Errorf("notify: mark read: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sql.ErrNoRows
	}
	return nil
}
