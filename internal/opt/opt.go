package opt

import (
	"log/slog"
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
