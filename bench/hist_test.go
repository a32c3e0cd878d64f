package main

import (
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	for _, us := range []uint64{0, 1, 255, 256, 257, 1000, 12345, 1 << 20, 987654321} {
		i := bucketOf(us)
		if got := upperOf(i); got < us {
			t.Errorf("upperOf(bucketOf(%d)) = %d, below the value", us, got)
		}
		if i > 0 && upperOf(i-1) >= us {
			t.Errorf("value %d also fits bucket %d below its own %d", us, i-1, i)
		}
		if got := upperOf(i); float64(got-us) > float64(us)/subBuckets+1 {
			t.Errorf("upperOf(bucketOf(%d)) = %d, more than 1/%d above", us, got, subBuckets)
		}
	}
}

func TestQuantile(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	tests := []struct {
		name string
		q    float64
		want time.Duration
	}{
		{name: "p50", q: 0.50, want: 500 * time.Millisecond},
		{name: "p95", q: 0.95, want: 950 * time.Millisecond},
		{name: "p99", q: 0.99, want: 990 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := h.quantile(tc.q)
			if got < tc.want || got > tc.want+tc.want/subBuckets {
				t.Errorf("quantile(%v) = %v, want %v within 1/%d above", tc.q, got, tc.want, subBuckets)
			}
		})
	}
}
