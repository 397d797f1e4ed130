package testwait

import (
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	start := time.Now()
	Until(t, time.Second, "30 ms", func() bool { return time.Since(start) > 30*time.Millisecond })
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("returned before the condition held")
	}
}
