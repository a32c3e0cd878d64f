package main

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"gatehouse/config"
	"gatehouse/identity"
)

// Runtime settings of serve that follow from password hashing: argon2id
// is the one thing Gatehouse does that needs much memory and whole CPUs.

// floodCheckInterval is how often releaseAfterFloods looks at the pool.
const floodCheckInterval = 2 * time.Second

// tuneRuntime applies the settings serve needs for password hashing (a
// memory limit, a processor to spare) and, until ctx ends, returns memory
// to the operating system after floods of sign-ins.
func tuneRuntime(ctx context.Context, cfg *config.Config, h *identity.Hasher, log *slog.Logger) {
	setMemoryLimit(cfg, h, os.LookupEnv, log)
	setProcs(h, os.LookupEnv, log)
	go releaseAfterFloods(ctx, h.Pool(), floodCheckInterval, log)
}

// memoryHeadroom is what the default memory limit allows beyond the
// password hashes running at once: the server's own working set with
// room to spare.
const memoryHeadroom = 256 << 20

// memoryLimit returns the soft memory limit serve runs under, in bytes:
// memory_limit_mib, or by default the argon2id memory of as many hashes
// as h runs at once plus memoryHeadroom. ok is false when GOMEMLIMIT is
// set, which the Go runtime applied already and which wins.
func memoryLimit(cfg *config.Config, h *identity.Hasher, getenv func(string) (string, bool)) (limit int64, ok bool) {
	if v, set := getenv("GOMEMLIMIT"); set && v != "" {
		return 0, false
	}
	if cfg.MemoryLimitMiB > 0 {
		return cfg.MemoryLimitMiB << 20, true
	}
	perHash := int64(h.Params().Memory) << 10 // KiB
	return int64(h.Pool().Stats().Workers)*perHash + memoryHeadroom, true
}

// setMemoryLimit applies memoryLimit. Near the limit the garbage collector
// runs more often and gives freed memory back to the operating system, so
// a burst of sign-ins does not leave the process at its peak size.
func setMemoryLimit(cfg *config.Config, h *identity.Hasher, getenv func(string) (string, bool), log *slog.Logger) {
	limit, ok := memoryLimit(cfg, h, getenv)
	if !ok {
		log.Info("memory limit from GOMEMLIMIT", "limit_bytes", debug.SetMemoryLimit(-1))
		return
	}
	debug.SetMemoryLimit(limit)
	log.Info("memory limit set", "limit_mib", limit>>20, "hash_workers", h.Pool().Stats().Workers)
}

// floodWatch notices the end of a flood of password hashing: the pool
// made someone wait, or refused someone, since the last look, and now
// nothing runs and nobody waits.
type floodWatch struct {
	seen    uint64 // Queued+Refused at the last look
	flooded bool   // someone waited or was refused since the pool was last idle
}

// ended takes a look at st and reports whether a flood just ended.
func (w *floodWatch) ended(st identity.PoolStats) bool {
	if n := st.Queued + st.Refused; n != w.seen {
		w.seen, w.flooded = n, true
	}
	if !w.flooded || st.Running > 0 || st.Waiting > 0 {
		return false
	}
	w.flooded = false
	return true
}

// releaseAfterFloods looks at pool every interval until ctx ends and,
// when a flood has ended, returns the memory its hashes used to the
// operating system at once, instead of keeping it until the runtime's
// periodic collection and scavenging get to it. Ordinary traffic, which
// never waits for a worker, costs nothing.
func releaseAfterFloods(ctx context.Context, pool *identity.Pool, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var w floodWatch
	w.seen = pool.Stats().Queued + pool.Stats().Refused
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if w.ended(pool.Stats()) {
			debug.FreeOSMemory()
			log.InfoContext(ctx, "password hashing flood over: memory returned to the operating system")
		}
	}
}

// procs returns the GOMAXPROCS serve runs with: current, or one more than
// workers when the hashing workers could otherwise occupy every
// processor of the Go scheduler, so that other requests (discovery,
// tokens, pages) always have one and need not wait for a hash to be
// preempted. change is false when nothing changes, or GOMAXPROCS is set
// in the environment, which wins.
func procs(workers, current int, getenv func(string) (string, bool)) (n int, change bool) {
	if v, set := getenv("GOMAXPROCS"); set && v != "" {
		return current, false
	}
	if workers < current {
		return current, false
	}
	return workers + 1, true
}

// setProcs applies procs.
func setProcs(h *identity.Hasher, getenv func(string) (string, bool), log *slog.Logger) {
	current := runtime.GOMAXPROCS(0)
	if n, change := procs(h.Pool().Stats().Workers, current, getenv); change {
		runtime.GOMAXPROCS(n)
		log.Info("one more processor than password hashing workers", "gomaxprocs", n, "hash_workers", h.Pool().Stats().Workers)
	}
}
