package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"gatehouse/config"
)

// testRedisURL returns the Redis the tests share, skipping (or failing
// under CI=true) when it is unreachable.
func testRedisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("GATEHOUSE_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(u)
	if err == nil {
		c := redis.NewClient(opts)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = c.Ping(ctx).Err()
		cancel()
		c.Close()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis is required under CI=true but unreachable at %s: %v", u, err)
		}
		t.Skipf("SKIPPING: Redis unreachable at %s (%v); set GATEHOUSE_TEST_REDIS_URL", u, err)
	}
	return u
}

// TestLoginRateLimitSharedAcrossInstances: two Gatehouse servers with one
// Redis count an account's login attempts together; past the limit the
// answer is 429 with the real wait in Retry-After.
func TestLoginRateLimitSharedAcrossInstances(t *testing.T) {
	redisURL := testRedisURL(t)
	edit := func(cfg *config.Config) {
		cfg.Redis.URL = config.Secret(redisURL)
		cfg.RateLimits.LoginPerAccount = "4/1m"
		cfg.Captcha.AfterFailures = 100 // this test is about the limit, not the CAPTCHA
	}
	a := startServer(t, "postgres", edit)
	b := startServer(t, "postgres", edit)
	// A login name of its own, so that runs within a minute of each other
	// do not share counters.
	suffix := make([]byte, 4)
	rand.Read(suffix)
	login := "rl-" + hex.EncodeToString(suffix)

	attempt := func(srv *testServer) rawResponse {
		br := newBrowser(t, rpCallback)
		p, _ := br.get(t, srv.URL+"/login")
		_, values, _ := findForm(t, p, "login-submit")
		values.Set("login", login)
		values.Set("password", "wrong password")
		got, resp := br.post(t, srv.URL+"/login", values)
		return rawResponse{Status: got.Status, Header: resp.Header, Body: got.Body}
	}
	for i, srv := range []*testServer{a, b, a, b} {
		if got := attempt(srv); got.Status != http.StatusOK {
			t.Fatalf("attempt %d answered %d before the limit", i+1, got.Status)
		}
	}
	got := attempt(a)
	if got.Status != http.StatusTooManyRequests {
		t.Fatalf("fifth attempt (across both instances) answered %d, want 429", got.Status)
	}
	wait, err := strconv.Atoi(got.Header.Get("Retry-After"))
	if err != nil || wait < 1 || wait > 60 {
		t.Errorf("Retry-After = %q, want the seconds until the next attempt (1..60)", got.Header.Get("Retry-After"))
	}
	mustContain(t, got.Body, "Too many attempts", "limited page")
	if got := attempt(b); got.Status != http.StatusTooManyRequests {
		t.Errorf("the other instance answered %d, want 429 too", got.Status)
	}
}

// TestLockout: after five wrong passwords the account is locked; the right
// password then gets the wrong-password page too, the e-mailed link
// unlocks it.
func TestLockout(t *testing.T) {
	mb := startMailbox(t)
	srv := startServer(t, "sqlite", withDelivery(mb, nil, false))
	srv.createUser(t, "pete", testUserPassword)
	b := newBrowser(t, rpCallback)
	// A fresh page for every attempt: after three failures it carries the
	// CAPTCHA, which the test browser solves as altcha.js would.
	try := func(password string) *page {
		p, _ := b.get(t, srv.URL+"/login")
		got, _ := b.submit(t, p, "login-submit", map[string]string{"login": "pete", "password": password})
		return got
	}
	for i := range 5 {
		got := try("guess " + strconv.Itoa(i))
		mustContain(t, got.Body, "Incorrect username or password.", "wrong password")
	}
	p, _ := b.get(t, srv.URL+"/login")
	mustContain(t, p.Body, "data-altcha-challenge-url", "login form after repeated failures")
	wrong := try("guess again")
	mustContain(t, wrong.Body, "Incorrect username or password.", "a wrong password while locked tells nothing new")
	right := try(testUserPassword)
	if right.Status != http.StatusOK {
		t.Fatalf("the right password on a locked account answered %d", right.Status)
	}
	mustContain(t, right.Body, "Incorrect username or password.", "the right password while locked tells nothing either")
	link := mb.next(t, "pete@example.com").link(t, "/unlock")
	page, _ := b.get(t, link)
	mustContain(t, page.Body, "unlocked", "unlock page")
	if got := try(testUserPassword); got.URL.Path != "/" {
		t.Errorf("after unlocking, login led to %s (%d)", got.URL, got.Status)
	}
	if out, code := srv.cli(t, "", "users", "unlock", "pete"); code != 0 {
		t.Errorf("users unlock: %d %s", code, out)
	}
	out, _ := srv.cli(t, "", "audit", "list", "--action", "lockout.started")
	mustContain(t, out, "reason=password", "the lockout in the audit trail")
	out, _ = srv.cli(t, "", "audit", "list", "--action", "lockout.ended")
	mustContain(t, out, "by=link", "the unlock by link in the audit trail")
	mustContain(t, out, "by=cli", "the unlock by the CLI in the audit trail")
}

// TestLoginCaptchaAfterFailures: past captcha.after_failures failed
// sign-ins the login form needs the proof of work, for known and unknown
// names alike; without it the password is not even checked.
func TestLoginCaptchaAfterFailures(t *testing.T) {
	srv := startServer(t, "sqlite", nil)
	srv.createUser(t, "quentin", testUserPassword)
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/login")
	if strings.Contains(p.Body, "data-altcha-challenge-url") {
		t.Fatal("the CAPTCHA is asked before any failure")
	}
	for i := range 3 {
		got, _ := b.submit(t, p, "login-submit", map[string]string{"login": "nobody-" + strconv.Itoa(i), "password": "x"})
		mustContain(t, got.Body, "Incorrect username or password.", "failure")
	}
	// The address has failed three times: the form now carries the CAPTCHA…
	p, _ = b.get(t, srv.URL+"/login")
	mustContain(t, p.Body, "data-altcha-challenge-url", "login form")
	// …and a post without its solution is refused before any password check.
	action, values, _ := findForm(t, p, "login-submit")
	values.Set("login", "quentin")
	values.Set("password", testUserPassword)
	target, _ := p.URL.Parse(action)
	got, _ := b.post(t, target.String(), values)
	if got.Status != http.StatusUnprocessableEntity || !strings.Contains(got.Body, `id="captcha-error"`) {
		t.Fatalf("login without the CAPTCHA answered %d", got.Status)
	}
	// With it (solved as altcha.js would) the right password works.
	if got, _ := b.submit(t, p, "login-submit", map[string]string{"login": "quentin", "password": testUserPassword}); got.URL.Path != "/" {
		t.Errorf("login with the CAPTCHA led to %s (%d)", got.URL, got.Status)
	}
}
