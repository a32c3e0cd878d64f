package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"gatehouse/config"
)

// postFrom posts a form with Basic client credentials as if from addr,
// through the trusted proxy (the test server trusts loopback).
func postFrom(t testing.TB, u, addr, body, id, secret string) rawResponse {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return do(t, req)
}

// TestClientAuthFailureLimit: guessing a client's secret is cut off after
// rate_limits.client_auth_failures_per_client failures for the client and
// ..._per_ip for the address, at the token, revocation and introspection
// endpoints, with 429, Retry-After and an OAuth JSON error, before the
// secret is checked; other clients from other addresses go on working.
func TestClientAuthFailureLimit(t *testing.T) {
	srv := startServer(t, "sqlite", func(c *config.Config) {
		c.HTTP.TrustedProxies = []string{"127.0.0.1/32"}
	})
	victim, victimSecret := srv.createClient(t, "--name", "Victim", "--grant-type", "client_credentials", "--scope", "profile")
	other, otherSecret := srv.createClient(t, "--name", "Other", "--grant-type", "client_credentials", "--scope", "profile")
	tokenURL := srv.URL + "/oauth2/token"
	const attacker, elsewhere, bystander = "203.0.113.7", "198.51.100.9", "192.0.2.33"
	cc := "grant_type=client_credentials&scope=profile"

	limited := 0
	for i := range 200 {
		got := postFrom(t, tokenURL, attacker, cc, victim, "wrong-secret")
		switch {
		case got.Status == http.StatusTooManyRequests:
			limited++
			if got.JSON["error"] == nil || got.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("attempt %d: 429 without no-store or an OAuth error body: %v %s", i, got.Header, got.Body)
			}
			if wait, err := strconv.Atoi(got.Header.Get("Retry-After")); err != nil || wait < 1 || wait > 60 {
				t.Fatalf("attempt %d: Retry-After = %q, want the seconds left of the minute", i, got.Header.Get("Retry-After"))
			}
		case got.Status != http.StatusUnauthorized:
			t.Fatalf("attempt %d: %d %s, want 401 or 429", i, got.Status, got.Body)
		}
	}
	if limited < 170 {
		t.Errorf("%d of 200 wrong secrets were limited, want at least 170", limited)
	}

	for _, tc := range []struct {
		name, url, body, addr, id, secret string
		want                              int
	}{
		{"victim's right secret, attacker's address", tokenURL, cc, attacker, victim, victimSecret, http.StatusTooManyRequests},
		{"victim from another address", tokenURL, cc, elsewhere, victim, victimSecret, http.StatusTooManyRequests},
		{"another client from the attacker's address", tokenURL, cc, attacker, other, otherSecret, http.StatusTooManyRequests},
		{"another client from another address", tokenURL, cc, bystander, other, otherSecret, http.StatusOK},
		{"introspection as the victim", srv.URL + "/oauth2/introspect", "token=x", bystander, victim, victimSecret, http.StatusTooManyRequests},
		{"revocation as the victim", srv.URL + "/oauth2/revoke", "token=x", bystander, victim, victimSecret, http.StatusTooManyRequests},
		{"introspection as another client", srv.URL + "/oauth2/introspect", "token=x", bystander, other, otherSecret, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := postFrom(t, tc.url, tc.addr, tc.body, tc.id, tc.secret)
			if got.Status != tc.want {
				t.Errorf("got %d %s, want %d", got.Status, got.Body, tc.want)
			}
			if tc.want == http.StatusTooManyRequests && (got.Header.Get("Retry-After") == "" || got.JSON["error"] == nil) {
				t.Errorf("429 without Retry-After or an OAuth error body: %v %s", got.Header, got.Body)
			}
		})
	}

	// Successful authentications do not count: many right secrets in a
	// row from one address are all answered.
	for i := range 50 {
		if got := postFrom(t, srv.URL+"/oauth2/introspect", bystander, "token=x", other, otherSecret); got.Status != http.StatusOK {
			t.Fatalf("successful authentication %d: %d %s", i, got.Status, got.Body)
		}
	}
}

// TestClientAuthFailureLimitShared: with Redis, instances count failed
// client authentications together.
func TestClientAuthFailureLimitShared(t *testing.T) {
	redisURL := testRedisURL(t)
	edit := func(c *config.Config) {
		c.Redis.URL = config.Secret(redisURL)
		c.HTTP.TrustedProxies = []string{"127.0.0.1/32"}
	}
	a := startServer(t, "sqlite", edit)
	b := startServer(t, "sqlite", edit)
	// A client ID and an address of this run's own, so that runs within
	// a window of each other do not share counters.
	r := make([]byte, 4)
	rand.Read(r)
	client, addr := "guess-"+hex.EncodeToString(r), fmt.Sprintf("10.%d.%d.%d", r[0], r[1], r[2])
	body := "grant_type=client_credentials"
	for i := range 20 {
		srv := []*testServer{a, b}[i%2]
		if got := postFrom(t, srv.URL+"/oauth2/token", addr, body, client, "wrong"); got.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d answered %d %s, want 401 before the limit", i+1, got.Status, got.Body)
		}
	}
	for _, srv := range []*testServer{a, b} {
		if got := postFrom(t, srv.URL+"/oauth2/token", addr, body, client, "wrong"); got.Status != http.StatusTooManyRequests {
			t.Errorf("21st attempt answered %d %s, want 429 on every instance", got.Status, got.Body)
		}
	}
}
