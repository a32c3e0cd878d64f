package main

import (
	"math/bits"
	"time"
)

// histogram counts latencies in microseconds in log-linear buckets: values
// below 2·subBuckets are exact, larger ones fall into one of subBuckets
// buckets per power of two, so any recorded value is within 1/subBuckets
// (0.8 %) of its bucket. Its size is fixed whatever the number of requests.
type histogram struct {
	counts [numBuckets]uint64
	total  uint64
}

const (
	subBits    = 7
	subBuckets = 1 << subBits // buckets per power of two
	maxExp     = 32           // values up to 2^(32+8) µs, far beyond any timeout
	numBuckets = 2*subBuckets + maxExp*subBuckets
)

func bucketOf(us uint64) int {
	if us < 2*subBuckets {
		return int(us)
	}
	e := bits.Len64(us) - subBits - 1 // ≥ 1 here
	if e > maxExp {
		return numBuckets - 1
	}
	mantissa := us >> e // in [subBuckets, 2·subBuckets)
	return 2*subBuckets + (e-1)*subBuckets + int(mantissa-subBuckets)
}

// upperOf returns the largest value that falls into bucket i, so quantiles
// are reported on the pessimistic side.
func upperOf(i int) uint64 {
	if i < 2*subBuckets {
		return uint64(i)
	}
	e := (i-2*subBuckets)/subBuckets + 1
	mantissa := uint64((i-2*subBuckets)%subBuckets + subBuckets)
	return (mantissa+1)<<e - 1
}

func (h *histogram) record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[bucketOf(uint64(us))]++
	h.total++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// quantile returns the latency below which a fraction q of the recorded
// requests fall; zero when nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(upperOf(i)) * time.Microsecond
		}
	}
	return time.Duration(upperOf(numBuckets-1)) * time.Microsecond
}
