package main

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"gatehouse/migrations/dbtest"
)

// TestMetricsOnAdminListener: the metrics are served on the admin
// listener only. A client of the public listener gets 404 for /metrics,
// with the admin listener on or off; the admin listener serves /metrics,
// /healthz and /readyz and nothing of the provider. With admin_listen
// empty nothing more is opened. Either way SIGTERM ends the process with
// status 0 within http.shutdown_timeout.
func TestMetricsOnAdminListener(t *testing.T) {
	t.Run("on", func(t *testing.T) {
		cfg := processConfig(t, dbtest.MustMigratedURL(t, "sqlite"))
		p := startProcess(t, cfg)

		if got := do(t, mustRequest(t, http.MethodGet, p.URL+"/metrics")); got.Status != http.StatusNotFound || strings.Contains(got.Body, "gatehouse_") {
			t.Errorf("public /metrics: %d, want 404 without metrics:\n%s", got.Status, got.Body)
		}
		metrics := do(t, mustRequest(t, http.MethodGet, p.AdminURL+"/metrics"))
		if metrics.Status != http.StatusOK || !strings.Contains(metrics.Body, "gatehouse_http_requests_in_flight ") {
			t.Errorf("admin /metrics: %d, want 200 with gatehouse_ metrics:\n%s", metrics.Status, metrics.Body)
		}
		if got := do(t, mustRequest(t, http.MethodGet, p.AdminURL+"/healthz")); got.Status != http.StatusOK {
			t.Errorf("admin /healthz: %d, want 200", got.Status)
		}
		if got := do(t, mustRequest(t, http.MethodGet, p.AdminURL+"/readyz")); got.Status != http.StatusOK || got.JSON["status"] != "ready" {
			t.Errorf("admin /readyz: %d %s, want 200 ready", got.Status, got.Body)
		}
		for _, path := range []string{"/.well-known/openid-configuration", "/login", "/static/style.css"} {
			if got := do(t, mustRequest(t, http.MethodGet, p.AdminURL+path)); got.Status != http.StatusNotFound {
				t.Errorf("admin %s: %d, want 404 (the provider is not served there)", path, got.Status)
			}
		}
		if got := startedLine(t, p)["admin_listen"]; got != cfg.AdminListen {
			t.Errorf(`"gatehouse started" admin_listen = %v, want %q`, got, cfg.AdminListen)
		}

		stopClean(t, p)
		if conn, err := net.Dial("tcp", cfg.AdminListen); err == nil {
			conn.Close()
			t.Errorf("the admin listener still accepts connections after the process exited")
		}
	})

	t.Run("off", func(t *testing.T) {
		cfg := processConfig(t, dbtest.MustMigratedURL(t, "sqlite"))
		cfg.AdminListen = ""
		p := startProcess(t, cfg)
		if p.AdminURL != "" {
			t.Fatalf("AdminURL = %q with admin_listen empty", p.AdminURL)
		}
		if got := do(t, mustRequest(t, http.MethodGet, p.URL+"/metrics")); got.Status != http.StatusNotFound || strings.Contains(got.Body, "gatehouse_") {
			t.Errorf("public /metrics with the admin listener off: %d, want 404 without metrics:\n%s", got.Status, got.Body)
		}
		if got, ok := startedLine(t, p)["admin_listen"]; ok {
			t.Errorf(`"gatehouse started" admin_listen = %v with admin_listen empty, want no admin listener`, got)
		}
		stopClean(t, p)
	})
}

// startedLine is the process's "gatehouse started" log record.
func startedLine(t testing.TB, p *process) map[string]any {
	t.Helper()
	for line := range strings.Lines(p.stderr.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "gatehouse started" {
			return rec
		}
	}
	t.Fatalf("no \"gatehouse started\" line:\n%s", p.stderr.String())
	return nil
}

// stopClean sends SIGTERM and fails t unless the process exits with
// status 0 within http.shutdown_timeout.
func stopClean(t testing.TB, p *process) {
	t.Helper()
	limit := p.Config.HTTP.ShutdownTimeout.Std()
	code, took := p.stop(t, limit+10*time.Second)
	if code != 0 || took > limit {
		t.Errorf("exit %d after %s, want 0 within %s:\n%s", code, took, limit, p.stderr.String())
	}
}
