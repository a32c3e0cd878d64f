package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"gatehouse/config"
	"gatehouse/internal/proxytest"
)

// TestRedisStalledSignIns: Redis stops answering mid-run (a loopback
// proxy that accepts connections and holds every byte, as a Redis stopped
// by SIGSTOP does). The first failed sign-in after that opens the breaker;
// from then on Redis gets neither a byte nor a connection, sign-ins are
// answered from in-process counters that still limit them, the switch is
// logged once and /metrics shows it.
func TestRedisStalledSignIns(t *testing.T) {
	redisURL := testRedisURL(t)
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := proxytest.Start(t, opts.Addr, proxytest.Forward)
	u, _ := url.Parse(redisURL)
	u.Host = proxy.Addr()
	srv := startServer(t, "sqlite", func(cfg *config.Config) {
		cfg.Redis.URL = config.Secret(u.String())
		cfg.RateLimits.LoginPerAccount = "3/1m"
		cfg.Captcha.AfterFailures = 100 // this test is about the limits, not the CAPTCHA
	})
	suffix := make([]byte, 4)
	rand.Read(suffix)
	login := "stall-" + hex.EncodeToString(suffix) // counters of its own in the shared Redis
	attempt := func() int {
		t.Helper()
		br := newBrowser(t, rpCallback)
		p, _ := br.get(t, srv.URL+"/login")
		_, values, _ := findForm(t, p, "login-submit")
		values.Set("login", login)
		values.Set("password", "wrong password")
		got, _ := br.post(t, srv.URL+"/login", values)
		return got.Status
	}

	if got := attempt(); got != http.StatusOK || srv.App.Breaker.Fallback() {
		t.Fatalf("with Redis answering: status %d, fallback %v; want 200 from Redis", got, srv.App.Breaker.Fallback())
	}
	proxy.Set(proxytest.Stall)
	if got := attempt(); got != http.StatusOK || !srv.App.Breaker.Fallback() {
		t.Fatalf("first sign-in with Redis stalled: status %d, fallback %v; want 200 and the breaker open", got, srv.App.Breaker.Fallback())
	}
	sent, conns := proxy.Received(), proxy.Accepted()
	// The account's limit (3 a minute) counts on in memory from the first
	// attempt that Redis did not answer.
	var statuses []int
	for range 3 {
		statuses = append(statuses, attempt())
	}
	if want := []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests}; !slices.Equal(statuses, want) {
		t.Errorf("sign-ins while Redis is stalled answered %v, want %v (limits stay on)", statuses, want)
	}
	if d, c := proxy.Received()-sent, proxy.Accepted()-conns; d != 0 || c != 0 {
		t.Errorf("with the breaker open Redis got %d bytes on %d new connections, want none", d, c)
	}
	if n := len(srv.Logs.Records("rate limiter degraded: shared limiter failed, using in-process limits")); n != 1 {
		t.Errorf("the fallback was logged %d times, want once", n)
	}
	metrics := do(t, mustRequest(t, http.MethodGet, srv.AdminURL+"/metrics")).Body
	if !regexp.MustCompile(`(?m)^gatehouse_ratelimit_fallback 1$`).MatchString(metrics) ||
		!regexp.MustCompile(`(?m)^gatehouse_ratelimit_fallback_calls_total [1-9]`).MatchString(metrics) {
		t.Errorf("/metrics does not show the fallback in use:\n%s", grepLines(metrics, "gatehouse_ratelimit"))
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
