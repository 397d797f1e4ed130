package cluster

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"lightbox/internal/db/dbtest"
)

// BenchmarkForwardedCall measures an engine call made on a follower and
// run by the leader through PostgreSQL (engine_call + NOTIFY both ways),
// with 2 and 3 nodes, every follower calling at once: the price a node
// that does not lead pays for each open, heartbeat or signature
// (bench/README.md). Needs LIGHTBOX_TEST_POSTGRES.
func BenchmarkForwardedCall(b *testing.B) {
	base := os.Getenv(dbtest.PostgresEnv)
	if base == "" {
		b.Skip(dbtest.PostgresEnv + " not set")
	}
	for _, nodes := range []int{2, 3} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			_, url := dbtest.PostgresURL(b, base)
			var ns []*testNode
			for range nodes {
				ns = append(ns, startNodeTB(b, url))
			}
			deadline := time.Now().Add(20 * time.Second)
			for len(leaders(ns...)) != 1 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			var followers []*testNode
			for _, n := range ns {
				if !n.Leader() {
					followers = append(followers, n)
				}
			}
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			var wg sync.WaitGroup
			for _, f := range followers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < b.N; i++ {
						start := time.Now()
						var out map[string]string
						if err := f.Call(context.Background(), "echo", map[string]int{"i": i}, &out); err != nil {
							b.Error(err)
							return
						}
						d := time.Since(start)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}
