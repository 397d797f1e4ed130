package opt

import (
	"log/slog"
	"strings"
	"time"
)

// Dur returns v, or def when v is zero or negative (not set).
func Dur(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// Logger returns l, or a logger that discards everything when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// List splits a comma-separated option value (a flag, a stored setting)
// into its items, trimmed, dropping empty ones.
func List(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
