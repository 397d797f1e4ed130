package testwait

import (
	"testing"
	"time"
)

// Until polls cond every 10 ms and fails t when it has not held within the
// bound; the bound only stops a broken test, it asserts no speed.
func Until(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
