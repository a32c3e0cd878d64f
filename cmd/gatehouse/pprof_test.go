package main

import (
	"net/http"
	"strings"
	"testing"

	"gatehouse/config"
)

// TestPprofOnAdminListenerOnly: with admin_pprof the profiler answers on
// the admin listener, never on the public one; without it, nowhere.
func TestPprofOnAdminListenerOnly(t *testing.T) {
	t.Parallel()
	profiles := []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline", "/debug/pprof/heap?debug=1"}
	on := startServer(t, "sqlite", func(c *config.Config) { c.AdminPprof = true })
	off := startServer(t, "sqlite", nil)
	for _, path := range profiles {
		if got := do(t, mustRequest(t, http.MethodGet, on.AdminURL+path)); got.Status != http.StatusOK || got.Body == "" {
			t.Errorf("admin %s with admin_pprof: %d, want 200 with a profile", path, got.Status)
		}
		for _, srv := range []*testServer{on, off} {
			if got := do(t, mustRequest(t, http.MethodGet, srv.URL+path)); got.Status != http.StatusNotFound || strings.Contains(got.Body, "goroutine") {
				t.Errorf("public %s (admin_pprof %v): %d, want 404 without a profile", path, srv.Config.AdminPprof, got.Status)
			}
		}
		if got := do(t, mustRequest(t, http.MethodGet, off.AdminURL+path)); got.Status != http.StatusNotFound {
			t.Errorf("admin %s without admin_pprof: %d, want 404", path, got.Status)
		}
	}
}
