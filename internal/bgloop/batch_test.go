package bgloop

import (
	"slices"
	"testing"
)

func TestBatch(t *testing.T) {
	for _, tc := range []struct {
		name   string
		queued []int
		closed bool
		max    int
		want   []int
	}{
		{"nothing waiting", nil, false, 4, []int{0}},
		{"all that waits", []int{1, 2}, false, 4, []int{0, 1, 2}},
		{"up to max", []int{1, 2, 3, 4, 5}, false, 3, []int{0, 1, 2}},
		{"closed queue", []int{1}, true, 4, []int{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := make(chan int, 8)
			for _, v := range tc.queued {
				ch <- v
			}
			if tc.closed {
				close(ch)
			}
			if got := Batch(ch, 0, tc.max); !slices.Equal(got, tc.want) {
				t.Fatalf("Batch = %v, want %v", got, tc.want)
			}
		})
	}
}
