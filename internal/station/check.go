package station

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"lightbox/internal/db"
)

// Check kinds.
const (
	KindDisplay    = "display"    // the test pattern: grey steps, 5 %/95 % patches, line pairs, 1:1 ruler
	KindConnection = "connection" // latency and throughput from the browser
)

// Check is one recorded station check.
type Check struct {
	Kind   string `json:"kind"`
	Passed bool   `json:"passed"`
	// Display: what the browser reports about the screen, and what the
	// reader saw (each pattern element they confirmed).
	ScreenWidth  int             `json:"screen_width,omitempty"`
	ScreenHeight int             `json:"screen_height,omitempty"`
	PixelRatio   float64         `json:"pixel_ratio,omitempty"`
	Seen         map[string]bool `json:"seen,omitempty"`
	// Connection: round-trip latency and download throughput.
	LatencyMS float64 `json:"latency_ms,omitempty"`
	MbitPerS  float64 `json:"mbit_per_s,omitempty"`
	At        string  `json:"at,omitempty"`
}

// Validate refuses unknown kinds and implausible numbers.
func (c Check) Validate() error {
	switch {
	case c.Kind != KindDisplay && c.Kind != KindConnection:
		return fmt.Errorf("%w: kind must be display or connection", ErrInvalid)
	case c.ScreenWidth < 0 || c.ScreenWidth > 100000 || c.ScreenHeight < 0 || c.ScreenHeight > 100000:
		return fmt.Errorf("%w: screen size", ErrInvalid)
	case c.PixelRatio < 0 || c.PixelRatio > 16 || c.LatencyMS < 0 || c.MbitPerS < 0:
		return fmt.Errorf("%w: negative or implausible figures", ErrInvalid)
	case len(c.Seen) > 32:
		return fmt.Errorf("%w: too many pattern elements", ErrInvalid)
	}
	return nil
}

// Record stores a check for a user.
func (s Store) Record(ctx context.Context, username string, c Check) (Check, error) {
	if err := c.Validate(); err != nil {
		return c, err
	}
	c.At = db.Now(s.now())
	doc, _ := json.Marshal(c)
	if _, err := s.DB.Exec(ctx, "INSERT INTO station_check (username, kind, passed, detail, at) VALUES (?, ?, ?, ?, ?)",
		username, c.Kind, boolInt(c.Passed), string(doc), c.At); err != nil {
		return c, fmt.Errorf("record station check: %w", err)
	}
	return c, nil
}

// Latest returns a user's most recent check of a kind (ok false: none).
func (s Store) Latest(ctx context.Context, username, kind string) (Check, bool, error) {
	var doc string
	err := s.DB.QueryRow(ctx, "SELECT detail FROM station_check WHERE username = ? AND kind = ? ORDER BY at DESC, pk DESC LIMIT 1", username, kind).Scan(&doc)
	if found, err := db.Found(err, "station check"); !found {
		return Check{}, false, err
	}
	var c Check
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		return Check{}, false, fmt.Errorf("station check: %w", err)
	}
	return c, true, nil
}

// DisplayPassedWithin reports whether the user's last display check passed
// within d of now (the assignment rule for mammography can require one in
// the last 24 h).
func (s Store) DisplayPassedWithin(ctx context.Context, username string, d time.Duration) (bool, error) {
	c, ok, err := s.Latest(ctx, username, KindDisplay)
	if err != nil || !ok || !c.Passed {
		return false, err
	}
	at, err := db.ParseTime(c.At)
	if err != nil {
		return false, err
	}
	return s.now().Sub(at) <= d, nil
}

// DisplayPasses returns, per user whose latest display check since `since`
// passed, when it passed: what the assignment engine loads at start to
// know who may read mammography under the display-check rule.
func (s Store) DisplayPasses(ctx context.Context, since time.Time) (map[string]time.Time, error) {
	rows, err := s.DB.Query(ctx, "SELECT username, passed, at FROM station_check WHERE kind = ? AND at >= ? ORDER BY at, pk", KindDisplay, db.Now(since))
	if err != nil {
		return nil, fmt.Errorf("display passes: %w", err)
	}
	defer rows.Close()
	m := map[string]time.Time{}
	for rows.Next() {
		var u, at string
		var passed int
		if err := rows.Scan(&u, &passed, &at); err != nil {
			return nil, fmt.Errorf("display passes: %w", err)
		}
		t, err := db.ParseTime(at)
		if err != nil {
			return nil, fmt.Errorf("display passes: %w", err)
		}
		if passed != 0 {
			m[u] = t
		} else {
			delete(m, u) // a later failure voids an earlier pass
		}
	}
	return m, rows.Err()
}

func (s Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
