package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"gatehouse/config"
	"gatehouse/migrations/dbtest"
)

// TestServeWaitsForDatabase: serve started while PostgreSQL refuses
// connections, or accepts them and never answers, listens at once:
// /healthz is 200, /readyz and every other route 503 with Retry-After
// (an OAuth error object on the protocol endpoints, a page elsewhere),
// the admin listener's /metrics 503 until the provider is built, and
// each attempt is logged with the next one's time. Once the database
// answers, the server migrates it and becomes ready.
func TestServeWaitsForDatabase(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode proxyMode
	}{{"refused", refuse}, {"not answering", stall}} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := startDBProxy(t, tc.mode)
			cfg := processConfig(t, proxy.url(t, dbtest.MustURL(t, "postgres")))
			cfg.Database.ConnectTimeout = config.Duration(500 * time.Millisecond)
			url := startServeOnly(t, cfg)
			adminURL := "http://" + cfg.AdminListen

			checkStarting(t, url)
			if got := do(t, mustRequest(t, http.MethodGet, adminURL+"/metrics")); got.Status != http.StatusServiceUnavailable || got.Header.Get("Retry-After") == "" {
				t.Errorf("admin /metrics while starting: %d Retry-After %q, want 503 with Retry-After", got.Status, got.Header.Get("Retry-After"))
			}
			if got := do(t, mustRequest(t, http.MethodGet, adminURL+"/healthz")); got.Status != http.StatusOK {
				t.Errorf("admin /healthz while starting: %d, want 200", got.Status)
			}
			// Wait for a failed attempt: /readyz then says why.
			deadline := time.Now().Add(30 * time.Second)
			for got := do(t, mustRequest(t, http.MethodGet, url+"/readyz")); got.JSON["status"] != "database unreachable"; got = do(t, mustRequest(t, http.MethodGet, url+"/readyz")) {
				if time.Now().After(deadline) {
					t.Fatalf("/readyz never said the database is unreachable: %v", got.JSON)
				}
			}
			checkStarting(t, url) // still, after attempts failed

			start := time.Now()
			proxy.set(forward)
			for got := do(t, mustRequest(t, http.MethodGet, url+"/readyz")); got.Status != http.StatusOK; got = do(t, mustRequest(t, http.MethodGet, url+"/readyz")) {
				if time.Since(start) > 30*time.Second {
					t.Fatalf("not ready 30s after the database came back: %d %v", got.Status, got.JSON)
				}
			}
			t.Logf("ready %s after the database came back", time.Since(start).Round(time.Millisecond))
			if got := do(t, mustRequest(t, http.MethodGet, adminURL+"/metrics")); got.Status != http.StatusOK || !strings.Contains(got.Body, "gatehouse_") {
				t.Errorf("admin /metrics once ready: %d, want 200 with gatehouse_ metrics", got.Status)
			}
			if got := do(t, mustRequest(t, http.MethodGet, url+"/.well-known/openid-configuration")); got.Status != http.StatusOK || got.JSON["issuer"] != url {
				t.Errorf("discovery once ready: %d %v", got.Status, got.JSON)
			}
		})
	}
}

// startServeOnly runs serve as cmdServe does, on cfg.Listen, and returns
// the base URL at once, without waiting for the database.
func startServeOnly(t testing.TB, cfg *config.Config) string {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := listenAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{t: t}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil)), ln, admin, nil, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		retries := logs.Records("cannot start yet: database unreachable; retrying")
		if len(retries) == 0 {
			t.Error("no failed attempt was logged")
		}
		for _, r := range retries {
			if _, err := time.Parse(time.RFC3339Nano, r["next_attempt"].(string)); err != nil || r["attempt"] == nil || r["error"] == nil {
				t.Errorf("retry log without attempt, error and next_attempt: %v", r)
			}
		}
	})
	return cfg.Issuer
}

// checkStarting checks the answers of a server still waiting for its
// database.
func checkStarting(t testing.TB, url string) {
	t.Helper()
	if got := do(t, mustRequest(t, http.MethodGet, url+"/healthz")); got.Status != http.StatusOK {
		t.Errorf("/healthz: %d, want 200", got.Status)
	}
	ready := do(t, mustRequest(t, http.MethodGet, url+"/readyz"))
	if ready.Status != http.StatusServiceUnavailable || (ready.JSON["status"] != "starting" && ready.JSON["status"] != "database unreachable") {
		t.Errorf("/readyz: %d %s, want 503 starting or database unreachable", ready.Status, ready.Body)
	}
	for _, r := range []struct {
		method, path string
		json         bool
	}{
		{http.MethodGet, "/.well-known/openid-configuration", true},
		{http.MethodGet, "/.well-known/jwks.json", true},
		{http.MethodPost, "/oauth2/token", true},
		{http.MethodPost, "/oauth2/introspect", true},
		{http.MethodGet, "/oauth2/userinfo", true},
		{http.MethodGet, "/oauth2/authorize?client_id=x&response_type=code", false},
		{http.MethodGet, "/login", false},
		{http.MethodGet, "/", false},
	} {
		got := do(t, mustRequest(t, r.method, url+r.path))
		if got.Status != http.StatusServiceUnavailable || got.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s: %d Retry-After %q, want 503 with Retry-After", r.method, r.path, got.Status, got.Header.Get("Retry-After"))
		}
		switch ct := got.Header.Get("Content-Type"); {
		case r.json && got.JSON["error"] != "temporarily_unavailable":
			t.Errorf("%s %s: %s, want {\"error\":\"temporarily_unavailable\"}", r.method, r.path, got.Body)
		case !r.json && !strings.HasPrefix(ct, "text/html"):
			t.Errorf("%s %s: Content-Type %q, want a page", r.method, r.path, ct)
		}
	}
}
