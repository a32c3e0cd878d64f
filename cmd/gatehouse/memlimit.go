package main

import (
	"log/slog"
	"runtime/debug"

	"gatehouse/config"
	"gatehouse/identity"
)

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
