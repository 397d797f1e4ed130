package station

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"lightbox/internal/db"
)

// Preferences are one user's station settings.
type Preferences struct {
	// Keys maps an action name (nextField, signFinal, nextCase, ...) to a
	// key combination ("Ctrl+Shift+F", "F3"); actions left out keep the
	// app's defaults.
	Keys map[string]string `json:"keys"`
	// BreakMinutes is the interval of eye-break reminders (20-20-20); 0 is off.
	BreakMinutes int `json:"break_minutes"`
	// Hanging maps a hanging-protocol key (a modality, or modality and
	// body part such as "MR HEAD") to the reader's choice of protocol
	// (see HangingProtocols); keys left out use the viewer's default.
	Hanging map[string]string `json:"hanging,omitempty"`
	// CacheMB bounds the viewer's decoded-image cache in the browser, in
	// MiB (web/src/features/viewer/cachepolicy.ts, which also holds it to
	// what the browser can hold); 0 is the default, DefaultCacheMB.
	CacheMB int `json:"cache_mb,omitempty"`
	// PrefetchOff stops the background fetch of assigned cases' images
	// (a reader on a metered or slow line).
	PrefetchOff bool `json:"prefetch_off,omitempty"`
}

// DefaultCacheMB is the image cache of a reader who chose none (4 GiB,
// issue #16); MinCacheMB and MaxCacheMB bound a chosen one.
const (
	DefaultCacheMB = 4096
	MinCacheMB     = 256
	MaxCacheMB     = 64 << 10
)

// HangingProtocols are the viewer's hanging protocols a reader can pick
// (web/src/features/viewer/hanging.ts arranges them):
//   - single: the current study's first series alone;
//   - prior-beside: current beside the most relevant prior at the same
//     slice position (CT, MR);
//   - mr-2x2: the key MR sequences (T1, T2, FLAIR, DWI) in 2×2;
//   - mg-4up: RCC/LCC/RMLO/LMLO of the current study over the prior's,
//     mirrored so the chest walls meet.
var HangingProtocols = []string{"single", "prior-beside", "mr-2x2", "mg-4up"}

// Defaults are the preferences of a user who saved none.
func Defaults() Preferences { return Preferences{Keys: map[string]string{}, BreakMinutes: 20} }

// ErrInvalid marks preferences that cannot be saved.
var ErrInvalid = errors.New("invalid preferences")

// Validate checks sizes and values, so a client cannot store arbitrary data.
func (p Preferences) Validate() error {
	if len(p.Keys) > 64 {
		return fmt.Errorf("%w: at most 64 key bindings", ErrInvalid)
	}
	for a, k := range p.Keys {
		if a == "" || len(a) > 40 || len(k) > 40 || strings.ContainsAny(a+k, "\n\r\t") {
			return fmt.Errorf("%w: key binding %q", ErrInvalid, a)
		}
	}
	if len(p.Hanging) > 32 {
		return fmt.Errorf("%w: at most 32 hanging protocol choices", ErrInvalid)
	}
	for k, v := range p.Hanging {
		if k == "" || len(k) > 40 || strings.ContainsAny(k, "\n\r\t") || !slices.Contains(HangingProtocols, v) {
			return fmt.Errorf("%w: hanging protocol %q for %q", ErrInvalid, v, k)
		}
	}
	if p.CacheMB != 0 && (p.CacheMB < MinCacheMB || p.CacheMB > MaxCacheMB) {
		return fmt.Errorf("%w: cache_mb must be 0 (default, %d) or %d to %d", ErrInvalid, DefaultCacheMB, MinCacheMB, MaxCacheMB)
	}
	if p.BreakMinutes < 0 || p.BreakMinutes > 240 {
		return fmt.Errorf("%w: break_minutes must be 0 (off) to 240", ErrInvalid)
	}
	return nil
}

// Store reads and writes preferences.
type Store struct {
	DB  *db.DB
	Now func() time.Time
}

// Get returns a user's preferences, or the defaults.
func (s Store) Get(ctx context.Context, username string) (Preferences, error) {
	var doc string
	err := s.DB.QueryRow(ctx, "SELECT doc FROM reader_pref WHERE username = ?", username).Scan(&doc)
	if found, err := db.Found(err, "preferences"); err != nil {
		return Preferences{}, err
	} else if !found {
		return Defaults(), nil
	}
	p := Defaults()
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return Preferences{}, fmt.Errorf("preferences: %w", err)
	}
	if p.Keys == nil {
		p.Keys = map[string]string{}
	}
	return p, nil
}

// Put validates and saves a user's preferences.
func (s Store) Put(ctx context.Context, username string, p Preferences) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Keys == nil {
		p.Keys = map[string]string{}
	}
	b, _ := json.Marshal(p)
	_, err := s.DB.Exec(ctx, `INSERT INTO reader_pref (username, doc, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (username) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`, username, string(b), db.Now(s.now()))
	if err != nil {
		return fmt.Errorf("save preferences: %w", err)
	}
	return nil
}
