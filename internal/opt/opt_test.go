package opt

import (
	"log/slog"
	"slices"
	"testing"
	"time"
)

func TestDur(t *testing.T) {
	for _, c := range []struct{ v, def, want time.Duration }{
		{0, time.Second, time.Second},
		{-1, time.Second, time.Second},
		{time.Millisecond, time.Second, time.Millisecond},
	} {
		if got := Dur(c.v, c.def); got != c.want {
			t.Errorf("Dur(%v, %v) = %v, want %v", c.v, c.def, got, c.want)
		}
	}
}

func TestLogger(t *testing.T) {
	l := slog.Default()
	if Logger(l) != l {
		t.Error("set logger replaced")
	}
	if Logger(nil) == nil {
		t.Error("nil logger not replaced")
	}
}

func TestList(t *testing.T) {
	if got := List(" SGH, ,HBI ,"); !slices.Equal(got, []string{"SGH", "HBI"}) {
		t.Errorf("List = %q", got)
	}
	if got := List(""); got != nil {
		t.Errorf("List(\"\") = %q, want nil", got)
	}
}
