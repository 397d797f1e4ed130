package consult

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"lightbox/internal/db"
)

// Status is what a reader tells colleagues in the reading room.
type Status string

const (
	Reading   Status = "reading"
	Available Status = "available" // available for consults
	Away      Status = "away"
)

// ErrInvalid marks a request the store refuses (callers answer 422).
var ErrInvalid = errors.New("invalid request")

// ErrNotFound marks an unknown consult or visit.
var ErrNotFound = errors.New("not found")

// RoomStatus is one reader's status and visibility.
type RoomStatus struct {
	Username  string `json:"username"`
	Status    Status `json:"status"`
	Visible   bool   `json:"visible"`
	UpdatedAt string `json:"updated_at,omitempty"`
}

// Message is one chat message, of the group channel or a consult thread.
type Message struct {
	ID        int64  `json:"id"`
	Author    string `json:"author"`
	Body      string `json:"body"`
	CreatedAt string `json:"created_at"`
}

// Store reads and writes the reading room, consults and visits.
type Store struct {
	DB  *db.DB
	Now func() time.Time
}

func (s Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// SetStatus records a reader's status and visibility.
func (s Store) SetStatus(ctx context.Context, st RoomStatus) (RoomStatus, error) {
	switch st.Status {
	case Reading, Available, Away:
	default:
		return st, fmt.Errorf("%w: status must be reading, available or away", ErrInvalid)
	}
	st.UpdatedAt = db.Now(s.now())
	_, err := s.DB.Exec(ctx, `INSERT INTO room_status (username, status, visible, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (username) DO UPDATE SET status = excluded.status, visible = excluded.visible, updated_at = excluded.updated_at`,
		st.Username, string(st.Status), boolInt(st.Visible), st.UpdatedAt)
	if err != nil {
		return st, fmt.Errorf("room status: %w", err)
	}
	return st, nil
}

// Statuses returns every reader's recorded status by username.
func (s Store) Statuses(ctx context.Context) (map[string]RoomStatus, error) {
	rows, err := s.DB.Query(ctx, "SELECT username, status, visible, updated_at FROM room_status")
	if err != nil {
		return nil, fmt.Errorf("room status: %w", err)
	}
	defer rows.Close()
	out := map[string]RoomStatus{}
	for rows.Next() {
		var st RoomStatus
		var vis int
		if err := rows.Scan(&st.Username, &st.Status, &vis, &st.UpdatedAt); err != nil {
			return nil, err
		}
		st.Visible = vis != 0
		out[st.Username] = st
	}
	return out, rows.Err()
}

// Post adds a message to a group channel.
func (s Store) Post(ctx context.Context, channel, author, body string) (Message, error) {
	return s.post(ctx, "INSERT INTO room_message (channel, author, body, created_at) VALUES (?, ?, ?, ?) RETURNING pk", channel, author, body)
}

// post checks a message and appends it to a thread (a channel or a
// consult): insert names the thread's table and takes its key, then
// author, body and time.
func (s Store) post(ctx context.Context, insert string, thread any, author, body string) (Message, error) {
	m, err := newMessage(author, body, s.now())
	if err != nil {
		return m, err
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, insert, thread, m.Author, m.Body, m.CreatedAt).Scan(&m.ID)
	})
	return m, err
}

// Channel returns a channel's last limit messages, oldest first.
func (s Store) Channel(ctx context.Context, channel string, limit int) ([]Message, error) {
	return s.messages(ctx, "SELECT pk, author, body, created_at FROM room_message WHERE channel = ? ORDER BY pk DESC LIMIT ?", channel, limit)
}

func (s Store) messages(ctx context.Context, q string, args ...any) ([]Message, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.Author, &m.Body, &m.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	// Newest first from SQL (for the limit); oldest first to the reader.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}

func newMessage(author, body string, now time.Time) (Message, error) {
	body = strings.TrimSpace(body)
	if n := utf8.RuneCountInString(body); n == 0 || n > 4000 {
		return Message{}, fmt.Errorf("%w: a message of 1 to 4000 characters is required", ErrInvalid)
	}
	return Message{Author: author, Body: body, CreatedAt: db.Now(now)}, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
