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
