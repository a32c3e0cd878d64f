package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"gatehouse/config"
	"gatehouse/identity"
	"gatehouse/migrations/dbtest"
)

// TestRegistrationCaptcha: creating an account needs a solved, unused
// proof-of-work challenge; no account is made without one.
func TestRegistrationCaptcha(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/register")
	mustContain(t, p.Body, `data-altcha-challenge-url="/captcha/challenge"`, "registration form")
	mustContain(t, p.Body, `<script src="/static/altcha.js" defer></script>`, "registration form")
	mustContain(t, p.Body, "<noscript>", "registration form")
	action, values, challengeURL := findForm(t, p, "register-submit")
	values.Set("username", "otto")
	values.Set("email", "otto@example.com")
	values.Set("password", testUserPassword)
	target, _ := p.URL.Parse(action)

	// No solution: refused, with the reason next to the button.
	got, _ := b.post(t, target.String(), values)
	if got.Status != http.StatusUnprocessableEntity {
		t.Fatalf("registration without a CAPTCHA answered %d", got.Status)
	}
	mustContain(t, got.Body, `id="captcha-error"`, "captcha error")
	if _, _, err := srv.App.Identity.Accounts.Users.FindUserByLogin(t.Context(), "otto"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("an account was created without a CAPTCHA: %v", err)
	}
	// A solution works once; replaying it does not.
	solution := b.solveCaptcha(t, p, challengeURL)
	values.Set("altcha", solution)
	if got, _ := b.post(t, target.String(), values); got.URL.Path != "/" {
		t.Fatalf("registration with a solved CAPTCHA led to %s (%d)", got.URL, got.Status)
	}
	replay := url.Values{}
	for k, v := range values {
		replay[k] = v
	}
	replay.Set("username", "otto2")
	replay.Set("email", "otto2@example.com")
	b2 := newBrowser(t, rpCallback)
	p2, _ := b2.get(t, srv.URL+"/register")
	_, fresh, _ := findForm(t, p2, "register-submit")
	replay.Set("csrf", fresh.Get("csrf"))
	if got, _ := b2.post(t, target.String(), replay); got.Status != http.StatusUnprocessableEntity {
		t.Errorf("a replayed CAPTCHA solution answered %d, want 422", got.Status)
	}
}

// TestTurnstileCaptcha: with captcha.provider turnstile the forms carry
// Cloudflare's widget (its origin allowed by the CSP) and the server checks
// the widget's token with the siteverify API, here an httptest fake.
func TestTurnstileCaptcha(t *testing.T) {
	t.Parallel()
	siteverify := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := r.URL.Path == "/turnstile/v0/siteverify" && r.PostFormValue("secret") == "turnstile-secret" &&
			r.PostFormValue("response") == "good-token"
		w.Header().Set("Content-Type", "application/json")
		if ok {
			w.Write([]byte(`{"success":true}`))
			return
		}
		w.Write([]byte(`{"success":false,"error-codes":["invalid-input-response"]}`))
	}))
	defer siteverify.Close()
	srv := startServer(t, "sqlite", func(cfg *config.Config) {
		cfg.Captcha.Provider, cfg.Captcha.SiteKey, cfg.Captcha.SecretKey = "turnstile", "site-key-123", "turnstile-secret"
		cfg.Captcha.VerifyURL = siteverify.URL
	})
	b := newBrowser(t, rpCallback)
	p, resp := b.get(t, srv.URL+"/register")
	mustContain(t, p.Body, `class="cf-turnstile" data-sitekey="site-key-123"`, "widget")
	mustContain(t, p.Body, `src="https://challenges.cloudflare.com/turnstile/v0/api.js"`, "widget script")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' https://challenges.cloudflare.com") {
		t.Errorf("CSP does not allow the widget: %s", csp)
	}
	register := func(token, name string) *page {
		p, _ := b.get(t, srv.URL+"/register")
		got, _ := b.submit(t, p, "register-submit", map[string]string{"username": name, "email": name + "@example.com",
			"password": testUserPassword, "cf-turnstile-response": token})
		return got
	}
	if got := register("bad-token", "tina"); got.Status != http.StatusUnprocessableEntity || !strings.Contains(got.Body, `id="captcha-error"`) {
		t.Errorf("a rejected token answered %d", got.Status)
	}
	if got := register("good-token", "tina"); got.URL.Path != "/" {
		t.Errorf("an accepted token led to %s (%d)", got.URL, got.Status)
	}
}

// TestCaptchaServiceUnreachable: with the hosted CAPTCHA service out of
// reach, registration says so with 503 and Retry-After instead of a bare
// 500 and creates nothing, while sign-in past the failure threshold goes
// on without the check: cutting the server off from the service must not
// lock anyone out. A wrong password is still just wrong.
func TestCaptchaServiceUnreachable(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			gone := httptest.NewServer(http.NotFoundHandler())
			gone.Close() // nothing listens there any more
			srv := startServer(t, dialect, func(cfg *config.Config) {
				cfg.Captcha.Provider, cfg.Captcha.SiteKey, cfg.Captcha.SecretKey = "turnstile", "site-key-123", "turnstile-secret"
				cfg.Captcha.VerifyURL = gone.URL
			})
			srv.createUser(t, "uma", testUserPassword)
			b := newBrowser(t, rpCallback)

			p, _ := b.get(t, srv.URL+"/register")
			got, resp := b.submit(t, p, "register-submit", map[string]string{"username": "vera", "email": "vera@example.com",
				"password": testUserPassword, "cf-turnstile-response": "token-from-the-widget"})
			if got.Status != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "60" {
				t.Errorf("registration answered %d with Retry-After %q, want 503 and 60", got.Status, resp.Header.Get("Retry-After"))
			}
			mustContain(t, got.Body, "We cannot check that you are human right now. Please try again in a minute.", "registration page")
			if _, _, err := srv.App.Identity.Accounts.Users.FindUserByLogin(t.Context(), "vera"); !errors.Is(err, identity.ErrNotFound) {
				t.Errorf("an account was created without the check: %v", err)
			}

			login := func(password string) *page {
				t.Helper()
				p, _ := b.get(t, srv.URL+"/login")
				// During an outage the widget hands out no token either.
				got, _ := b.submit(t, p, "login-submit", map[string]string{"login": "uma", "password": password})
				return got
			}
			var last *page
			for range srv.Config.Captcha.AfterFailures {
				last = login("not her password")
				mustContain(t, last.Body, "Incorrect username or password", "failed sign-in")
			}
			mustContain(t, last.Body, `class="cf-turnstile"`, "login form past the threshold")
			// Past the threshold a wrong password is still only wrong.
			mustContain(t, login("not her password either").Body, "Incorrect username or password", "wrong password during the outage")
			got = login(testUserPassword)
			if got.URL.Path != "/" || got.Status != http.StatusOK {
				t.Fatalf("sign-in with the right password during the outage led to %s (%d):\n%s", got.URL, got.Status, got.Body)
			}
			if n := len(srv.Logs.Records("captcha service unavailable: sign-in goes on without the check")); n == 0 {
				t.Error("the skipped check was not logged")
			}
			for _, r := range srv.Logs.Records("captcha service unavailable: sign-in goes on without the check") {
				if strings.Contains(fmt.Sprint(r), "turnstile-secret") {
					t.Errorf("log record shows the secret: %v", r)
				}
			}
		})
	}
}
