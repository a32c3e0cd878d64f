package ratelimit

import (
	"context"
	"sync"
	"time"
)

var _ Limiter = (*Memory)(nil)

// sweepEvery bounds how long expired keys stay in memory; minSweepSize
// lets small maps skip sweeping on growth.
const (
	sweepEvery   = time.Minute
	minSweepSize = 1024
)

// Memory is an in-process Limiter. Its counters are this process's own:
// several instances each apply the full limit.
type Memory struct {
	now func() time.Time

	mu        sync.Mutex
	tats      map[string]time.Time
	nextSweep time.Time
	sweepAt   int // sweep early when the map reaches this size
}

// NewMemory returns an in-process limiter that reads the time from now
// (time.Now in production).
func NewMemory(now func() time.Time) *Memory {
	return &Memory{now: now, tats: make(map[string]time.Time), sweepAt: minSweepSize}
}

// Allow implements Limiter. It never returns an error for a valid rule.
func (m *Memory) Allow(_ context.Context, key string, r Rule) (Decision, error) {
	if err := r.validate(); err != nil {
		return Decision{}, err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybeSweep(now)
	d, tat := gcra(now, m.tats[key], r)
	if d.Allowed {
		m.tats[key] = tat
	}
	return d, nil
}

// Len returns the number of keys held, for tests and metrics.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tats)
}

// maybeSweep drops idle keys (TAT not after now: the same as absent) once
// a minute, or sooner when the map has doubled since the last sweep. The
// cost is amortised over the inserts that grew the map.
func (m *Memory) maybeSweep(now time.Time) {
	if now.Before(m.nextSweep) && len(m.tats) < m.sweepAt {
		return
	}
	for k, tat := range m.tats {
		if !tat.After(now) {
			delete(m.tats, k)
		}
	}
	m.nextSweep = now.Add(sweepEvery)
	m.sweepAt = max(2*len(m.tats), minSweepSize)
}
