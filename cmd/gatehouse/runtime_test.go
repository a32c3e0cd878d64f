package main

import (
	"testing"

	"gatehouse/config"
	"gatehouse/identity"
)

// TestMemoryLimit: by default the limit leaves room for as many argon2id
// hashes as run at once plus headroom; memory_limit_mib replaces it, and
// GOMEMLIMIT wins over both.
func TestMemoryLimit(t *testing.T) {
	hasher := identity.NewHasher(identity.DefaultHashParams, identity.NewPool(identity.PoolConfig{Workers: 3}))
	perHash := int64(identity.DefaultHashParams.Memory) << 10
	for _, tc := range []struct {
		name      string
		configMiB int64
		env       map[string]string
		want      int64
		wantSet   bool
	}{
		{name: "default", want: 3*perHash + 256<<20, wantSet: true},
		{name: "configured", configMiB: 512, want: 512 << 20, wantSet: true},
		{name: "GOMEMLIMIT", configMiB: 512, env: map[string]string{"GOMEMLIMIT": "1GiB"}},
		{name: "GOMEMLIMIT off", env: map[string]string{"GOMEMLIMIT": "off"}},
		{name: "GOMEMLIMIT empty", env: map[string]string{"GOMEMLIMIT": ""}, want: 3*perHash + 256<<20, wantSet: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.MemoryLimitMiB = tc.configMiB
			getenv := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			got, set := memoryLimit(cfg, hasher, getenv)
			if got != tc.want || set != tc.wantSet {
				t.Errorf("memoryLimit = %d MiB, %v; want %d MiB, %v", got>>20, set, tc.want>>20, tc.wantSet)
			}
		})
	}
}

// TestFloodWatch: memory is given back once after a flood, when the pool
// that made callers wait or refused them is idle again; ordinary traffic,
// which never waits, never triggers it.
func TestFloodWatch(t *testing.T) {
	var w floodWatch
	for i, tc := range []struct {
		st   identity.PoolStats
		want bool
	}{
		{identity.PoolStats{Running: 2}, false},                           // busy, nobody waited
		{identity.PoolStats{}, false},                                     // idle after ordinary traffic
		{identity.PoolStats{Running: 2, Waiting: 30, Queued: 40}, false},  // flood
		{identity.PoolStats{Running: 1, Queued: 90, Refused: 100}, false}, // still running
		{identity.PoolStats{Queued: 90, Refused: 100}, true},              // flood over
		{identity.PoolStats{Queued: 90, Refused: 100}, false},             // once
		{identity.PoolStats{Running: 1, Queued: 90, Refused: 100}, false},
		{identity.PoolStats{Queued: 90, Refused: 101}, true}, // a refusal in between
	} {
		if got := w.ended(tc.st); got != tc.want {
			t.Errorf("look %d at %+v: ended = %v, want %v", i+1, tc.st, got, tc.want)
		}
	}
}

// TestProcs: the hashing workers never take every processor of the Go
// scheduler; GOMAXPROCS in the environment wins.
func TestProcs(t *testing.T) {
	for _, tc := range []struct {
		name             string
		workers, current int
		env              map[string]string
		want             int
		wantChange       bool
	}{
		{name: "a worker per CPU", workers: 2, current: 2, want: 3, wantChange: true},
		{name: "more workers than CPUs", workers: 8, current: 4, want: 9, wantChange: true},
		{name: "fewer workers", workers: 1, current: 2, want: 2},
		{name: "GOMAXPROCS", workers: 2, current: 2, env: map[string]string{"GOMAXPROCS": "2"}, want: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			if got, change := procs(tc.workers, tc.current, getenv); got != tc.want || change != tc.wantChange {
				t.Errorf("procs(%d, %d) = %d, %v; want %d, %v", tc.workers, tc.current, got, change, tc.want, tc.wantChange)
			}
		})
	}
}
